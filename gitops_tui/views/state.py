"""The console's in-memory copy of the management objects, updated by list and watch changes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gitops_tui.views.timefmt import parse_time

#: The kinds the console follows, by the short key used everywhere in the views.
KINDS = (
    "projects",
    "clusters",
    "secrets",
    "gitrepositories",
    "kustomizations",
    "events",
    "leases",
    "journal",
    "versions",
)
"""``versions`` holds ``{metadata: {name}, version}`` per workload cluster, read from its /version."""

#: Kinds that carry no object, only a change counter: ``progress`` (see Change) and ``helm`` (Helm's
#: storage changed on a workload cluster: the Helm pane redraws).
SIGNALS = ("progress", "helm")

#: Kinds that come from a list of the management cluster (a pane of them says "loading" until listed).
LISTED = tuple(k for k in KINDS if k != "versions")

#: Shown in an empty pane while its kinds have not been listed yet.
LOADING = "loading…"

#: Events kept in memory (a ring): older ones fall off the stream and are counted in ``events_dropped``.
MAX_EVENTS = 500


def object_key(obj: dict[str, Any]) -> tuple[str, str]:
    """Return (namespace, name) of a raw object."""
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


@dataclass(frozen=True)
class Change:
    """One list or watch change: ``kind`` is a key of KINDS, ``type`` ADDED/MODIFIED/DELETED/RESET/SYNCED.

    SYNCED says the first list of ``kind`` is in; kind ``progress`` (``obj['text']``) says what the
    console is doing before that (starting the sandbox, connecting).
    """

    kind: str
    type: str
    obj: dict[str, Any] = field(default_factory=dict)
    items: tuple[dict[str, Any], ...] = ()


class ManagementState:
    """Thread-safe store of raw management objects by kind; bumps a version on every change."""

    def __init__(self, objects: dict[str, Iterable[dict[str, Any]]] | None = None) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {k: {} for k in KINDS}
        self._events: list[dict[str, Any]] = []
        self.events_dropped = 0
        """Events that fell off the ring since the console started."""
        self.version = 0
        """Incremented on every applied change."""
        self.kind_versions: dict[str, int] = {k: 0 for k in (*KINDS, *SIGNALS)}
        """Per-kind change counters, so a pane redraws only when its kinds moved."""
        self.loaded: set[str] = set(KINDS) if objects is not None else set()
        """Kinds whose first list is in (all of them for a recorded snapshot)."""
        self.progress = ""
        """What the console is doing before the first lists arrive ('' once connected)."""
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        """The clock the effective state reads (a freeze's expiry); a recorded backend freezes it."""
        for kind, items in (objects or {}).items():
            self.apply(Change(kind=kind, type="RESET", items=tuple(items)))

    def apply(self, change: Change) -> None:
        """Apply one change under the lock."""
        with self._lock:
            self._apply(change)

    def apply_many(self, changes: Iterable[Change]) -> None:
        """Apply several changes under one lock acquisition."""
        with self._lock:
            for change in changes:
                self._apply(change)

    def _apply(self, change: Change) -> None:
        if change.kind in SIGNALS:
            if change.kind == "progress":
                self.progress = str(change.obj.get("text") or "")
            for kind in KINDS if change.kind == "progress" else (change.kind,):  # progress: every empty pane
                self.kind_versions[kind] += 1
            self.version += 1
            return
        if change.kind not in self._objects:
            return
        if change.type in ("SYNCED", "RESET"):
            self.loaded.add(change.kind)
        if change.kind == "events":
            self._apply_event(change)
        elif change.type != "SYNCED":
            store = self._objects[change.kind]
            if change.type == "RESET":
                store.clear()
                for item in change.items:
                    store[object_key(item)] = item
            elif change.type == "DELETED":
                store.pop(object_key(change.obj), None)
            else:
                store[object_key(change.obj)] = change.obj
        self.version += 1
        self.kind_versions[change.kind] += 1

    def _apply_event(self, change: Change) -> None:
        if change.type == "RESET":
            ordered = sorted(change.items, key=event_order)
            self.events_dropped += max(0, len(ordered) - MAX_EVENTS)
            self._events = ordered[-MAX_EVENTS:]
            return
        if change.type in ("DELETED", "SYNCED"):
            return  # the audit trail keeps what was seen
        key = object_key(change.obj)
        self._events = [e for e in self._events if object_key(e) != key]
        when = event_order(change.obj)
        index = len(self._events)
        while index > 0 and event_order(self._events[index - 1]) > when:
            index -= 1
        self._events.insert(index, change.obj)
        if len(self._events) > MAX_EVENTS:
            self.events_dropped += len(self._events) - MAX_EVENTS
            del self._events[: len(self._events) - MAX_EVENTS]

    def loading_text(self, kinds: Iterable[str]) -> str:
        """'' when every listed kind of ``kinds`` is in, else "loading…" and what the console is doing."""
        with self._lock:
            if all(k in self.loaded for k in kinds if k in LISTED):
                return ""
            return f"{LOADING} {self.progress}" if self.progress else LOADING

    def items(self, kind: str) -> list[dict[str, Any]]:
        """Return a sorted copy of the objects of one kind (events in time order)."""
        with self._lock:
            if kind == "events":
                return list(self._events)
            return [self._objects[kind][k] for k in sorted(self._objects[kind])]

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """Return one object or None."""
        with self._lock:
            return self._objects.get(kind, {}).get((namespace, name))

    def now(self) -> datetime:
        """The time the views compute the effective state at (``clock``)."""
        return self.clock()

    def __iter__(self) -> Iterator[str]:
        return iter(KINDS)


def event_time(event: dict[str, Any]) -> str:
    """Return the most precise timestamp of an Event, as an ISO string ('' when none)."""
    return (
        event.get("eventTime")
        or event.get("lastTimestamp")
        or (event.get("series") or {}).get("lastObservedTime")
        or event.get("firstTimestamp")
        or (event.get("metadata") or {}).get("creationTimestamp")
        or ""
    )


def event_order(event: dict[str, Any]) -> tuple[float, int, str]:
    """Sort key of an Event: its time, then its resourceVersion (same-second Events keep the order written)."""
    meta = event.get("metadata") or {}
    moment = parse_time(event_time(event))
    version = str(meta.get("resourceVersion") or "")
    return moment.timestamp() if moment else 0.0, int(version) if version.isdigit() else 0, meta.get("name") or ""
