"""The live backend: list+watch of the management cluster, real actions, the embedded reconciler.

Nothing slow is imported or connected here before the console's first frame: the kubernetes client,
the actions, the reconciler and the sandbox are loaded by ``connect()``, in the feed worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_tui import paths
from gitops_tui.api import names
from gitops_tui.backends.live_ops import CONNECT_WAIT, LiveOperations
from gitops_tui.kube.kubeconfig_guard import STRICT, KubeconfigPolicy
from gitops_tui.util.allocator import release_free_memory
from gitops_tui.views.feedhealth import FeedHealth
from gitops_tui.views.helm import HelmSources
from gitops_tui.views.state import Change, ManagementState

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

    from gitops_tui.kube.watch import ResourceWatch

log = logging.getLogger(__name__)

#: Seconds the embedded reconciler waits for the console's first lists before it starts anyway.
FIRST_LIST_WAIT = 10.0
#: Seconds between returns of the C allocator's free pages to the system (util/allocator.release_free_memory).
TRIM_EVERY = 30.0
#: Kinds listed before the kubernetes client loads (what the first pane and the header show).
FIRST_LISTS = ("projects", "clusters", "gitrepositories", "kustomizations", "leases")
#: Feed keys whose watches the embedded reconciler shares, with its management kind for each.
SHARED_KINDS = {
    "projects": names.KIND_PROJECT,
    "clusters": names.KIND_KUBEFED_CLUSTER,
    "secrets": names.KIND_FEDERATED_SECRET,
    "gitrepositories": names.KIND_FEDERATED_GIT_REPOSITORY,
    "kustomizations": names.KIND_FEDERATED_KUSTOMIZATION,
}


#: The embedded reconciler's modes (``gitops-tui --reconcile``).
AUTO, ALWAYS, NEVER = "auto", "always", "never"
RECONCILE_MODES = (AUTO, ALWAYS, NEVER)


def reconcile_mode(value: str | bool) -> str:
    """A mode from ``--reconcile`` (or a bool: True auto, False never); raise ValueError for anything else."""
    if isinstance(value, bool):
        return AUTO if value else NEVER
    if value not in RECONCILE_MODES:
        raise ValueError(f"--reconcile must be one of {', '.join(RECONCILE_MODES)}, not {value!r}")
    return value


def watched() -> tuple[tuple[str, str], ...]:
    """(state key, REST collection path) of everything the console follows."""
    from gitops_tui.api.journal_crd import journal_path
    from gitops_tui.api.paths import management_path, resource_path

    return (
        ("projects", management_path(names.KIND_PROJECT)),
        ("clusters", management_path(names.KIND_KUBEFED_CLUSTER)),
        ("secrets", management_path(names.KIND_FEDERATED_SECRET)),
        ("gitrepositories", management_path(names.KIND_FEDERATED_GIT_REPOSITORY)),
        ("kustomizations", management_path(names.KIND_FEDERATED_KUSTOMIZATION)),
        ("events", resource_path("v1", "events")),
        ("leases", resource_path("coordination.k8s.io/v1", "leases", names.SYSTEM_NAMESPACE)),
        ("journal", journal_path()),
    )


class LiveBackend:
    """Lists and watches the management cluster; runs the embedded reconciler when asked."""

    def __init__(self, kubeconfig: Path | None, context: str | None, label: str, *, reconcile: str | bool = "auto",
                 kubeconfig_policy: KubeconfigPolicy = STRICT,
                 start_sandbox: Callable[[Callable[[], None]], Path] | None = None) -> None:
        """Prepare (nothing is imported or connected).

        ``kubeconfig`` None means the local sandbox: ``start_sandbox(starting)`` returns its kubeconfig, starting
        it when it is not running (``cli.console_cmd.start_sandbox``; backends never import the sandbox).
        ``reconcile``: the embedded reconciler's mode (RECONCILE_MODES; True is ``auto``, False ``never``).
        """
        self._kubeconfig = kubeconfig
        self._start_sandbox = start_sandbox
        self.kubeconfig_policy = kubeconfig_policy
        """What the stored kubeconfigs of workload clusters may use (kube.kubeconfig_guard)."""
        self._context_name = context
        self.api: ApiClient | None = None
        """The management client, once connect() made it."""
        self.context = label
        self.identity: str | None = f"console@{socket.gethostname()}/{os.getpid()}"
        self.state = ManagementState()
        self.health = FeedHealth()
        """Live, re-listing or failing, per watched kind (the console's banner)."""
        self.ops = LiveOperations(self, paths.data_dir())
        self.reconcile = reconcile_mode(reconcile)
        """auto: hold shards only while no `run` member lives; always: share them; never: no reconciler."""
        self._closed = threading.Event()
        self._connected = threading.Event()
        self._connect_lock = threading.Lock()
        self._watches: list[ResourceWatch] = []
        self._shared: dict[str, ResourceWatch] = {}
        """The feed's watches of the kinds the embedded reconciler follows too, by management kind."""
        self._reconciler_handlers: dict[str, Callable[[str, dict[str, Any], dict[str, Any] | None], None]] = {}
        self.reconciler: Any = None
        self.helm = HelmSources()
        """The Helm pane's provider: watches of Helm's storage on each placed cluster (from connect())."""
        self._helm_feed: Any = None
        self._helm_connections: Any = None
        self.warnings: Any = None
        """The watches of the workload clusters' Warning Events (backends.workload_events), once the feed runs."""

    def connect(self, emit: Callable[[list[Change]], None] | None = None) -> ApiClient:
        """Blocking: start the sandbox when it is the target, make the client, register the Helm feed.

        Progress goes to the state (the empty panes show it). Idempotent; raises on failure.
        """
        with self._connect_lock:
            if self.api is not None:
                return self.api
            say = emit or self.state.apply_many
            # A running sandbox answers at once: its first lists come before even checking its daemon.
            known = self._kubeconfig or paths.sandbox_kubeconfig()
            drawn = known.is_file() and self._first_lists(known, say)
            kubeconfig = self._kubeconfig_path(say)
            if not drawn and not self._first_lists(kubeconfig, say):
                say([Change("progress", "MODIFIED", {"text": f"connecting to {self.context}"})])
            from gitops_tui.kube.client import api_client_from_kubeconfig

            api = api_client_from_kubeconfig(kubeconfig, self._context_name)
            if self._closed.is_set():
                raise RuntimeError("the console is closing")
            self.api = api
            self._register_helm(api, say)
            self._connected.set()
            return api

    def _kubeconfig_path(self, say: Callable[[list[Change]], None]) -> Path:
        """The kubeconfig: the one given, else the sandbox's (started when it is not running)."""
        if self._kubeconfig is None:
            if self._start_sandbox is None:
                raise RuntimeError("no management cluster was given and this console cannot start a sandbox")
            self._kubeconfig = self._start_sandbox(lambda: say([Change("progress", "MODIFIED",
                                                                       {"text": "starting the local sandbox"})]))
        return self._kubeconfig

    def _first_lists(self, kubeconfig: Path, say: Callable[[list[Change]], None]) -> bool:
        """Draw the first data before the kubernetes client loads (plain HTTPS, when the kubeconfig allows).

        Return True when every first list was drawn.
        """
        from gitops_tui.kube.first_list import static_access

        access = static_access(kubeconfig, self._context_name)
        if access is None:
            return False
        paths = dict((path, key) for key, path in watched() if key in FIRST_LISTS)
        drawn = 0
        try:
            for path, items in access.list(paths):
                say([Change(paths[path], "ADDED", item) for item in items])
                drawn += 1
        except Exception as exc:  # noqa: BLE001 - the watches list everything again right after
            log.info("first lists skipped: %s", type(exc).__name__)
        return drawn == len(paths)

    def client(self, timeout: float) -> ApiClient:
        """The management client, waiting (bounded) for connect(); raises when there is none yet."""
        if not self._connected.wait(timeout) or self.api is None:
            raise RuntimeError(f"not connected to {self.context} yet")
        return self.api

    def _register_helm(self, api: ApiClient, emit: Callable[[list[Change]], None]) -> None:
        """Feed the Helm Releases pane from watches of Helm's storage on each placed cluster (no polling)."""
        from gitops_tui.helm.pane_watch import WatchedReleases
        from gitops_tui.kube.client import ClusterConnections

        self._helm_connections = ClusterConnections(api, policy=self.kubeconfig_policy)
        self._helm_feed = WatchedReleases(self._helm_connections, lambda: emit([Change("helm", "MODIFIED")]))
        self.helm.register(self._helm_feed)

    def write_access(self) -> str:
        """Return why this identity cannot change sources ('' when it can, or when the server cannot say)."""
        from gitops_tui.kube.write_access import source_write_access
        from gitops_tui.views.access import NO_WRITE_ACCESS

        namespaces = sorted({(p.get("spec") or {}).get("namespace") or p["metadata"]["name"]
                             for p in self.state.items("projects")})
        answer = source_write_access(self.client(CONNECT_WAIT), namespaces)
        return NO_WRITE_ACCESS if answer.allowed is False else ""

    def synced(self) -> bool:
        """True once every watch has its first list."""
        return bool(self._watches) and all(w.synced.is_set() for w in self._watches)

    def now(self) -> datetime:
        """The wall clock (UTC)."""
        return datetime.now(UTC)

    def run_feed(self, emit: Callable[[list[Change]], None], stopped: Callable[[], bool]) -> None:
        """Connect, then watch every followed kind in its own thread until ``stopped()``; changes go to ``emit``."""
        try:
            api = self.connect(emit)
        except Exception as exc:
            emit([Change("progress", "MODIFIED", {"text": f"failed: {exc}"})])
            raise
        from gitops_tui.backends.watch_health import ReportingWatch  # the kubernetes client: after the first lists

        self.health.listener = lambda: emit([])
        unsynced: dict[str, ResourceWatch] = {}
        for key, path in watched():
            def handler(kind: str, obj: dict[str, Any], old: dict[str, Any] | None, key: str = key) -> None:
                if key == "events" and not _ours(obj):
                    return
                emit([Change(key, kind, obj)])
                shared = self._reconciler_handlers.get(key)
                if shared is not None:
                    shared(kind, obj, old)
                if key == "clusters" and kind != "DELETED" and _ready(obj) and not _ready(old):
                    threading.Thread(target=self._probe_version, args=(obj, emit), daemon=True,
                                     name="cluster version").start()

            watch = ReportingWatch(api, path, handler, name=f"console {key}", timeout_seconds=60,
                                   keep=key != "events",  # the state keeps the newest Events (a ring)
                                   drop_managed_fields=True,  # never shown (kubectl hides them too)
                                   health=self.health, kind=key)
            self._watches.append(watch)
            unsynced[key] = watch
            if key in SHARED_KINDS:
                self._shared[SHARED_KINDS[key]] = watch
            watch.start()
        warnings = self._watch_warnings(emit)
        next_trim = time.monotonic() + TRIM_EVERY
        while not stopped() and not self._closed.wait(0.05 if unsynced else 0.2):
            if time.monotonic() >= next_trim:  # the holes decoding lists and events left (docs/console.md#memory)
                release_free_memory()
                next_trim = time.monotonic() + TRIM_EVERY
            for key in [k for k, w in unsynced.items() if w.synced.is_set()]:
                del unsynced[key]
                emit([Change(key, "SYNCED")])
            if not unsynced:
                warnings.follow()  # the placed clusters' Warning Events: watches follow the placements
        warnings.close()
        self._stop_watches()

    def run_reconciler(self, stopped: Callable[[], bool]) -> None:
        """Run the embedded reconciler (leader election included) until ``stopped()``."""
        if self.reconcile == NEVER:
            return
        deadline = time.monotonic() + FIRST_LIST_WAIT  # the first lists on screen come before the reconciler
        while not stopped() and not self._closed.is_set() and not (
                self._connected.is_set() and (self.synced() or time.monotonic() > deadline)):
            self._closed.wait(0.1)
        if stopped() or self._closed.is_set():
            return
        from gitops_tui.reconciler.manager import Reconciler
        from gitops_tui.reconciler.options import ReconcilerOptions

        # One set of watches for both: the reconciler follows the feed's (half the memory and connections).
        shared = dict(self._shared) if len(self._shared) == len(SHARED_KINDS) else None
        self.reconciler = Reconciler(self.client(0), ReconcilerOptions(data_dir=paths.data_dir() / "reconciler",
                                                                       identity=self.identity,
                                                                       kubeconfig_policy=self.kubeconfig_policy,
                                                                       standby=self.reconcile == AUTO), watches=shared)
        if shared is not None:
            self._reconciler_handlers.update(
                {key: self.reconciler.handler(kind) for key, kind in SHARED_KINDS.items()})
        if self._closed.is_set():
            return
        self.reconciler.start()
        try:
            while not stopped() and not self._closed.wait(0.2):
                pass
        finally:
            self.reconciler.stop(timeout=5.0)

    def _watch_warnings(self, emit: Callable[[list[Change]], None]) -> Any:
        """The workload clusters' Warning Events about the sources' objects, into the stream (watches only)."""
        from gitops_tui.backends.workload_events import WorkloadWarnings

        self.warnings = WorkloadWarnings(self._helm_connections, self.state, emit)
        return self.warnings

    def _probe_version(self, cluster: dict[str, Any], emit: Callable[[list[Change]], None]) -> None:
        """Read a workload cluster's /version once it is Ready (for the Clusters pane)."""
        from gitops_tui.kube.client import ClusterConnections, json_request

        name = cluster["metadata"]["name"]
        connections = ClusterConnections(self.client(0), policy=self.kubeconfig_policy)  # called once connected
        try:
            info = json_request(connections.api_client(name), "GET", "/version", timeout=(3.0, 5.0))
            emit([Change("versions", "MODIFIED", {"metadata": {"name": name}, "version": info.get("gitVersion", "")})])
        except Exception as exc:  # noqa: BLE001 - the pane shows '-' for an unknown version
            log.info("cluster %s version unknown: %s", name, type(exc).__name__)
        finally:
            connections.close()

    def _stop_watches(self) -> None:
        for watch in self._watches:
            watch.stop(timeout=2.0)
        self._watches.clear()

    def halt(self, seconds: float = 1.0) -> None:
        """The console is leaving: the reconciler stops writing at once and the lease is released (bounded)."""
        self._closed.set()
        reconciler = self.reconciler
        elector = getattr(reconciler, "elector", None)
        if elector is not None:
            elector.abandon(timeout=seconds)

    def close(self) -> None:
        """Stop the watches and the reconciler (they notice within 0.2 s); drop the Helm feed."""
        self._closed.set()
        if self._helm_feed is not None:
            self.helm.unregister(self._helm_feed)
            self._helm_feed.close()
            self._helm_feed = None
            self._helm_connections.close()


def _ready(cluster: dict[str, Any] | None) -> bool:
    for cond in ((cluster or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == names.READY:
            return cond.get("status") == "True"
    return False


def _ours(event: dict[str, Any]) -> bool:
    """Keep the Events of the management objects (the audit trail), not every Event of the cluster."""
    kind = (event.get("involvedObject") or {}).get("kind", "")
    return event.get("reportingComponent") == names.REPORTING_COMPONENT or kind in names.RESOURCES
