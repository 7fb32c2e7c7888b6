"""API errors of the sandbox server and their metav1.Status bodies."""

from __future__ import annotations

from typing import Any

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


class ApiError(Exception):
    """An error answered as a Status body with an HTTP code, a reason and optional details."""

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
        self.reason = reason or _REASONS.get(code, "Unknown")
        self.details = details

    def status(self) -> dict[str, Any]:
        """Return the metav1.Status body for this error."""
        return status_body(self.code, self.message, self.reason, self.details)


def status_body(
    code: int, message: str, reason: str = "", details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return a metav1.Status body (Failure unless ``code`` is 2xx)."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success" if 200 <= code < 300 else "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    if not reason:
        body.pop("reason")
    return body


def _details(name: str, group: str, plural: str, causes: list[dict] | None = None) -> dict:
    details: dict[str, Any] = {"name": name, "group": group, "kind": plural}
    if not group:
        details.pop("group")
    if causes:
        details["causes"] = causes
    return details


def _resource(group: str, plural: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    """Return the NotFound error for one object."""
    return ApiError(
        404, f'{_resource(group, plural)} "{name}" not found', "NotFound", _details(name, group, plural)
    )


def already_exists(group: str, plural: str, name: str) -> ApiError:
    """Return the AlreadyExists error for one object."""
    return ApiError(
        409,
        f'{_resource(group, plural)} "{name}" already exists',
        "AlreadyExists",
        _details(name, group, plural),
    )


def conflict(group: str, plural: str, name: str, why: str) -> ApiError:
    """Return a 409 Conflict error for one object."""
    return ApiError(
        409,
        f'Operation cannot be fulfilled on {_resource(group, plural)} "{name}": {why}',
        "Conflict",
        _details(name, group, plural),
    )


def stale(group: str, plural: str, name: str) -> ApiError:
    """Return the 409 Conflict for a stale resourceVersion precondition."""
    return conflict(
        group,
        plural,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
    )


def invalid(kind: str, group: str, name: str, causes: list[dict]) -> ApiError:
    """Return the 422 Invalid error listing ``causes`` ({reason, message, field})."""
    summary = "; ".join(
        f"{c.get('field', '')}: {c.get('message', '')}".lstrip(": ") for c in causes
    )
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": causes}
    if group:
        details["group"] = group
    return ApiError(422, f'{kind} "{name}" is invalid: {summary}', "Invalid", details)


def bad_request(message: str) -> ApiError:
    """Return a 400 BadRequest error."""
    return ApiError(400, message, "BadRequest")


def expired(message: str) -> ApiError:
    """Return the 410 Expired error for a too-old resourceVersion."""
    return ApiError(410, message, "Expired")
