"""Drift from watches: per workload cluster, one label-selected watch per kind the reconciler manages there.

The watches feed a cache of the managed objects (managedFields kept). A change by another field manager,
or a deletion, queues the object's source; its reconcile then dry-runs just the objects that changed
since they were last checked (``ClusterView``). The reconciler's own writes and status updates queue
nothing. Like a client-go informer, a watch lists once, then follows changes (bookmarks, a relist only
after 410 Gone or a broken stream), so an idle reconciler sends workload clusters nothing but watches.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.formats import parse_duration
from gitops_tui.api.paths import dynamic_path, resource_path
from gitops_tui.kube.apply import FIELD_MANAGER, UnknownKind, resolver_for
from gitops_tui.kube.inventory import config_hash, ref_of
from gitops_tui.kube.watch import ADDED, DELETED, ResourceWatch
from gitops_tui.reconciler.applied_cache import DEFAULT_RESYNC, AppliedCache

log = logging.getLogger(__name__)

#: Seconds a watch request stays open before it is renewed (client-go picks 5 to 10 minutes).
WATCH_TIMEOUT = 300
#: Only objects carrying the reconciler's ownership label are watched.
SELECTOR = names.LABEL_SOURCE
#: Propagated Secrets carry this label (secrets.LABEL_FEDERATED_SECRET), project namespaces the project's.
SECRET_SELECTOR = "gitops-tui.io/federated-secret"
NAMESPACE = ("v1", "Namespace")
SECRET = ("v1", "Secret")

Kind = tuple[str, str]  # (apiVersion, kind)
Watched = tuple[str, str, str]  # (apiVersion, kind, label selector)


def _version(obj: dict[str, Any] | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("resourceVersion") or "")


def _writers(obj: dict[str, Any] | None) -> dict[tuple[str, str, str], str]:
    """Each field manager's entry (status writers left out) as comparable text, by (manager, operation, subresource)."""
    out: dict[tuple[str, str, str], str] = {}
    for entry in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        subresource = str(entry.get("subresource") or "")
        if subresource == "status":
            continue
        key = (str(entry.get("manager") or ""), str(entry.get("operation") or ""), subresource)
        out[key] = json.dumps([entry.get("time"), entry.get("apiVersion"), entry.get("fieldsV1")], sort_keys=True)
    return out


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items()
            if k not in ("managedFields", "resourceVersion", "generation")}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def foreign_change(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """Whether an update was made by a field manager other than the reconciler's.

    Another manager's entry appeared or changed (``kubectl scale`` writes through the scale subresource,
    ``kubectl edit`` as kubectl-edit): foreign. Only the reconciler's own entry changed: not foreign. No
    entry changed (status writers are left out) yet the object did: foreign, as nobody can be named.
    """
    before, after = _writers(old), _writers(new)
    changed = {key for key, text in after.items() if before.get(key) != text}
    if any(manager != FIELD_MANAGER for manager, _, _ in changed):
        return True
    if changed:
        return False
    return old is None or _content(old) != _content(new)


#: Kinds watched whatever a cluster's discovery says (no DynamicClient needed); ServiceAccounts and RoleBindings
#: for the projects' own identities (reconciler/identity.py).
_PATHS = {NAMESPACE: resource_path("v1", "namespaces"), SECRET: resource_path("v1", "secrets"),
          ("v1", "ServiceAccount"): resource_path("v1", "serviceaccounts"),
          ("rbac.authorization.k8s.io/v1", "RoleBinding"): resource_path("rbac.authorization.k8s.io/v1", "rolebindings")}


def _owner(obj: dict[str, Any]) -> tuple[str, str, str] | None:
    """The management object to reconcile when ``obj`` changed: its source, FederatedSecret or project (by label)."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    namespace = str(meta.get("namespace") or "")
    if (str(obj.get("apiVersion")), str(obj.get("kind"))) == NAMESPACE:
        project = labels.get(names.LABEL_PROJECT)
        return (names.KIND_PROJECT, "", str(project)) if project else None
    if labels.get(names.LABEL_IDENTITY_OF):  # a project's ServiceAccount or its binding
        return names.KIND_PROJECT, "", str(labels[names.LABEL_IDENTITY_OF])
    if labels.get(names.LABEL_SOURCE) and namespace:
        return names.KIND_FEDERATED_KUSTOMIZATION, namespace, str(labels[names.LABEL_SOURCE])
    if labels.get(SECRET_SELECTOR) and namespace:
        return names.KIND_FEDERATED_SECRET, namespace, str(labels[SECRET_SELECTOR])
    return None


def _fingerprint(api_client: Any) -> tuple[Any, ...]:
    """Where and as whom a client connects: a rebuilt connection with the same ones keeps the watches."""
    cfg = api_client.configuration
    return (cfg.host, cfg.ssl_ca_cert, cfg.cert_file, cfg.key_file, cfg.verify_ssl, tuple(sorted(cfg.api_key.items())))


class _ClusterWatches:
    """The watches of one cluster, made through one ApiClient."""

    def __init__(self, api_client: Any) -> None:
        self.api_client = api_client
        self.fingerprint = _fingerprint(api_client)
        self.by_kind: dict[Watched, ResourceWatch] = {}


class DriftWatch:
    """The reconciler's watches on workload clusters and the cache of checked objects they keep true."""

    def __init__(self, requeue: Callable[[str, str, str], None], *, resync: float = DEFAULT_RESYNC,
                 cache: AppliedCache | None = None, watch_timeout: int = WATCH_TIMEOUT) -> None:
        """``requeue(kind, namespace, name)`` asks for a reconcile of a management object (a source, a project, a
        FederatedSecret); ``resync`` is the seconds between full dry-run passes of a source's objects."""
        self._requeue = requeue
        self.resync = float(resync)
        self.cache = cache or AppliedCache()
        self._timeout = watch_timeout
        self._lock = threading.Lock()
        self._clusters: dict[str, _ClusterWatches] = {}
        self._stopped = False
        self._health: set[tuple[str, str]] = set()
        """Sources (namespace, name) whose objects' health changes requeue them: a rollout's wave applying or
        soaking (reconciler/rollout.py)."""

    # -- watches ---------------------------------------------------------------------------
    def ensure(self, cluster: str, api_client: Any, dynamic: Any, kinds: Iterable[Kind], selector: str = SELECTOR) -> None:
        """Watch the objects of every kind of ``kinds`` labelled ``selector`` on ``cluster`` (started once; restarted
        when the cluster's address or credentials changed)."""
        stale: list[ResourceWatch] = []
        started: list[ResourceWatch] = []
        with self._lock:
            if self._stopped:
                return
            current = self._clusters.get(cluster)
            if current is not None and current.fingerprint != _fingerprint(api_client):
                stale = list(current.by_kind.values())
                current = None
                self.cache.forget_cluster(cluster)
            if current is None:
                current = self._clusters[cluster] = _ClusterWatches(api_client)
            for key in sorted({(*kind, selector) for kind in kinds} - set(current.by_kind)):
                try:
                    path = _PATHS.get(key[:2]) or dynamic_path(resolver_for(dynamic).resource(*key[:2]))
                except UnknownKind:
                    continue
                watch = ResourceWatch(api_client, path, self._handler(cluster, key), label_selector=selector,
                                      timeout_seconds=self._timeout, name=f"{cluster} {key[1]} {selector}")
                current.by_kind[key] = watch
                started.append(watch)
        for watch in stale:
            watch.stop(timeout=1.0)
        for watch in started:
            watch.start()

    def lookup(self, cluster: str, api_version: str, kind: str, namespace: str, name: str,
               selector: str = SELECTOR) -> tuple[bool, dict | None]:
        """``(known, live)``: known is False until the kind's watch has its first list (then ask the cluster)."""
        with self._lock:
            current = self._clusters.get(cluster)
            watch = current.by_kind.get((api_version, kind, selector)) if current is not None else None
        if watch is None or not watch.synced.is_set() or watch.stopped:
            return False, None
        return True, watch.get(namespace, name)

    def synced(self, cluster: str) -> bool:
        """True when every watch of the cluster has its first list."""
        with self._lock:
            current = self._clusters.get(cluster)
            watches = list(current.by_kind.values()) if current is not None else []
        return all(w.synced.is_set() for w in watches)

    def follow_health(self, namespace: str, name: str, on: bool) -> None:
        """Requeue the source when the health (kstatus) of one of its objects changes (``on``), or no longer."""
        with self._lock:
            if on:
                self._health.add((namespace, name))
            else:
                self._health.discard((namespace, name))

    def _health_changed(self, old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[str, str, str] | None:
        """The source to requeue when ``new`` is an object of a source following health and its kstatus moved."""
        owner = _owner(new)
        if owner is None or owner[0] != names.KIND_FEDERATED_KUSTOMIZATION:
            return None
        with self._lock:
            if (owner[1], owner[2]) not in self._health:
                return None
        from gitops_tui.reconciler.health import health

        return owner if old is None or health(old).status != health(new).status else None

    def watch_count(self) -> int:
        """How many watches run (for diagnostics and tests)."""
        with self._lock:
            return sum(len(c.by_kind) for c in self._clusters.values())

    def stop(self) -> None:
        """Stop every watch."""
        with self._lock:
            self._stopped = True
            watches = [w for c in self._clusters.values() for w in c.by_kind.values()]
            self._clusters.clear()
        for watch in watches:
            watch.stop(timeout=1.0)

    def watched(self, cluster: str, api_client: Any, kind: Kind, selector: str, namespace: str,
                name: str) -> tuple[bool, dict | None]:
        """Watch ``kind`` labelled ``selector`` on ``cluster`` (kinds of a fixed path: Namespace, Secret) and look up
        one object: ``(known, live)`` as lookup()."""
        self.ensure(cluster, api_client, None, [kind], selector)
        return self.lookup(cluster, kind[0], kind[1], namespace, name, selector)

    def _handler(self, cluster: str, key: Watched) -> Callable[[str, dict[str, Any], dict[str, Any] | None], None]:
        def handle(event: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
            try:
                object_id = ref_of(obj).id
            except (KeyError, ValueError):
                return
            if event == DELETED:
                foreign = True
            elif event == ADDED and old is None and not self._listed(cluster, key):
                return  # the first list: every object is unchecked until its source's first full pass
            else:
                foreign = foreign_change(old, obj)
            if not foreign:
                self.cache.carry(cluster, object_id, _version(old), _version(obj))
                moved = self._health_changed(old, obj) if event != DELETED else None
                if moved is not None:
                    self._requeue(*moved)
                return
            owner = _owner(obj)
            if owner is not None:
                log.info("drift watch: %s %s changed on %s outside gitops-tui", obj.get("kind"), object_id, cluster)
                self._requeue(*owner)

        return handle

    def _listed(self, cluster: str, key: Watched) -> bool:
        """Whether the watch ``key`` had its first list (an ADDED then is a new object)."""
        with self._lock:
            current = self._clusters.get(cluster)
            watch = current.by_kind.get(key) if current is not None else None
        return watch is not None and watch.synced.is_set()

    # -- views -----------------------------------------------------------------------------
    def view(self, cluster: str, api_client: Any, dynamic: Any, namespace: str, name: str,
             desired: Iterable[dict[str, Any]], hashes: dict[str, str], resync: float | None = None) -> ClusterView:
        """The view of one source's objects on one cluster (its kinds are watched from now on)."""
        desired = list(desired)
        self.ensure(cluster, api_client, dynamic, {(str(o.get("apiVersion")), str(o.get("kind"))) for o in desired})
        full = self.cache.full_pass_due(cluster, namespace, name, self.resync if resync is None else resync)
        return ClusterView(self, cluster, namespace, name, dict(hashes), full)


@dataclass
class ClusterView:
    """One source's objects on one cluster as the watches see them: what needs a dry-run, what needs no write.

    ``full``: the resync period passed (or the source was never fully checked since the process started):
    every object is checked against the cluster itself (GET and dry-run), as before the watches.
    """

    watch: DriftWatch
    cluster: str
    namespace: str
    name: str
    hashes: dict[str, str] = field(default_factory=dict)
    full: bool = True
    hash_of: Callable[[dict[str, Any]], str] = config_hash
    """The objects' configuration hashes (kube.inventory.Hashes shares them across a reconcile's clusters)."""

    def live(self, obj: dict[str, Any]) -> tuple[bool, dict | None]:
        """``(known, live object)`` from the watch cache; not known during a full pass or before the first list."""
        if self.full:
            return False, None
        ref = ref_of(obj)
        return self.watch.lookup(self.cluster, ref.api_version, ref.kind, ref.namespace, ref.name)

    def to_check(self, manifests: Iterable[dict[str, Any]], *, drifted: bool = True) -> list[dict[str, Any]]:
        """The objects to dry-run: all in a full pass, else those changed since last checked (and, with
        ``drifted``, those last found drifted: a correction retries them; a suspended source's report does not)."""
        manifests = list(manifests)
        if self.full:
            return manifests
        out = []
        for obj in manifests:
            known, live = self.live(obj)
            checked = self.watch.cache.checked(self.cluster, ref_of(obj).id)
            if (not known or checked is None or checked.resource_version != _version(live)
                    or (drifted and not checked.clean)):
                out.append(obj)
        return out

    def unchanged(self, obj: dict[str, Any]) -> bool:
        """True when applying ``obj`` would write nothing: its configuration is the one last applied here, and the
        live object is as the reconciler left it (checked clean at its current resourceVersion)."""
        ref = ref_of(obj)
        if self.hashes.get(ref.id) != self.hash_of(obj):
            return False
        known, live = self.watch.lookup(self.cluster, ref.api_version, ref.kind, ref.namespace, ref.name)
        if not known or live is None:
            return False
        checked = self.watch.cache.checked(self.cluster, ref.id)
        return checked is not None and checked.clean and checked.resource_version == _version(live)

    def cached(self, objs: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
        """The live objects by id when the watch cache holds every one of ``objs`` (they exist); else None (an
        object the cache lacks may still exist without the reconciler's label: only the cluster can tell)."""
        out = {}
        for obj in objs:
            ref = ref_of(obj)
            known, live = self.watch.lookup(self.cluster, ref.api_version, ref.kind, ref.namespace, ref.name)
            if not known or live is None:
                return None
            out[ref.id] = live
        return out

    def record(self, obj: dict[str, Any], live: dict[str, Any] | None, clean: bool) -> None:
        """Record what a check (``live`` as compared) or an apply (``live`` its answer) established for ``obj``."""
        self.watch.cache.record(self.cluster, ref_of(obj).id, _version(live), clean)

    def applied(self, obj: dict[str, Any], result: dict[str, Any]) -> None:
        """An apply of ``obj`` answered ``result``: the object is as desired at that resourceVersion."""
        self.record(obj, result, True)

    def done(self) -> None:
        """A check of the objects ended without error: a full pass counts as the resync."""
        if self.full:
            self.watch.cache.full_pass_done(self.cluster, self.namespace, self.name)


#: Annotation of a FederatedKustomization setting its own resync period (a duration such as "10m").
ANNOTATION_RESYNC = "gitops-tui.io/resync"


def resync_of(kustomization: dict[str, Any] | None, default: float) -> float:
    """The source's resync period: its ``gitops-tui.io/resync`` annotation when valid, else ``default``."""
    text = (((kustomization or {}).get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_RESYNC)
    if not text:
        return default
    try:
        return max(1.0, parse_duration(text, default=default))
    except (TypeError, ValueError):
        log.info("ignoring invalid %s annotation %r", ANNOTATION_RESYNC, text)
        return default
