"""A shared informer: list then watch one resource, keep a local cache, tell the controllers what changed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from gitops_tui.sandbox.controllers.rest import ApiException, Resource, Rest, status_of

log = logging.getLogger(__name__)

#: A handler gets the event type (ADDED, MODIFIED, DELETED) and the object before and after.
Handler = Callable[[str, "dict[str, Any] | None", "dict[str, Any] | None"], None]
Key = tuple[str, str]  # namespace, name
WATCH_TIMEOUT = 300


def _rv(obj: dict[str, Any] | None) -> int:
    text = str(((obj or {}).get("metadata") or {}).get("resourceVersion") or "0")
    return int(text) if text.isdigit() else 0


def key_of(obj: dict[str, Any]) -> Key:
    """The (namespace, name) of an object."""
    m = obj.get("metadata") or {}
    return m.get("namespace") or "", m.get("name") or ""


def slim(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without its managedFields (controllers never read them; they are most of its size)."""
    m = obj.get("metadata")
    if isinstance(m, dict) and "managedFields" in m:
        obj = {**obj, "metadata": {k: v for k, v in m.items() if k != "managedFields"}}
    return obj


class Informer:
    """One resource's list-and-watch loop and cache, shared by every controller that reads it."""

    def __init__(self, rest: Rest, resource: Resource, stop: threading.Event,
                 keep: Callable[[dict[str, Any]], dict[str, Any]] = slim, watch_timeout: int = WATCH_TIMEOUT) -> None:
        self.rest = rest
        self.resource = resource
        self.stop = stop
        self.keep = keep
        self.watch_timeout = watch_timeout
        self.handlers: list[Handler] = []
        self.synced = threading.Event()
        #: How often the watch was answered 410 Expired and the resource was listed again.
        self.expired_relists = 0
        self._lock = threading.RLock()
        self._cache: dict[Key, dict[str, Any]] = {}
        self._by_namespace: dict[str, dict[str, dict[str, Any]]] = {}
        self._tombstones: dict[Key, dict[str, Any]] = {}  # what the controllers deleted, until its event comes
        #: The resourceVersion the handlers were last told about, per object (the cache may be ahead of
        #: them: the controllers' own writes go into it before their events arrive).
        self._notified: dict[Key, int] = {}

    # -- reads --------------------------------------------------------------------------------

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The cached object, or None."""
        with self._lock:
            return self._cache.get((namespace, name))

    def items(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """Every cached object (of one namespace when given)."""
        with self._lock:
            if namespace is None:
                return list(self._cache.values())
            return list((self._by_namespace.get(namespace) or {}).values())

    # -- the controllers' own writes, seen before their watch event arrives ----------------------

    def upsert(self, obj: dict[str, Any], assumed: bool = False) -> None:
        """Put an object the controllers just wrote into the cache (older versions are ignored).

        ``assumed``: a local guess at the object's next state at the same resourceVersion (a binding).
        """
        with self._lock:
            self._store(obj, assumed)

    def forget(self, obj: dict[str, Any]) -> None:
        """Drop an object the controllers just deleted (its late events are ignored)."""
        key = key_of(obj)
        with self._lock:
            if _rv(obj) >= _rv(self._tombstones.get(key)):
                self._tombstones[key] = self.keep(obj)
            self._drop(key)

    def _store(self, obj: dict[str, Any], assumed: bool = False) -> dict[str, Any] | None:
        key = key_of(obj)
        rv = _rv(obj)
        if rv and rv <= _rv(self._tombstones.get(key)):
            return None
        old = self._cache.get(key)
        if old is not None and rv and (rv < _rv(old) if assumed else rv <= _rv(old)):
            return None
        kept = self.keep(obj)
        self._cache[key] = kept
        self._by_namespace.setdefault(key[0], {})[key[1]] = kept
        return kept

    def _drop(self, key: Key) -> dict[str, Any] | None:
        old = self._cache.pop(key, None)
        bucket = self._by_namespace.get(key[0])
        if bucket is not None:
            bucket.pop(key[1], None)
            if not bucket:
                del self._by_namespace[key[0]]
        return old

    # -- list and watch -----------------------------------------------------------------------

    def start(self) -> None:
        """Run the list-and-watch loop in a daemon thread."""
        threading.Thread(target=self._run, name=f"informer-{self.resource.plural}", daemon=True).start()

    def _run(self) -> None:
        backoff = 0.2
        while not self.stop.is_set():
            try:
                self._list_and_watch()
                backoff = 0.2
            except ApiException as exc:
                if status_of(exc) == 410:
                    self.expired_relists += 1
                    continue
                log.debug("informer %s: %s", self.resource.plural, status_of(exc))
            except Exception as exc:  # noqa: BLE001 - restarts and dropped connections: list again
                log.debug("informer %s: %s", self.resource.plural, type(exc).__name__)
            self.stop.wait(backoff)
            backoff = min(backoff * 2, 5.0)

    def _list_and_watch(self) -> None:
        listing = self.rest.get(self.resource.path())
        rv = str((listing.get("metadata") or {}).get("resourceVersion") or "")
        self._replace(listing.get("items") or [])
        self.synced.set()
        while not self.stop.is_set():
            for event in self.rest.watch(self.resource, rv, self.watch_timeout):
                if self.stop.is_set():
                    return
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    raise ApiException(status=int(obj.get("code") or 500), reason=obj.get("message"))
                rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    self._apply(kind, obj)

    def _replace(self, items: list[dict[str, Any]]) -> None:
        """A fresh list: tell the handlers what appeared, changed or vanished since the last one."""
        fired: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = []
        with self._lock:
            seen = set()
            for item in items:
                item.setdefault("apiVersion", self.resource.api_version)
                item.setdefault("kind", self.resource.kind)
                key = key_of(item)
                seen.add(key)
                old = self._cache.get(key)
                self._tombstones.pop(key, None)
                if old is None or _rv(old) != _rv(item):
                    self._store(item)
                if self._notified.get(key) != _rv(item):
                    fired.append(("ADDED" if key not in self._notified else "MODIFIED", old, item))
            for key in [k for k in {**self._notified, **self._cache} if k not in seen]:
                gone = self._drop(key) or self._tombstones.get(key) or {
                    "metadata": {"namespace": key[0], "name": key[1]}}
                self._tombstones.pop(key, None)
                fired.append(("DELETED", gone, None))
        for kind, old, new in fired:
            self._fire(kind, old, new)

    def _apply(self, kind: str, obj: dict[str, Any]) -> None:
        key = key_of(obj)
        with self._lock:
            old = self._cache.get(key)
            if kind == "DELETED":
                self._tombstones.pop(key, None)
                self._drop(key)
            elif self._store(obj) is None:
                if old is None or _rv(old) != _rv(obj):
                    return  # older than what the cache holds
                obj = old  # our own write (or assumption), seen again: news for the handlers all the same
        if kind == "DELETED":
            self._fire(kind, old if old is not None else self.keep(obj), None)
        else:
            self._fire(kind, old, obj)

    def _fire(self, kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        key = key_of(new or old or {})
        with self._lock:
            if new is None:
                self._notified.pop(key, None)
            else:
                self._notified[key] = _rv(new)
        for handler in self.handlers:
            try:
                handler(kind, old, new)
            except Exception:  # noqa: BLE001 - one controller's bug must not stop the others
                log.exception("informer %s: a handler failed", self.resource.plural)
