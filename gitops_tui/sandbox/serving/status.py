"""Kubernetes Status error bodies and the ApiError exception the sandbox server raises."""

from __future__ import annotations

from typing import Any, Iterable, Protocol


class _TypeLike(Protocol):
    """What the helpers need from a resource type (catalog.ResourceType satisfies it)."""

    group: str
    plural: str
    kind: str


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    """Return a meta/v1 Status failure body as kube-apiserver writes it."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details:
        body["details"] = details
    body["code"] = code
    return body


class ApiError(Exception):
    """An API failure carrying the HTTP code, Status reason, message and optional details."""

    def __init__(self, code: int, reason: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def body(self) -> dict:
        """Return the Status body for this error."""
        return status_body(self.code, self.reason, self.message, self.details)

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.reason!r}, {self.message!r})"


def qualified_resource(rt: _TypeLike) -> str:
    """Return 'plural.group' (or 'plural' for the core group), as in API messages."""
    return f"{rt.plural}.{rt.group}" if rt.group else rt.plural


def qualified_kind(rt: _TypeLike) -> str:
    """Return 'Kind.group' (or 'Kind' for the core group), as in Invalid messages."""
    return f"{rt.kind}.{rt.group}" if rt.group else rt.kind


def _details(rt: _TypeLike, name: str, kind: str | None = None) -> dict:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if rt.group:
        details["group"] = rt.group
    details["kind"] = kind if kind is not None else rt.plural
    return details


def not_found(rt: _TypeLike, name: str) -> ApiError:
    """404 NotFound: 'deployments.apps "web" not found'."""
    return ApiError(404, "NotFound", f'{qualified_resource(rt)} "{name}" not found', _details(rt, name))


def already_exists(rt: _TypeLike, name: str) -> ApiError:
    """409 AlreadyExists: 'deployments.apps "web" already exists'."""
    return ApiError(409, "AlreadyExists", f'{qualified_resource(rt)} "{name}" already exists',
                    _details(rt, name))


def conflict(rt: _TypeLike, name: str, message: str) -> ApiError:
    """409 Conflict: 'Operation cannot be fulfilled on deployments.apps "web": <message>'."""
    text = f'Operation cannot be fulfilled on {qualified_resource(rt)} "{name}": {message}'
    return ApiError(409, "Conflict", text, _details(rt, name))


MODIFIED_MESSAGE = "the object has been modified; please apply your changes to the latest version and try again"


def stale_resource_version(rt: _TypeLike, name: str) -> ApiError:
    """409 Conflict for an update with an outdated resourceVersion."""
    return conflict(rt, name, MODIFIED_MESSAGE)


def apply_conflict(conflicts: Iterable[Any]) -> ApiError:
    """409 Conflict for server-side apply; items have .manager and .field (or are (manager, field))."""
    pairs: list[tuple[str, str]] = []
    for item in conflicts:
        if isinstance(item, tuple):
            pairs.append((str(item[0]), str(item[1])))
        else:
            pairs.append((str(item.manager), str(item.field)))
    causes = [{"reason": "FieldManagerConflict", "message": f'conflict with "{m}"', "field": f}
              for m, f in pairs]
    if len(pairs) == 1:
        message = f'Apply failed with 1 conflict: conflict with "{pairs[0][0]}": {pairs[0][1]}'
    else:
        lines: list[str] = []
        for manager in sorted({m for m, _ in pairs}):
            lines.append(f'conflicts with "{manager}":')
            lines.extend(f"- {f}" for m, f in pairs if m == manager)
        message = f"Apply failed with {len(pairs)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})


def _cause_text(cause: dict) -> str:
    field = cause.get("field", "")
    message = cause.get("message", "")
    return f"{field}: {message}" if field else message


def invalid(rt: _TypeLike, name: str, causes: list[dict]) -> ApiError:
    """422 Invalid: 'Deployment.apps "x" is invalid: metadata.name: Invalid value: ...'."""
    texts = [_cause_text(c) for c in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    message = f'{qualified_kind(rt)} "{name}" is invalid: {joined}'
    details = _details(rt, name, kind=rt.kind)
    details["causes"] = list(causes)
    return ApiError(422, "Invalid", message, details)


def strict_decoding(rt: _TypeLike, fields: list[str]) -> ApiError:
    """400 BadRequest for unknown fields under fieldValidation=Strict, worded like kube-apiserver."""
    listed = ", ".join(f'unknown field "{f}"' for f in fields)
    return ApiError(400, "BadRequest", f'{rt.kind} in version "{getattr(rt, "version", "")}" cannot be handled as a '
                                       f"{rt.kind}: strict decoding error: {listed}")


def unknown_field_warnings(fields: list[str]) -> list[str]:
    """Warning header values (299) for unknown fields under fieldValidation=Warn."""
    return [f'299 - "unknown field \\"{f}\\""' for f in fields]


def expired(message: str) -> ApiError:
    """410 Expired, e.g. 'too old resource version: 5 (120)'."""
    return ApiError(410, "Expired", message)


def unauthorized() -> ApiError:
    """401 Unauthorized."""
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(rt: _TypeLike, name: str, message: str) -> ApiError:
    """403 Forbidden: 'namespaces "x" is forbidden: <message>' (or without a name)."""
    target = f'{qualified_resource(rt)} "{name}"' if name else qualified_resource(rt)
    return ApiError(403, "Forbidden", f"{target} is forbidden: {message}", _details(rt, name))


def too_large(limit: int) -> ApiError:
    """413 RequestEntityTooLarge for a body over ``limit`` bytes."""
    return ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def unsupported_media_type(content_type: str) -> ApiError:
    """415 UnsupportedMediaType for a body in a format the endpoint does not take."""
    return ApiError(415, "UnsupportedMediaType",
                    f'the body of the request was in an unknown format - accepted media types include: '
                    f'application/json, application/yaml (got "{content_type}")')


def not_acceptable(accept: str) -> ApiError:
    """406 NotAcceptable for an Accept header the endpoint cannot satisfy."""
    return ApiError(406, "NotAcceptable",
                    f"only the following media types are accepted: application/json, application/yaml "
                    f'(got "{accept}")')


def bad_request(message: str) -> ApiError:
    """400 BadRequest with the given message."""
    return ApiError(400, "BadRequest", message)


def method_not_allowed(rt: _TypeLike | None, verb: str) -> ApiError:
    """405 MethodNotAllowed: '<verb> is not supported on resources of kind "<resource>"'."""
    resource = qualified_resource(rt) if rt is not None else ""
    details = _details(rt, "") if rt is not None else None
    return ApiError(405, "MethodNotAllowed",
                    f'{verb} is not supported on resources of kind "{resource}"', details)


def internal_error(message: str) -> ApiError:
    """500 InternalError: 'Internal error occurred: <message>'."""
    return ApiError(500, "InternalError", f"Internal error occurred: {message}",
                    {"causes": [{"message": message}]})


def page_not_found() -> ApiError:
    """404 NotFound for an unknown path, as kube-apiserver answers it."""
    return ApiError(404, "NotFound", "the server could not find the requested resource",
                    {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]})
