"""Why a console is read-only when it was not asked to be: no write access to the management cluster."""

from __future__ import annotations

#: Shown in the header when the access review says no.
NO_WRITE_ACCESS = "no write access"
#: Shown in the header when a write came back 403.
WRITE_REFUSED = "write refused (HTTP 403)"


def is_forbidden(exc: BaseException) -> bool:
    """True when an operation failed because the management cluster refused this identity (HTTP 403)."""
    return getattr(exc, "status", None) == 403 or "(HTTP 403)" in str(exc)


def read_only_notice(reason: str) -> str:
    """The one-sentence notification when the console turns read-only by itself."""
    detail = " (it answered a write with HTTP 403)" if reason == WRITE_REFUSED else ""
    return (f"Read-only: this identity cannot write to the management cluster{detail}; "
            "viewing works, changes and the embedded reconciler are off.")
