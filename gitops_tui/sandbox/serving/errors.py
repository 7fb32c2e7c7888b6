"""API errors of the sandbox server: the one ApiError, its helpers, and byte-exact metav1.Status bodies."""

from __future__ import annotations

import json
from typing import Any, Protocol

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    500: "InternalError",
    503: "ServiceUnavailable",
}
_DETAIL_ORDER = ("name", "group", "kind", "uid", "causes", "retryAfterSeconds")
_GO_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


class TypeLike(Protocol):
    """What the helpers need from a resource type (catalog.ResourceType satisfies it); read-only."""

    @property
    def group(self) -> str: ...
    @property
    def plural(self) -> str: ...
    @property
    def kind(self) -> str: ...


def go_json(value: Any) -> bytes:
    """``value`` encoded as Go's json.Encoder writes it (compact, HTML-safe escapes, trailing newline)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for raw, escaped in _GO_ESCAPES:
        if raw in text:
            text = text.replace(raw, escaped)
    return (text + "\n").encode("utf-8")


class ApiError(Exception):
    """An error answered as a Status body with an HTTP code, a reason and optional details.

    ``reason`` "" leaves the reason out of the body, as kube-apiserver does for plain errors (500s).
    """

    def __init__(
        self,
        code: int,
        message: str,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = _REASONS.get(code, "Unknown") if reason is None else reason
        self.details = details

    def status(self) -> dict[str, Any]:
        """Return the metav1.Status body for this error."""
        return status_body(self.code, self.message, self.reason, self.details)

    def encoded(self) -> bytes:
        """The Status body as the bytes kube-apiserver sends (field order, escapes, trailing newline)."""
        return go_json(self.status())

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.message!r}, {self.reason!r})"


def _ordered_details(details: dict[str, Any]) -> dict[str, Any]:
    out = {key: details[key] for key in _DETAIL_ORDER if details.get(key) not in (None, "", [])}
    if "causes" in out:
        out["causes"] = [_ordered_cause(c) for c in out["causes"]]
    return out


def _ordered_cause(cause: dict[str, Any]) -> dict[str, Any]:
    """A StatusCause in Go's field order (reason, message, field), empty members left out."""
    reason = cause.get("reason") or cause.get("type")
    return {k: v for k, v in (("reason", reason), ("message", cause.get("message")),
                              ("field", cause.get("field"))) if v}


def status_body(
    code: int, message: str, reason: str = "", details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return a metav1.Status body (Failure unless ``code`` is 2xx) in kube-apiserver's field order."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if 200 <= code < 300 else "Failure",
    }
    if message:
        body["message"] = message
    if reason:
        body["reason"] = reason
    ordered = _ordered_details(details) if details else {}
    if ordered:
        body["details"] = ordered
    body["code"] = code
    return body


def _details(name: str, group: str, kind: str, causes: list[dict] | None = None) -> dict:
    return {"name": name, "group": group, "kind": kind, "causes": causes}


def qualified_resource(group: str, plural: str) -> str:
    """'plural.group' (or 'plural' for the core group), as in API messages."""
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    """404 NotFound: 'deployments.apps "web" not found'."""
    return ApiError(404, f'{qualified_resource(group, plural)} "{name}" not found', "NotFound",
                    _details(name, group, plural))


def already_exists(group: str, plural: str, name: str) -> ApiError:
    """409 AlreadyExists: 'deployments.apps "web" already exists'."""
    return ApiError(409, f'{qualified_resource(group, plural)} "{name}" already exists', "AlreadyExists",
                    _details(name, group, plural))


def conflict(group: str, plural: str, name: str, why: str) -> ApiError:
    """409 Conflict: 'Operation cannot be fulfilled on deployments.apps "web": <why>'."""
    return ApiError(409, f'Operation cannot be fulfilled on {qualified_resource(group, plural)} "{name}": {why}',
                    "Conflict", _details(name, group, plural))


def stale(group: str, plural: str, name: str) -> ApiError:
    """409 Conflict for a stale resourceVersion precondition."""
    return conflict(group, plural, name,
                    "the object has been modified; please apply your changes to the latest version and try again")


def cause_text(cause: dict) -> str:
    """One field error as kube-apiserver prints it: '<field>: <message>' (or the message alone)."""
    field = cause.get("field", "")
    message = cause.get("message", "")
    return f"{field}: {message}" if field else message


def invalid(rt: TypeLike | None, name: str, causes: list[dict]) -> ApiError:
    """422 Invalid: 'Deployment.apps "web" is invalid: <cause>' or '... is invalid: [<cause>, <cause>]'.

    ``rt`` None gives the empty GroupKind kube-apiserver uses for a bad patch (' "" is invalid: ...').
    """
    kind, group = (rt.kind, rt.group) if rt is not None else ("", "")
    qualified = f"{kind}.{group}" if group else kind
    texts = [cause_text(c) for c in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    message = f'{qualified} "{name}" is invalid'
    if texts:
        message += f": {joined}"
    return ApiError(422, message, "Invalid", _details(name, group, kind, list(causes)))


def cannot_handle(kind: str, version: str, detail: str) -> ApiError:
    """400 BadRequest of a body the decoder refuses: '<Kind> in version "v1" cannot be handled as a <Kind>: ...'."""
    return ApiError(400, f'{kind} in version "{version}" cannot be handled as a {kind}: {detail}', "BadRequest")


def strict_decoding_detail(fields: list[str]) -> str:
    """'strict decoding error: unknown field "a", unknown field "b"' (runtime.NewStrictDecodingError)."""
    return "strict decoding error: " + ", ".join(f'unknown field "{f}"' for f in fields)


def warning_header(texts: list[str]) -> str:
    """The value of a Warning header carrying ``texts`` (code 299, agent '-'), as kube-apiserver sends them."""
    return ", ".join('299 - ' + json.dumps(text) for text in texts)


def page_not_found() -> ApiError:
    """404 for a path nothing is served at, as kube-apiserver answers it."""
    return ApiError(404, "the server could not find the requested resource", "NotFound",
                    {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]})


def method_not_allowed() -> ApiError:
    """405 for a method a path does not take, as kube-apiserver answers it."""
    return ApiError(405, "the server does not allow this method on the requested resource", "MethodNotAllowed",
                    {"causes": [{"reason": "UnexpectedServerResponse", "message": "405: Method Not Allowed"}]})


def bad_request(message: str) -> ApiError:
    """400 BadRequest with the given message."""
    return ApiError(400, message, "BadRequest")


def expired(message: str) -> ApiError:
    """410 Expired, e.g. 'too old resource version: 5 (120)'."""
    return ApiError(410, message, "Expired")


def internal(message: str) -> ApiError:
    """A plain server error (500, no reason), as kube-apiserver answers an error that is not a Status."""
    return ApiError(500, message, "")
