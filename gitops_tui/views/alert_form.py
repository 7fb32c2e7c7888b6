"""The new-alert form's request and its field-by-field checks (the same rules as `create alert`). No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitops_tui.api import alerts as al
from gitops_tui.views.forms import name_error

#: The events a new alert is told unless the operator changes them (what an on-call rotation wants first).
DEFAULT_EVENTS = ("failure", "recovery", "rollout", "break-glass")


@dataclass
class AlertRequest:
    """What the new-alert form asks for; the secret value leaves this object only to the API."""

    project: str
    name: str = ""
    format: str = al.FORMAT_GENERIC
    url: str = ""
    events: list[str] = field(default_factory=list)
    secret: str = ""
    """An existing Secret of the project's namespace whose ``token`` key signs (or authorizes)."""
    secret_value: str = field(default="", repr=False)
    """A value for a new Secret ``<alert>-alert-token`` (never shown, logged or journaled)."""


def validate_alert(req: AlertRequest, known_alerts: set[str]) -> dict[str, str]:
    """An error message per invalid field ({} when the request may be sent); never echoes the secret value."""
    errors: dict[str, str] = {}
    if (err := name_error(req.name)) is not None:
        errors["name"] = err
    elif req.name in known_alerts:
        errors["name"] = f"Project {req.project} has an alert named {req.name} already."
    if req.format not in al.FORMATS:
        errors["format"] = f"Choose one of {', '.join(al.FORMATS)}."
    else:
        problem = al.check("probe", req.format, req.url, [al.EVENT_KINDS[0]])
        if problem:
            errors["url"] = problem[:1].upper() + problem[1:] + "."
    if not req.events:
        errors["events"] = "Choose at least one kind of event."
    elif unknown := [e for e in req.events if e not in al.EVENT_KINDS]:
        errors["events"] = f"Unknown event kind: {', '.join(unknown)}."
    if req.secret and req.secret_value:
        errors["secret_value"] = "Choose a secret above or type a value here, not both."
    elif req.secret_value and not req.secret_value.strip():
        errors["secret_value"] = "The secret value is blank."
    return errors


def refused_alert_field(message: str) -> str:
    """The form field a refusal from the management side is about (the URL for an address apprise refuses)."""
    lowered = message.lower()
    for key, words in (("secret_value", ("secret value", "secret's")), ("secret", ("secret",)),
                       ("events", ("event",)), ("format", ("format",)),
                       ("url", ("url", "address", "://", "webhook", "apprise"))):
        if any(word in lowered for word in words):
            return key
    return "name"
