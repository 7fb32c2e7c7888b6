"""Alerts: objects in a project's namespace telling a chat or a webhook what the reconciler did. No I/O.

An Alert (``gitops-tui.io/v1alpha1``, namespaced, in the project's namespace) is Flux's Alert and Provider in one
object: ``spec = {format, address, events, secretRef, suspend}``. ``format`` is one of ``FORMATS`` (Flux's provider
``type``), ``address`` the URL posted to (Flux's ``spec.address``), ``events`` the event kinds it is told
(``EVENT_KINDS``; Flux's ``eventSources``/``inclusionList`` reduced to what an operator asks for), ``secretRef`` a
Secret of the namespace whose ``token`` key signs a ``generic`` body (Flux's generic-hmac). A project member may
write its Alerts: the address is tenant input, posted to only through the operator's fetch allow-list.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from gitops_tui.api import names
from gitops_tui.api.crd_skeleton import crd_manifest, typed_object

KIND_ALERT = names.KIND_ALERT
PLURAL_ALERTS = names.PLURAL_ALERTS
FORMAT_GENERIC = "generic"
FORMATS = ("generic", "slack", "msteams", "apprise", "github-status", "gitlab-status")
#: Formats sent through the apprise library (chat); the generic webhook and forge statuses are ours.
APPRISE_FORMATS = ("slack", "msteams", "apprise")
#: Commit statuses on the forge: told ``applied`` (every apply to a cluster), ``failure`` and ``recovery`` always.
FORGE_FORMATS = ("github-status", "gitlab-status")
FORGE_KINDS = ("applied", "failure", "recovery")
EVENT_KINDS = ("failure", "recovery", "drift", "freeze", "expiry", "rollout", "break-glass")
#: The Secret key holding the HMAC key of a generic alert (Flux's generic-hmac Provider reads ``token``).
SECRET_TOKEN_KEY = "token"
SIGNATURE_HEADER = "X-Signature"
REASON_DELIVERY_FAILED = "AlertDeliveryFailed"
#: The Event reason a halted rollout is told with (the rollout branch emits it; alerts map it to ``rollout``).
REASON_ROLLOUT_HALTED = "RolloutHalted"
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

#: Event reasons mapped to the kind of alert they raise (everything else Warning about a source is a failure).
REASON_KINDS: dict[str, str] = {
    "DriftDetected": "drift", "DriftCorrected": "drift",
    "FreezeExpired": "expiry", "WindowOpened": "freeze", "Suspended": "freeze", "FreezeExtended": "freeze",
    "BreakGlassRequested": "break-glass", "BreakGlassApplied": "break-glass", "BreakGlassFailed": "break-glass",
    REASON_ROLLOUT_HALTED: "rollout",
}
#: Warnings that are not a failure of the source (told elsewhere, or a member's write that changed nothing).
NOT_FAILURES = frozenset({"MemberWriteIgnored", REASON_DELIVERY_FAILED, "WindowClosed"})
#: Normal reasons that end a failure of the same source and cluster (a recovery).
RECOVERY_REASONS = frozenset({"Applied", "ReconciliationSucceeded", "Propagated"})
SOURCE_KINDS = frozenset({names.KIND_FEDERATED_KUSTOMIZATION, names.KIND_FEDERATED_GIT_REPOSITORY})


def classify(involved_kind: str, type_: str, reason: str) -> str | None:
    """The alert kind an Event raises (``failure``, ``drift``, ...), None when it raises none (recovery is the
    dispatcher's: it needs the failure before)."""
    kind = REASON_KINDS.get(reason)
    if kind:
        return kind
    if type_ == "Warning" and involved_kind in SOURCE_KINDS and reason not in NOT_FAILURES:
        return "failure"
    return None


@dataclass(frozen=True)
class Alert:
    """One Alert object, as a reader needs it."""

    name: str
    namespace: str
    format: str
    address: str
    events: tuple[str, ...]
    secret: str = ""
    suspend: bool = False

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Alert:
        """Read an Alert object (unknown or missing fields become empty)."""
        meta, spec = raw.get("metadata") or {}, raw.get("spec") or {}
        return cls(str(meta.get("name") or ""), str(meta.get("namespace") or ""), str(spec.get("format") or ""),
                   str(spec.get("address") or ""), tuple(str(e) for e in spec.get("events") or ()),
                   str((spec.get("secretRef") or {}).get("name") or ""), bool(spec.get("suspend")))

    def wants(self, kind: str) -> bool:
        """Whether this alert is told events of ``kind`` (a forge status is told every apply, failure, recovery)."""
        if self.suspend:
            return False
        return kind in self.events or (self.format in FORGE_FORMATS and kind in FORGE_KINDS)

    def shown_address(self) -> str:
        """The address as every surface shows it: scheme and host only (a webhook's path is often its secret)."""
        return shown_address(self.address)


def shown_address(url: str) -> str:
    """``https://hooks.slack.com/…``: the scheme and host of a URL, never its path, query or userinfo."""
    parts = urlsplit(url)
    host = (parts.hostname or "") + (f":{parts.port}" if _port(parts) else "")
    return f"{parts.scheme}://{host}/…" if parts.scheme and host else f"{parts.scheme or 'url'}://…"


def _port(parts: Any) -> int | None:
    try:
        return parts.port
    except ValueError:
        return None


def check(name: str, format_: str, address: str, events: list[str]) -> str | None:
    """One sentence saying what is wrong with an alert's fields, None when they are fine."""
    if not NAME.match(name or ""):
        return f"alert name {name!r} must be a DNS-1123 label (lower-case letters, digits and '-', at most 63)"
    if format_ not in FORMATS:
        return f"alert format {format_!r} is not one of {', '.join(FORMATS)}"
    if format_ in FORGE_FORMATS and len(urlsplit(address).path.strip("/").split("/")) < 2:
        return f"a {format_} alert's URL is the repository's web URL (https://host/owner/repo)"
    if not address.strip():
        return "an alert needs a URL (--url)"
    if format_ != "apprise" and urlsplit(address).scheme not in ("https", "http"):
        return f"a {format_} alert posts to an http(s) URL, not {shown_address(address)}"
    unknown = [e for e in events if e not in EVENT_KINDS]
    if unknown or not events:
        return (f"alert events {', '.join(unknown)} are not known" if unknown else "an alert needs events") + \
            f" (choose among {', '.join(EVENT_KINDS)})"
    return None


def new_alert(name: str, namespace: str, format_: str, address: str, events: list[str], secret: str = "",
              project: str = "") -> dict[str, Any]:
    """The Alert object to create."""
    spec: dict[str, Any] = {"format": format_, "address": address, "events": list(events)}
    if secret:
        spec["secretRef"] = {"name": secret}
    labels = {names.LABEL_PROJECT: project} if project else {}
    return {"apiVersion": names.PROJECT_API_VERSION, "kind": KIND_ALERT,
            "metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": spec}


@dataclass
class AlertEvent:
    """What happened, as an alert tells it: one event of one source (or project) on some clusters."""

    kind: str
    project: str
    namespace: str
    source: str
    clusters: list[str]
    revision: str
    reason: str
    message: str
    who: str
    time: str
    severity: str = "info"
    repeats: int = 0
    involved: dict[str, str] = field(default_factory=dict)

    def journal_link(self) -> str:
        """The command that shows this event's journal entries (the journal is the console's and the CLI's)."""
        target = f" --source {self.source}" if self.source else ""
        return f"gitops-tui journal -p {self.project}{target}"

    def title(self) -> str:
        """One line: ``[failure] demo/web on dev: ReconciliationFailed``."""
        where = f" on {', '.join(self.clusters)}" if self.clusters else ""
        what = f"{self.project}/{self.source}" if self.source else self.project
        again = f" (and {self.repeats} more in the last minute)" if self.repeats else ""
        return f"[{self.kind}] {what}{where}: {self.reason}{again}"


def generic_payload(event: AlertEvent) -> dict[str, Any]:
    """The JSON a ``generic`` alert posts: our fields, plus Flux's event fields (involvedObject, severity,
    timestamp, reason, message, metadata, reportingController) so a Flux receiver reads it too."""
    return {
        "kind": event.kind, "project": event.project, "source": event.source, "clusters": list(event.clusters),
        "revision": event.revision, "reason": event.reason, "message": event.message, "who": event.who,
        "time": event.time, "journal": event.journal_link(), "repeats": event.repeats,
        "severity": event.severity, "timestamp": event.time, "involvedObject": dict(event.involved),
        "metadata": {"revision": event.revision, "project": event.project, "clusters": ",".join(event.clusters)},
        "reportingController": names.FIELD_MANAGER,
    }


def encode(payload: dict[str, Any]) -> bytes:
    """The body bytes (sorted keys, so a receiver's signature check and a test see the same bytes)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def signature(body: bytes, key: bytes) -> str:
    """``sha256=<hex>``: the HMAC-SHA256 of the body with the key, as Flux's generic-hmac provider signs."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def alert_crd() -> dict[str, Any]:
    """The Alert CRD manifest (namespaced, in each project's namespace)."""
    string: dict[str, Any] = {"type": "string"}
    spec = {"type": "object", "required": ["format", "address", "events"], "properties": {
        "format": {"type": "string", "enum": list(FORMATS)},
        "address": {"type": "string", "maxLength": 2048},
        "events": {"type": "array", "items": {"type": "string", "enum": list(EVENT_KINDS)}},
        "secretRef": {"type": "object", "properties": {"name": string}},
        "suspend": {"type": "boolean"}}}
    columns = [{"name": "Format", "type": "string", "jsonPath": ".spec.format"},
               {"name": "Events", "type": "string", "jsonPath": ".spec.events"},
               {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
    return crd_manifest(names.PROJECT_GROUP, names.PROJECT_VERSION, KIND_ALERT, PLURAL_ALERTS, schema=typed_object(spec),
                        columns=columns, categories=["gitops-tui"],
                        labels={"app.kubernetes.io/managed-by": names.FIELD_MANAGER}, status=False)
