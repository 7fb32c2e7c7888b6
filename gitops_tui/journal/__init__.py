"""The journal: every operator action and automatic correction, as JournalEntry objects in the management cluster.

``record`` never raises: a failed write is logged and passed to the failure listeners (the CLI prints it
on stderr, the console shows a notification); the action it describes stands.
"""

from __future__ import annotations

import logging
import secrets as _random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gitops_tui.api import names
from gitops_tui.api.journal_crd import JOURNAL_API_VERSION, KIND_JOURNAL_ENTRY, LABEL_DAY, journal_path
from gitops_tui.util.observers import Observers

if TYPE_CHECKING:  # pragma: no cover - the console's panes import Entry before the kubernetes client loads
    from kubernetes.client import ApiClient

__all__ = ["ACTIONS", "RETENTION_DAYS", "Entry", "add_failure_listener", "list_entries", "prune", "record"]

log = logging.getLogger(__name__)

#: The action names the journal knows (operator actions first, then the reconciler's corrections).
ACTIONS = ("create", "delete", "suspend", "resume", "expiry", "pin", "unpin", "break-glass", "reconcile",
           "secret-change", "drift-corrected", "prune", "pin-released")
#: Entries older than this many days are pruned.
RETENTION_DAYS = 30
#: At most this many characters of a reason and of each object name are kept.
MAX_REASON = 1024
MAX_OBJECTS = 200
#: Seconds a journal write may take before it is given up (the action never waits longer).
WRITE_TIMEOUT = 5.0
_PRUNE_EVERY = timedelta(hours=1)
_listeners: Observers[[str]] = Observers("journal failure listener")
_state = {"last_prune": datetime.min.replace(tzinfo=UTC)}
_lock = threading.Lock()


@dataclass(frozen=True)
class Entry:
    """One journal entry, as read back."""

    time: str
    action: str
    actor: str
    reason: str = ""
    project: str = ""
    source: str = ""
    clusters: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    name: str = ""
    identity: dict[str, Any] = field(default_factory=dict)
    """Who the API server saw write the entry (SelfSubjectReview: user, groups, verified), or, for a member's own
    write the reconciler found, the field manager or annotation it names (verified False)."""
    ssh: str = ""
    """The SSH client address of the operator's session ('' when local or not an operator's action)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> Entry:
        """Read an entry from a JournalEntry object."""
        spec = obj.get("spec") or {}
        return cls(time=str(spec.get("time") or ""), action=str(spec.get("action") or ""),
                   actor=str(spec.get("actor") or ""), reason=str(spec.get("reason") or ""),
                   project=str(spec.get("project") or ""), source=str(spec.get("source") or ""),
                   clusters=[str(c) for c in spec.get("clusters") or []],
                   objects=[str(o) for o in spec.get("objects") or []],
                   name=str((obj.get("metadata") or {}).get("name") or ""),
                   identity=dict(spec.get("identity") or {}) if isinstance(spec.get("identity"), dict) else {},
                   ssh=str(spec.get("ssh") or ""))


def add_failure_listener(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call ``listener(message)`` when a journal write fails; return a function that removes it."""
    return _listeners.add(listener)


def _now() -> datetime:
    return datetime.now(UTC)


def _entry_object(now: datetime, action: str, actor: str, reason: str, project: str, source: str,
                  clusters: Sequence[str], objects: Sequence[str], identity: dict[str, Any] | None = None,
                  ssh: str = "") -> dict[str, Any]:
    stamp = now.strftime("%Y%m%d-%H%M%S-%f")
    labels = {LABEL_DAY: now.strftime("%Y%m%d")}
    if project:
        labels[names.LABEL_PROJECT] = project[:63]
    spec: dict[str, Any] = {"time": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "action": action,
                            "actor": actor or "unknown"}
    for key, value in (("reason", reason[:MAX_REASON]), ("project", project), ("source", source), ("ssh", ssh)):
        if value:
            spec[key] = value
    if identity:
        spec["identity"] = {k: v for k, v in identity.items() if v not in (None, "", [])}
    if clusters:
        spec["clusters"] = list(dict.fromkeys(str(c) for c in clusters))  # as given: the placement order
    if objects:
        kept = [str(o)[:300] for o in objects][:MAX_OBJECTS]
        spec["objects"] = kept + ([f"and {len(objects) - MAX_OBJECTS} more"] if len(objects) > MAX_OBJECTS else [])
    return {"apiVersion": JOURNAL_API_VERSION, "kind": KIND_JOURNAL_ENTRY,
            "metadata": {"name": f"j-{stamp}-{_random.token_hex(3)}", "namespace": names.SYSTEM_NAMESPACE,
                         "labels": labels},
            "spec": spec}


def record(api: ApiClient, *, action: str, actor: str, reason: str = "", project: str = "", source: str = "",
           clusters: Sequence[str] = (), objects: Sequence[str] = (), identity: dict[str, Any] | None = None,
           ssh: str = "") -> None:
    """Record one action in the journal; never raises (a failure is logged and shown through the listeners).

    ``objects`` are names ("Deployment apps/podinfo", or a secret's keys), never values. ``identity`` defaults to who
    the API server says ``api`` is (SelfSubjectReview); ``actor`` and ``ssh`` are what the process claims.
    """
    from kubernetes.client.exceptions import ApiException

    from gitops_tui.kube.client import json_request
    from gitops_tui.kube.whoami import who_am_i

    try:
        now = _now()
        body = _entry_object(now, action, actor, reason, project, source, clusters, objects,
                             identity if identity is not None else who_am_i(api), ssh)
        try:
            json_request(api, "POST", journal_path(), body, timeout=WRITE_TIMEOUT)
        except ApiException as exc:
            if exc.status != 404:
                raise
            _install(api)  # an older management cluster: the journal's CRD is not there yet
            json_request(api, "POST", journal_path(), body, timeout=WRITE_TIMEOUT)
        _maybe_prune(api, now)
    except Exception as exc:  # noqa: BLE001 - a journal write never fails the action it describes
        detail = f"HTTP {exc.status}" if isinstance(exc, ApiException) else type(exc).__name__
        message = f"the journal could not record {action!r} ({detail}); the action itself was done"
        log.warning(message)
        _listeners.notify(message)


def _install(api: ApiClient) -> None:
    """Install the JournalEntry CRD and the system namespace, and wait until entries are served."""
    from kubernetes.client.exceptions import ApiException

    from gitops_tui.kube.client import json_request
    from gitops_tui.kube.management_api import ensure_management_api

    ensure_management_api(api)
    deadline = time.monotonic() + 10
    while True:
        try:
            json_request(api, "GET", journal_path(), query={"limit": "1"})
            return
        except ApiException as exc:
            if exc.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _maybe_prune(api: ApiClient, now: datetime) -> None:
    with _lock:
        if now - _state["last_prune"] < _PRUNE_EVERY:
            return
        _state["last_prune"] = now
    prune(api, now)


def prune(api: ApiClient, now: datetime | None = None, days: int = RETENTION_DAYS) -> int:
    """Delete the entries older than ``days`` days; return how many went."""
    from kubernetes.client.exceptions import ApiException

    from gitops_tui.kube.client import json_request

    now = now or _now()
    cutoff = now - timedelta(days=days)
    listed = json_request(api, "GET", journal_path())
    removed = 0
    for obj in listed.get("items") or []:
        entry = Entry.from_object(obj)
        when = _parse(entry.time)
        if when is not None and when < cutoff:
            try:
                json_request(api, "DELETE", journal_path(entry.name))
                removed += 1
            except ApiException as exc:
                if exc.status != 404:
                    raise
    return removed


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _days(since: datetime, now: datetime) -> list[str]:
    days, day = [], since.date()
    while day <= now.date():
        days.append(day.strftime("%Y%m%d"))
        day += timedelta(days=1)
    return days


def list_entries(api: ApiClient, since: datetime | None = None, project: str = "",
                 now: datetime | None = None) -> list[Entry]:
    """Return the entries (oldest first), those at or after ``since`` and of ``project`` when given."""
    from kubernetes.client.exceptions import ApiException

    from gitops_tui.kube.client import json_request

    now = now or _now()
    selector = []
    if since is not None and (now - since) <= timedelta(days=RETENTION_DAYS + 1):
        selector.append(f"{LABEL_DAY} in ({','.join(_days(since, now))})")
    if project:
        selector.append(f"{names.LABEL_PROJECT}={project}")
    query = {"labelSelector": ",".join(selector)} if selector else None
    try:
        listed = json_request(api, "GET", journal_path(), query=query)
    except ApiException as exc:
        if exc.status == 404:
            return []  # the journal's CRD is not installed yet: nothing was recorded
        raise
    entries = [Entry.from_object(obj) for obj in listed.get("items") or []]
    if since is not None:
        entries = [e for e in entries if (_parse(e.time) or now) >= since]
    return sorted(entries, key=lambda e: (e.time, e.name))
