"""The management objects a reconcile reads, from the reconciler's watches: no request when the cache can answer.

The watches (the manager's, of Projects, KubeFedClusters, FederatedSecrets and the two source kinds; here, of the
project namespaces and the cluster kubeconfig Secrets) hold what a reconcile used to GET and LIST, as a
controller-runtime client reads its informers. A cache lags behind this process's own writes by the watch's
latency: every write made through ``json_request`` is observed (kube/write_observers.py), and an object whose
written resourceVersion the watch has not delivered yet is read fresh (one GET, or one LIST of its kind), as is
everything before a watch's first list. Objects handed out are copies: the watches' own stay as listed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.api.paths import management_path, resource_path
from gitops_tui.kube.client import json_request
from gitops_tui.kube.watch import DELETED, ResourceWatch
from gitops_tui.kube.write_observers import add_write_observer
from gitops_tui.reconciler.render import plain_copy

log = logging.getLogger(__name__)

#: An expected write not delivered by the watch within this many seconds is forgotten (a relist skipped it).
EXPECT_SECONDS = 30.0
#: Seconds between lists of a watch the reconciler's credentials may not make (then reads are GETs, as before).
FORBIDDEN_WAIT = 300.0
NAMESPACE = "Namespace"
SECRET = "Secret"

Key = tuple[str, str, str]  # (kind, namespace, name)


def _version(obj: dict[str, Any] | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("resourceVersion") or "")


class ManagementCache:
    """Reads of the management cluster served by watches; a fresh request when the watch cannot answer yet."""

    def __init__(self, api_client: Any, watches: Mapping[str, ResourceWatch], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``watches``: the manager's watches of the management kinds (names.KIND_*); start() adds the project
        namespaces' and the cluster Secrets' watches."""
        self.api_client = api_client
        self._clock = clock
        self._watches: dict[str, ResourceWatch] = dict(watches)
        self._lock = threading.Lock()
        self._expected: dict[Key, tuple[str, float]] = {}
        self._own: list[ResourceWatch] = []
        self._remove_observer: Callable[[], None] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Observe this process's writes and start the namespace and cluster-Secret watches."""
        self._remove_observer = add_write_observer(self._observe)
        extra = {
            NAMESPACE: ResourceWatch(self.api_client, resource_path("v1", "namespaces"), self._handler(NAMESPACE),
                                     label_selector=names.LABEL_PROJECT, name="management namespaces",
                                     timeout_seconds=300, drop_managed_fields=True, forbidden_wait=FORBIDDEN_WAIT),
            SECRET: ResourceWatch(self.api_client, resource_path("v1", "secrets", names.FEDERATION_NAMESPACE),
                                  self._handler(SECRET), name="cluster kubeconfigs", timeout_seconds=300,
                                  drop_managed_fields=True, forbidden_wait=FORBIDDEN_WAIT),
        }
        for kind, watch in extra.items():
            self._watches[kind] = watch
            self._own.append(watch)
            watch.start()

    def stop(self) -> None:
        """Stop observing and stop the cache's own watches."""
        if self._remove_observer is not None:
            self._remove_observer()
        for watch in self._own:
            watch.stop(timeout=1.0)

    def seen(self, kind: str, obj: dict[str, Any], deleted: bool = False) -> None:
        """A watch delivered ``obj`` (call after its cache holds it): an expected write of it has arrived."""
        meta = obj.get("metadata") or {}
        key = (kind, str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        with self._lock:
            expected = self._expected.get(key)
            if expected is not None and (deleted or expected[0] == _version(obj)):
                del self._expected[key]

    # -- reads -----------------------------------------------------------------------------
    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """A management object (a copy), None when it does not exist; from the watch when it is current."""
        watch = self._usable(kind, namespace or "", name)
        if watch is None:
            return self._fresh(kind, namespace, name)
        found = watch.get(namespace or "", name)
        return plain_copy(found) if found is not None else None  # JSON: a plain copy is the same, quicker

    def list(self, kind: str, namespace: str | None = None, *, copies: bool = True) -> list[dict[str, Any]]:
        """Every object of ``kind`` (in ``namespace``, else all); ``copies`` False for a caller that only reads."""
        watch = self._watches.get(kind)
        if watch is None or not self._synced(watch) or self._pending_kind(kind, namespace):
            path = management_path(kind, namespace) if kind in names.RESOURCES else resource_path("v1", "namespaces")
            return list(json_request(self.api_client, "GET", path).get("items") or [])
        items = [o for o in watch.items() if namespace is None
                 or str((o.get("metadata") or {}).get("namespace") or "") == namespace]
        return [plain_copy(o) for o in items] if copies else items

    def namespace(self, name: str) -> tuple[bool, dict[str, Any] | None]:
        """``(known, the management Namespace)`` of a project namespace: known False until the watch can answer.

        The watch holds the namespaces labelled for a project; one without that label reads as absent here (for
        ownership both mean: no project owns it), so a caller that must tell them apart asks the cluster.
        """
        watch = self._usable(NAMESPACE, "", name)
        if watch is None:
            return False, None
        return True, watch.get("", name)

    def cluster_config(self, name: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(KubeFedCluster, its kubeconfig Secret) as watched, None when the cache cannot answer (then GET them)."""
        clusters = self._usable(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE, name)
        kfc = clusters.get(names.FEDERATION_NAMESPACE, name) if clusters is not None else None
        secret_name = str((((kfc or {}).get("spec") or {}).get("secretRef") or {}).get("name") or "")
        secrets = self._usable(SECRET, names.FEDERATION_NAMESPACE, secret_name) if secret_name else None
        secret = secrets.get(names.FEDERATION_NAMESPACE, secret_name) if secrets is not None else None
        return (kfc, secret) if kfc is not None and secret is not None else None

    def keeps_managed_fields(self, kind: str) -> bool:
        """Whether the watch of ``kind`` keeps who wrote each object's spec and metadata (its managedFields)."""
        watch = self._watches.get(kind)
        return watch is not None and watch.managed_fields != "none"

    # -- internals -------------------------------------------------------------------------
    @staticmethod
    def _synced(watch: ResourceWatch) -> bool:
        return watch.synced.is_set() and not watch.stopped

    def _usable(self, kind: str, namespace: str, name: str) -> ResourceWatch | None:
        """The watch of ``kind`` when it can answer for this object now, else None (ask the cluster)."""
        watch = self._watches.get(kind)
        if watch is None or not self._synced(watch) or self._pending((kind, namespace, name)):
            return None
        return watch

    def _pending(self, key: Key) -> bool:
        with self._lock:
            expected = self._expected.get(key)
            if expected is not None and self._clock() - expected[1] > EXPECT_SECONDS:
                del self._expected[key]
                return False
            return expected is not None

    def _pending_kind(self, kind: str, namespace: str | None) -> bool:
        with self._lock:
            keys = [k for k in self._expected if k[0] == kind and (namespace is None or k[1] == namespace)]
        return any(self._pending(k) for k in keys)

    def _fresh(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        if kind == NAMESPACE:
            path = resource_path("v1", "namespaces", None, name)
        elif kind == SECRET:
            path = resource_path("v1", "secrets", namespace, name)
        else:
            path = management_path(kind, namespace, name)
        try:
            return json_request(self.api_client, "GET", path)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def _observe(self, api_client: Any, verb: str, answer: dict[str, Any]) -> None:
        """A write of this process answered ``answer``: until the watch delivers that version, read it fresh."""
        kind = str(answer.get("kind") or "")
        if api_client is not self.api_client or kind not in self._watches:
            return
        meta = answer.get("metadata") or {}
        version = _version(answer)
        if not version:
            return
        key = (kind, str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        with self._lock:
            current = self._watches[kind].get(key[1], key[2])
            if current is not None and _version(current) == version:
                return  # the watch was quicker than the answer
            self._expected[key] = (version, self._clock())

    def _handler(self, kind: str) -> Callable[[str, dict[str, Any], dict[str, Any] | None], None]:
        def handle(event: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
            self.seen(kind, obj, event == DELETED)

        return handle
