"""Send one alert message: the signed generic webhook (ours), chat through the apprise library; the allow-list first.

``generic`` posts our JSON with ``X-Signature: sha256=<HMAC-SHA256 of the body>`` (Flux's generic-hmac) through
``kube/pinned_http.post``: checked by the operator's FetchPolicy and connected to the checked address. ``slack``,
``msteams`` and ``apprise`` go through apprise (https://github.com/caronc/apprise), which knows each service's
documented payload: ``slack`` takes Slack's incoming-webhook URL, ``msteams`` a Teams Workflows (Power Automate)
webhook URL (Microsoft retired Office 365 connectors; apprise 1.9+ dropped them), ``apprise`` any apprise URL. A
plugin that posts to a host its URL names (``json://``, ``matrix://``, a Workflows host, ...) is checked against the
allow-list by that host; a vendor's webhook URL (Slack's) is checked as written; apprise then connects itself (a
second name lookup: the allow-list's address pinning holds for the generic webhook only). Errors name the scheme and host only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gitops_tui.api import alerts as al
from gitops_tui.kube import pinned_http
from gitops_tui.kube.outbound import FetchPolicy, FetchRefused
from gitops_tui.redact import scrub_url

log = logging.getLogger(__name__)
#: apprise logs the URLs it cannot parse or reach, and a webhook URL's path is its secret: only our sentences are logged.
logging.getLogger("apprise").setLevel(logging.CRITICAL)
TIMEOUT = 10.0


@dataclass
class DeliveryFailed(Exception):
    """A message that did not arrive: ``message`` one sentence (no secret, no URL path); ``retry`` whether trying
    again may help (network errors, 5xx, 429), unlike a refusal by the allow-list or a 4xx."""

    message: str
    retry: bool = True

    def __str__(self) -> str:
        """The sentence."""
        return self.message


def deliver(alert: al.Alert, event: al.AlertEvent, token: bytes | None, policy: FetchPolicy) -> None:
    """Send ``event`` to ``alert``'s address in its format; DeliveryFailed when it did not arrive."""
    if alert.format == al.FORMAT_GENERIC:
        _post_generic(alert, event, token, policy)
    elif alert.format in al.APPRISE_FORMATS:
        _send_apprise(alert, event, policy)
    elif alert.format in al.FORGE_FORMATS:
        from gitops_tui.reconciler.alert_forge import set_status

        set_status(alert, event, token, policy)
    else:
        raise DeliveryFailed(f"alert {alert.name}: format {alert.format} is not delivered yet", retry=False)


def _refused(alert: al.Alert, exc: FetchRefused) -> DeliveryFailed:
    """The allow-list's sentence with the address shown as scheme and host only."""
    text = exc.message.replace(scrub_url(alert.address), alert.shown_address())
    return DeliveryFailed(f"alert {alert.name}: {text}", retry=False)


def _post_generic(alert: al.Alert, event: al.AlertEvent, token: bytes | None, policy: FetchPolicy) -> None:
    body = al.encode(al.generic_payload(event))
    headers = {"Content-Type": "application/json"}
    if token:
        headers[al.SIGNATURE_HEADER] = al.signature(body, token)
    try:
        status = pinned_http.post(policy, alert.address, f"alert {alert.name}", body, headers, timeout=TIMEOUT)
    except FetchRefused as exc:
        raise _refused(alert, exc) from None
    except pinned_http.FetchFailed as exc:
        raise DeliveryFailed(f"alert {alert.name}: {exc.message}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"alert {alert.name}: {alert.shown_address()} answered HTTP {status}",
                             retry=status >= 500 or status == 429)


def apprise_target(address: str, policy: FetchPolicy) -> object:
    """The apprise plugin for ``address``, once the allow-list lets its endpoint through; DeliveryFailed else."""
    import apprise

    plugin = apprise.Apprise.instantiate(address)
    if plugin is None:
        raise DeliveryFailed(f"{al.shown_address(address)} is not a URL apprise knows (https://appriseit.com)",
                             retry=False)
    host = str(getattr(plugin, "host", "") or "")
    plain = bool(getattr(type(plugin), "protocol", None))
    if plain or "." in host or ":" in host or host == "localhost":  # it posts to a host its URL names
        scheme = "https" if getattr(plugin, "secure", False) or not plain else "http"
        port = getattr(plugin, "port", None)
        policy.check(f"{scheme}://{host}{f':{port}' if port else ''}/", "the alert's endpoint")
    elif address.startswith(("https://", "http://")):  # a vendor's webhook URL: check it as written
        policy.check(address, "the alert's endpoint")
    return plugin


#: The apprise plugin each chat format must resolve to (``apprise`` takes any).
PLUGINS = {"slack": "NotifySlack", "msteams": "NotifyWorkflows"}


def address_problem(format_: str, address: str) -> str | None:
    """One sentence when a chat format's address is not what apprise knows for it (None: fine, or not chat)."""
    if format_ not in al.APPRISE_FORMATS:
        return None
    import apprise

    plugin = apprise.Apprise.instantiate(address)
    wanted = PLUGINS.get(format_)
    if plugin is None and not wanted:
        return f"{al.shown_address(address)} is not a URL apprise knows (https://appriseit.com)"
    if wanted and type(plugin).__name__ != wanted:
        kind = "a Slack incoming-webhook URL (https://hooks.slack.com/services/...)" if format_ == "slack" else \
            "a Teams Workflows webhook URL (https://<host>.logic.azure.com/workflows/.../invoke)"
        return f"a {format_} alert needs {kind}, not {al.shown_address(address)}"
    return None


def _send_apprise(alert: al.Alert, event: al.AlertEvent, policy: FetchPolicy) -> None:
    import apprise

    problem = address_problem(alert.format, alert.address)
    if problem:
        raise DeliveryFailed(f"alert {alert.name}: {problem}", retry=False)
    try:
        plugin = apprise_target(alert.address, policy)
    except FetchRefused as exc:
        raise _refused(alert, exc) from None
    except DeliveryFailed as exc:
        raise DeliveryFailed(f"alert {alert.name}: {exc.message}", retry=False) from None
    notify_type = apprise.NotifyType.FAILURE if event.severity == "error" else apprise.NotifyType.INFO
    body = f"{event.message}\nrevision: {event.revision or '-'} · by {event.who} · {event.time}\n" \
           f"journal: {event.journal_link()}"
    try:
        sent = plugin.notify(body=body, title=event.title(), notify_type=notify_type)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - a plugin's failure is a failed delivery, never the worker's
        raise DeliveryFailed(f"alert {alert.name}: {alert.shown_address()} failed ({type(exc).__name__})") from None
    if not sent:
        raise DeliveryFailed(f"alert {alert.name}: {alert.shown_address()} did not accept the message")
