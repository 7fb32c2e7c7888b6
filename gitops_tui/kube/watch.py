"""A resumable list+watch of one resource type, keeping a cache; relists on 410 and follows bookmarks."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.api.paths import resource_path  # noqa: F401 - its home was here; importers keep it
from gitops_tui.kube.client import json_request
from gitops_tui.util.interning import interned

log = logging.getLogger(__name__)

#: Event types delivered to handlers (Kubernetes' own names).
ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"

Handler = Callable[[str, dict[str, Any], "dict[str, Any] | None"], None]


def object_key(obj: dict[str, Any]) -> tuple[str, str]:
    """Return ``(namespace, name)`` of an object dict (namespace "" when cluster-scoped)."""
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


class ResourceVersionExpired(Exception):
    """The resourceVersion we watch from is too old (410 Gone)."""


class ResourceWatch:
    """List then watch ``path`` from the listed resourceVersion, forever, until stopped.

    ``handler(type, obj, old)`` is called in the watch thread for every ADDED / MODIFIED /
    DELETED change, after ``cache`` was updated (``old`` is the previous cached object or None).
    After a 410 Expired the watch relists and reports the differences as events, so handlers
    never miss a deletion. ``synced`` is set once the first list is in the cache.
    """

    def __init__(
        self,
        api_client: ApiClient,
        path: str,
        handler: Handler | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int = 30,
        retry_seconds: float = 1.0,
        name: str = "",
        keep: bool = True,
        drop_managed_fields: bool | str = False,
        forbidden_wait: float = 5.0,
    ) -> None:
        """Watch the collection at ``path`` (see resource_path) through ``api_client``.

        ``keep`` False: a stream (Events) whose objects are handed to the handler and not kept: ``cache``
        stays empty, so memory does not grow with the stream; a relist reports every object as ADDED.
        Kept objects hold interned keys and short strings (util/interning.py: half of their memory).
        ``drop_managed_fields``: objects are kept and handed on without ``metadata.managedFields`` (a third
        of a management object's size), as client-go informers do with TransformStripManagedFields;
        ``"status"`` drops only the status writers' entries (who wrote the spec and metadata stays known).
        ``forbidden_wait``: seconds before listing again after the credentials were refused (HTTP 403).
        """
        self._api = api_client
        self.path = path
        self._handler = handler
        self._labels = label_selector
        self._fields = field_selector
        self._timeout = timeout_seconds
        self._retry = retry_seconds
        self.name = name or path
        self._keep = keep
        self._drop_managed_fields = drop_managed_fields
        self._forbidden_wait = forbidden_wait
        self.cache: dict[tuple[str, str], dict[str, Any]] = {}
        self.synced = threading.Event()
        self.resource_version: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._response: Any = None
        self._thread: threading.Thread | None = None

    # -- public ----------------------------------------------------------------------------
    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Return the cached object or None."""
        with self._lock:
            return self.cache.get((namespace or "", name))

    def items(self) -> list[dict[str, Any]]:
        """Return a snapshot of every cached object."""
        with self._lock:
            return list(self.cache.values())

    def start(self) -> threading.Thread:
        """Run the watch in a daemon thread and return it."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=f"watch {self.name}", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the watch: interrupt a blocked read and join the thread."""
        self._stop.set()
        response = self._response
        if response is not None:
            try:
                response.shutdown()
            except Exception:  # noqa: BLE001 - the stream may already be closed
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=timeout)
            self._thread = None

    @property
    def managed_fields(self) -> str:
        """What the cached objects keep of their managedFields: "all", "none" or "spec" (status writers dropped)."""
        mode = self._drop_managed_fields
        return "spec" if mode == "status" else "none" if mode else "all"

    def _strip(self, obj: dict[str, Any]) -> None:
        mode = self._drop_managed_fields
        meta = obj.get("metadata") or {}
        if mode == "status" and meta.get("managedFields"):
            meta["managedFields"] = [e for e in meta["managedFields"] if e.get("subresource") != "status"]
        elif mode:
            meta.pop("managedFields", None)

    def _kept(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The object as the cache keeps it: keys and short strings shared with every other (util/interning.py)."""
        return interned(obj) if self._keep else obj

    @property
    def stopped(self) -> bool:
        """True once stop() was called."""
        return self._stop.is_set()

    def run(self) -> None:
        """List and watch until stop(); errors are retried with a short back-off."""
        failures = 0
        while not self._stop.is_set():
            try:
                if self.resource_version is None:
                    self._relist()
                self._watch_once()
                failures = 0
            except ResourceVersionExpired:
                log.info("watch %s expired; relisting", self.name)
                self.resource_version = None
            except Exception as exc:  # noqa: BLE001 - keep watching through API and network errors
                if self._stop.is_set():
                    break
                failures += 1
                log.debug("watch %s failed (%s); retrying", self.name, type(exc).__name__)
                if failures >= 3:
                    self.resource_version = None
                forbidden = isinstance(exc, ApiException) and exc.status == 403
                self._stop.wait(self._forbidden_wait if forbidden else min(self._retry * failures, 5.0))

    # -- internals -------------------------------------------------------------------------
    def _query(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self._labels:
            query["labelSelector"] = self._labels
        if self._fields:
            query["fieldSelector"] = self._fields
        return query

    def _relist(self) -> None:
        listed = json_request(self._api, "GET", self.path, query=self._query())
        items = listed.get("items") or []
        fresh: dict[tuple[str, str], dict[str, Any]] = {}
        for index, item in enumerate(items):
            self._strip(item)
            item = items[index] = self._kept(item)
            item.setdefault("apiVersion", _item_api_version(listed))
            item.setdefault("kind", str(listed.get("kind", "")).removesuffix("List"))
            fresh[object_key(item)] = item
        with self._lock:
            old_cache = self.cache
            self.cache = dict(fresh) if self._keep else {}
        for key, old in old_cache.items():
            if key not in fresh:
                self._emit(DELETED, old, old)
        for key, obj in fresh.items():
            known = old_cache.get(key)
            if known is None:
                self._emit(ADDED, obj, None)
            elif _rv(known) != _rv(obj):
                self._emit(MODIFIED, obj, known)
        self.resource_version = str((listed.get("metadata") or {}).get("resourceVersion") or "") or None
        self.synced.set()
        if self.resource_version is None:
            # A server that gives no list resourceVersion: poll by relisting.
            self._stop.wait(self._retry)

    def _watch_once(self) -> None:
        if self.resource_version is None:
            return
        query = self._query()
        query.update(watch="true", resourceVersion=self.resource_version, allowWatchBookmarks="true",
                     timeoutSeconds=str(self._timeout))
        url = self._api.configuration.host.rstrip("/") + self.path + "?" + urlencode(query)
        headers = {"Accept": "application/json"}
        headers.update(self._api.default_headers)
        auth = self._api.configuration.auth_settings().get("BearerToken")
        if auth and auth.get("value"):
            headers[auth["key"]] = auth["value"]
        resp = self._api.call_api("GET", url, header_params=headers, _request_timeout=(5.0, self._timeout + 15.0))
        raw = resp.response
        self._response = raw
        try:
            if resp.status == 410:
                raise ResourceVersionExpired()
            if not 200 <= resp.status < 300:
                resp.read()
                raise ApiException(status=resp.status, reason=resp.reason, http_resp=resp)
            buffer = b""
            for chunk in raw.stream(4096, decode_content=True):
                if self._stop.is_set():
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        self._handle_line(line)
            if buffer.strip():
                self._handle_line(buffer)
        finally:
            self._response = None
            try:
                raw.release_conn()
            except Exception:  # noqa: BLE001
                pass

    def _handle_line(self, line: bytes) -> None:
        event = json.loads(line)
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410 or obj.get("reason") in ("Expired", "Gone"):
                raise ResourceVersionExpired()
            raise ApiException(status=obj.get("code") or 500, reason=str(obj.get("reason") or "watch error"))
        rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        if kind == "BOOKMARK":
            if rv:
                self.resource_version = rv
            return
        if kind not in (ADDED, MODIFIED, DELETED):
            return
        self._strip(obj)
        obj = self._kept(obj)
        key = object_key(obj)
        with self._lock:
            old = self.cache.get(key)
            if kind == DELETED:
                self.cache.pop(key, None)
            elif self._keep:
                self.cache[key] = obj
        if rv:
            self.resource_version = rv
        self._emit(kind, obj, old)

    def _emit(self, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        if self._handler is None:
            return
        try:
            self._handler(kind, obj, old)
        except Exception:  # noqa: BLE001 - a handler error must not end the watch
            log.exception("watch %s handler failed", self.name)


def _rv(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _item_api_version(listed: dict[str, Any]) -> str:
    return str(listed.get("apiVersion") or "")
