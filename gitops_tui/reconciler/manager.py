"""The top-level Reconciler: installs the management API, holds shard leases, watches intents, runs reconciles."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from kubernetes.client import ApiClient

from gitops_tui import paths
from gitops_tui.api import names
from gitops_tui.api.flux_role import components_from_env
from gitops_tui.api.formats import parse_duration
from gitops_tui.kube.client import ClusterConnections
from gitops_tui.kube.events import EventRecorder
from gitops_tui.kube.management_api import WATCHED_KINDS, ensure_management_api, labels_of
from gitops_tui.kube.outbound import FetchPolicy
from gitops_tui.kube.shard_leases import ShardElector
from gitops_tui.kube.watch import ResourceWatch
from gitops_tui.reconciler import clusters as cluster_health
from gitops_tui.reconciler.alert_dispatch import AlertDispatcher
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult, management_path
from gitops_tui.reconciler.drift_watch import DriftWatch
from gitops_tui.reconciler.freeze import project_expiry
from gitops_tui.reconciler.idle import IdleSources
from gitops_tui.reconciler.inflight import InFlight
from gitops_tui.reconciler.management_api import LazyDynamic, significant_change
from gitops_tui.reconciler.management_cache import ManagementCache
from gitops_tui.reconciler.metrics_listener import ReconcileMetrics
from gitops_tui.reconciler.options import ReconcilerOptions
from gitops_tui.reconciler.projects import reconcile_project
from gitops_tui.reconciler.secrets import reconcile_secret
from gitops_tui.reconciler.shards import ShardGate
from gitops_tui.reconciler.windows import project_windows
from gitops_tui.util.workqueue import WorkQueue

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (kind, namespace, name)
MAX_BACKOFF = 60.0


class Reconciler:
    """Runs the controllers against one management cluster; acts only on the projects of the shards it holds."""

    def __init__(
        self,
        api_client: ApiClient,
        options: ReconcilerOptions | None = None,
        *,
        watches: Mapping[str, ResourceWatch] | None = None,
    ) -> None:
        """Prepare (nothing runs until start()) with ``options`` (ReconcilerOptions' defaults when None).

        ``watches``: watches of WATCHED_KINDS shared with the caller (the console's), who starts and stops
        them and calls ``handler(kind)`` on their changes; else the reconciler makes and runs its own.
        ValueError for an ``allow_fetch`` pattern it cannot read.
        """
        options = options or ReconcilerOptions()
        self.options = options
        self.clock = options.clock
        self.api_client = api_client
        self.local_repos = list(options.local_repos or [])
        self.fetch_policy = FetchPolicy.from_env(options.allow_fetch)
        self.flux_components = options.flux_components or components_from_env()
        self.health_interval = float(options.health_interval)
        self.data_dir = Path(options.data_dir) if options.data_dir else paths.data_dir() / "reconciler"
        self._install = options.install
        self._workers_count = max(1, options.workers)
        self._stop = threading.Event()
        self._queue: WorkQueue[Key] = WorkQueue()
        self._failures: dict[Key, int] = {}
        self._threads: list[threading.Thread] = []
        self.clusters = ClusterConnections(api_client, policy=options.kubeconfig_policy)
        self.recorder = EventRecorder(api_client)
        self.alerts = AlertDispatcher(api_client, self.fetch_policy, self.recorder)
        self.metrics = ReconcileMetrics()
        self.recorder.listeners += [self.alerts.listen, self.metrics.note_event]
        self.elector: ShardElector | None = None
        if options.elect:
            self.elector = ShardElector(api_client, identity=options.identity, shards=options.shards,
                                        lease_duration=options.lease_duration,
                                        on_acquired=self._on_acquired, busy=lambda shard: self.shard_gate.busy(shard),
                                        standby=options.standby)
            self.recorder.instance = self.elector.identity[:128]  # Events name the process that wrote them
        self.shard_gate = ShardGate(self.elector, self._project_namespace, self._stop.is_set)
        self._own_watches = watches is None
        self.watches: dict[str, ResourceWatch] = dict(watches) if watches is not None else {
            kind: ResourceWatch(api_client, management_path(kind), self._handler(kind), name=kind,
                                # a third of each object's memory; who wrote a source's spec tells an operator's
                                # hold from a member's (api/effective_holds.py), its status writers do not
                                drop_managed_fields="status" if kind == names.KIND_FEDERATED_KUSTOMIZATION else True)
            for kind in WATCHED_KINDS
        }
        self.cache = ManagementCache(api_client, self.watches)
        self.inflight = InFlight(self.watches, self.shard_gate.may_act)
        self.idle = IdleSources()
        self.clusters.cached = self.cache.cluster_config
        self.drift_watch = DriftWatch(self.request, resync=options.resync)
        self._ctx: ReconcileContext | None = None
        #: How many reconciles ran per key (successful or not): for diagnostics and tests.
        self.runs: dict[Key, int] = {}

    # -- public ----------------------------------------------------------------------------
    @property
    def identity(self) -> str:
        """This process's lease identity ("" without election)."""
        return self.elector.identity if self.elector else ""

    @property
    def git(self) -> Any:
        """The process's git fetcher (reconciler/source.GitSource; None before start()): its ls-remote count, for tests."""
        return self._ctx.git if self._ctx is not None else None

    def is_leader(self) -> bool:
        """True while this process may act on something (holds a shard, or runs without election)."""
        if self._stop.is_set():
            return False
        return True if self.elector is None else self.elector.is_leader

    def start(self) -> None:
        """Install the management API, then join the shard fleet, start the watches and the workers.

        Raises ShardCountMismatch when ``shards`` differs from the running fleet's count.
        """
        if self._install:
            ensure_management_api(self.api_client)
        self.cache.start()
        self._ctx = self._make_context()
        self.alerts.start()
        if self.elector is not None:
            self.elector.start()
        for watch in self.watches.values() if self._own_watches else ():
            watch.start()
        if self.elector is None:
            self._on_started_leading()
        for index in range(self._workers_count):
            thread = threading.Thread(target=self._work, name=f"gitops-tui-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop working, release the lease, end the watches; in-flight reconciles see should_stop()."""
        self._stop.set()
        self._queue.close()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()
        if self.elector is not None:
            self.elector.stop(release=True)
        for watch in self.watches.values() if self._own_watches else ():
            watch.stop()
        self.drift_watch.stop()
        self.cache.stop()
        self.alerts.stop(timeout=1.0)  # a send in flight is dropped: the worker is a daemon thread
        self.clusters.close()

    def handler(self, kind: str) -> Callable[[str, dict[str, Any], dict[str, Any] | None], None]:
        """The change handler of a management kind, for the caller's shared ``watches``."""
        return self._handler(kind)

    def wait_synced(self, timeout: float = 10.0) -> bool:
        """Wait until every watch has its first list; return False on timeout."""
        deadline = time.monotonic() + timeout
        return all(w.synced.wait(max(0.0, deadline - time.monotonic())) for w in self.watches.values())

    def request(self, kind: str, namespace: str, name: str, delay: float = 0.0) -> None:
        """Queue a reconcile of one management object (at once by default)."""
        if kind == names.KIND_FEDERATED_GIT_REPOSITORY:
            kind = names.KIND_FEDERATED_KUSTOMIZATION
        key = (kind, namespace or "", name)
        self.idle.requested(key)  # its next run is a full reconcile
        self._queue.add(key, delay)

    def intervals(self, key: Key) -> int:
        """How many times ``key`` ran: full reconciles and settled intervals that found nothing to do (idle.py)."""
        return self.runs.get(key, 0) + self.idle.quiet.get(key, 0)

    def should_stop(self, namespace: str, name: str) -> bool:
        """True when the source was suspended or deleted since its reconcile began, or its shard is not held now."""
        return self.inflight.should_stop(namespace, name)

    # -- internals -------------------------------------------------------------------------
    def _make_context(self) -> ReconcileContext:
        from gitops_tui.reconciler.source import GitSource

        return ReconcileContext(
            api_client=self.api_client,
            dynamic=LazyDynamic(self.api_client),  # type: ignore[arg-type]
            clusters=self.clusters,
            recorder=self.recorder,
            git=GitSource(self.data_dir / "git", local_roots=self.local_repos, data_dir=self.data_dir,
                          on_moved=self._wake),
            data_dir=self.data_dir,
            is_leader=self.is_leader,
            should_stop=self.should_stop,
            requeue=self.request,
            now=self.clock,
            drift_watch=self.drift_watch,
            fetch_policy=self.fetch_policy,
            cache=self.cache,
            share_git=True,
            flux_components=self.flux_components,
        )

    def _on_started_leading(self) -> None:
        log.info("leading: queueing every known object")
        self._on_acquired(None)

    def _on_acquired(self, shards: set[int] | None) -> None:
        """Queue every known object of the shards just taken (None: of every shard)."""
        for kind, watch in self.watches.items():
            if kind == names.KIND_FEDERATED_GIT_REPOSITORY:
                continue
            for obj in watch.items():
                meta = obj.get("metadata") or {}
                namespace, name = meta.get("namespace") or "", meta.get("name") or ""
                if shards is None or self.shard_gate.shard(kind, namespace, name) in shards:
                    self.request(kind, namespace, name)

    def _project_namespace(self, name: str) -> str:
        """A Project's namespace (spec.namespace, else its name), the key of its shard."""
        project = self.watches[names.KIND_PROJECT].get("", name) or {}
        return str((project.get("spec") or {}).get("namespace") or name)

    def _handler(self, kind: str) -> Callable[[str, dict[str, Any], dict[str, Any] | None], None]:
        def handle(event: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
            self.cache.seen(kind, obj, event == "DELETED")
            meta = obj.get("metadata") or {}
            namespace, name = meta.get("namespace") or "", meta.get("name") or ""
            if kind == names.KIND_KUBEFED_CLUSTER and (old is None or event == "DELETED" or labels_of(old) != labels_of(obj)
                                                       or cluster_health.cluster_ready(old)
                                                       != cluster_health.cluster_ready(obj)):
                self._requeue_all_placed()  # a cluster came, went, changed labels (selectors) or readiness
            if event != "DELETED" and not significant_change(old, obj):
                return
            self.request(kind, namespace, name)
            if kind == names.KIND_PROJECT:
                project_ns = str((obj.get("spec") or {}).get("namespace") or name)
                self._requeue_namespace(project_ns)
            elif kind == names.KIND_FEDERATED_SECRET:
                self._requeue_namespace(namespace)  # git credentials may have changed: no source stays settled

        return handle

    def _wake(self, sources: list[tuple[str, str]]) -> None:
        """Another source's ls-remote saw these sources' refs move: reconcile them now (remote_refs.py)."""
        for namespace, name in sources:
            self.request(names.KIND_FEDERATED_KUSTOMIZATION, namespace, name)

    def _requeue_all_placed(self) -> None:
        for kind in (names.KIND_PROJECT, names.KIND_FEDERATED_SECRET, names.KIND_FEDERATED_KUSTOMIZATION):
            for obj in self.watches[kind].items():
                meta = obj.get("metadata") or {}
                self.request(kind, meta.get("namespace") or "", meta.get("name") or "")

    def _requeue_namespace(self, namespace: str) -> None:
        for kind in (names.KIND_FEDERATED_SECRET, names.KIND_FEDERATED_KUSTOMIZATION):
            for obj in self.watches[kind].items():
                meta = obj.get("metadata") or {}
                if meta.get("namespace") == namespace:
                    self.request(kind, namespace, meta.get("name") or "")

    def _work(self) -> None:
        while not self._stop.is_set():
            if not self.is_leader():
                self._stop.wait(0.1)
                continue
            key = self._queue.get(timeout=0.5)
            if key is None:
                continue
            requeue = None
            try:
                requeue = self._run(key)
            finally:
                self._queue.done(key, requeue)

    def _run(self, key: Key) -> float | None:
        kind, namespace, name = key
        if not self.shard_gate.may_act(kind, namespace, name):
            return self.shard_gate.retry_after(kind, namespace, name)  # None: its holder queues it
        started = time.monotonic()
        source = kind == names.KIND_FEDERATED_KUSTOMIZATION
        token = self.idle.begin(key)
        try:
            with self.shard_gate.running(kind, namespace, name):
                quiet = self.idle.due(key, self.drift_watch, namespace, name) if source else None
                if quiet is not None:
                    return quiet  # settled, and its ref did not move: nothing to do (idle.py)
                self.runs[key] = self.runs.get(key, 0) + 1
                result = self._dispatch(kind, namespace, name)
        except Exception as exc:  # noqa: BLE001 - any failure backs off; the reason is logged without data
            self.idle.settle(key, token, None)
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
            delay = min(MAX_BACKOFF, 0.5 * 2 ** (failures - 1))
            log.warning("reconcile %s %s/%s failed (%s: %s); retry in %.1fs", kind, namespace, name,
                        type(exc).__name__, getattr(exc, "status", ""), delay)
            log.debug("reconcile failure detail", exc_info=True)
            return delay if self._exists(kind, namespace, name) else None
        self._failures.pop(key, None)
        log.debug("reconciled %s %s/%s in %.2fs", kind, namespace, name, time.monotonic() - started)
        if not self._exists(kind, namespace, name):
            self.idle.forget(key)
            return None
        if source:
            self.idle.settle(key, token, result.settled if result is not None else None)
        if kind == names.KIND_KUBEFED_CLUSTER:
            return None if result is not None and result.requeue_after is None else self.health_interval
        if result is not None and result.requeue_after is not None:
            return result.requeue_after
        return self._default_interval(kind, namespace, name)

    def _dispatch(self, kind: str, namespace: str, name: str) -> ReconcileResult | None:
        assert self._ctx is not None
        # This object's writes check its own shard (ctx.is_leader() before every write).
        ctx = replace(self._ctx, is_leader=lambda: self.shard_gate.may_act(kind, namespace, name))
        if kind == names.KIND_PROJECT:
            return project_windows(ctx, name, project_expiry(ctx, name, reconcile_project(ctx, namespace, name)))
        if kind == names.KIND_KUBEFED_CLUSTER:
            return cluster_health.reconcile_cluster(ctx, namespace, name)
        if kind == names.KIND_FEDERATED_SECRET:
            return reconcile_secret(ctx, namespace, name)
        if kind == names.KIND_FEDERATED_KUSTOMIZATION:
            return self._reconcile_source(ctx, namespace, name)
        return None

    def _reconcile_source(self, ctx: ReconcileContext, namespace: str, name: str) -> ReconcileResult | None:
        try:
            from gitops_tui.reconciler.source_controller import reconcile_source
        except ImportError:
            log.warning("the source controller is not available; %s/%s is not reconciled", namespace, name)
            return None
        with self.inflight.running(namespace, name) as meta:
            project = str((meta.get("labels") or {}).get(names.LABEL_PROJECT) or namespace)
            with self.metrics.reconcile(project, name):
                return reconcile_source(ctx, namespace, name)

    def refresh_metrics(self) -> None:
        """Set the gauges read on demand, before a scrape: shards held, freezes and pins active."""
        self.metrics.refresh(self.elector, self.watches[names.KIND_FEDERATED_KUSTOMIZATION].items())

    def _exists(self, kind: str, namespace: str, name: str) -> bool:
        return self.watches[kind].get(namespace, name) is not None

    def _default_interval(self, kind: str, namespace: str, name: str) -> float:
        obj = self.watches[kind].get(namespace, name) or {}
        spec = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
        try:
            return parse_duration(spec.get("interval"), default=60.0)
        except (ValueError, TypeError):
            return 60.0
