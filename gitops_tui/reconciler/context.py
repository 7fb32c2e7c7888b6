"""The context handed to every per-object reconcile function, and the result they return."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.api.flux_role import components_from_env
from gitops_tui.api.paths import management_path
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.client import ClusterConnections, ClusterUnreachable, json_request
from gitops_tui.kube.events import EventRecorder
from gitops_tui.kube.outbound import FetchPolicy

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kubernetes.client import ApiClient
    from kubernetes.dynamic import DynamicClient

    from gitops_tui.reconciler.drift_watch import DriftWatch
    from gitops_tui.reconciler.management_cache import ManagementCache
    from gitops_tui.reconciler.source import GitSource

__all__ = [
    "ClusterUnreachable",
    "ReconcileContext",
    "ReconcileResult",
    "management_path",
    "utc_now",
]


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def _always_leader() -> bool:
    return True


def _never_stop(namespace: str, name: str) -> bool:
    return False


def _no_requeue(kind: str, namespace: str, name: str) -> None:
    return None


@dataclass
class ReconcileResult:
    """What a reconcile function returns: when to run again (seconds), or None for the default interval.

    ``settled`` (a source's reconcile, idle.Settled): nothing is left to do; its next interval only asks git.
    """

    requeue_after: float | None = None
    settled: Any = None


@dataclass
class ReconcileContext:
    """Everything a reconcile function may use: clients, cluster connections, events, git, clocks.

    - ``api_client`` / ``dynamic``: the management cluster.
    - ``clusters.get(name) -> (api_client, dynamic)`` or raises ``ClusterUnreachable``.
    - ``recorder.emit(involved, type, reason, message, cluster=, revision=)`` writes core/v1 Events.
    - ``is_leader()``: this process holds the lease (always True when run without election).
    - ``should_stop(namespace, name)``: True once the source was suspended or deleted since the
      reconcile began, or leadership was lost; check it before every write to a cluster.
    - ``requeue(kind, namespace, name)``: ask the manager to reconcile another object at once
      (``kind`` is a management kind such as ``"FederatedKustomization"``).
    - ``now()``: aware UTC datetime (tests may inject a fake clock).
    - ``drift_watch``: the watches of managed objects on workload clusters (the Reconciler's); None: every
      drift check asks the clusters about every object (GET and dry-run), as ``diff source`` does.
    - ``fetch_policy``: the operator's allow-list for URLs a repository declares (children's GitRepositories,
      HelmRepositories); default: $GITOPS_TUI_ALLOW_FETCH, else public https only.
    - ``cache``: the management objects from the reconciler's watches (management_cache.py): ``get`` and
      ``list`` read it when it can answer; None: every read asks the management cluster.
    - ``share_git``: a source may resolve its ref from an ls-remote answer of its repository up to one interval
      old (the running reconciler: one check per repository per interval); False: every fetch asks git now.
    - ``flux_components``: ``skip`` (default) leaves Flux's own components (gotk-components.yaml) out of a
      revision, ``apply`` applies them (``run --flux-components``; else $GITOPS_TUI_FLUX_COMPONENTS).
    """

    api_client: ApiClient
    dynamic: DynamicClient
    clusters: ClusterConnections
    recorder: EventRecorder
    git: GitSource | Any
    data_dir: Path
    is_leader: Callable[[], bool] = field(default=_always_leader)
    should_stop: Callable[[str, str], bool] = field(default=_never_stop)
    requeue: Callable[[str, str, str], None] = field(default=_no_requeue)
    now: Callable[[], datetime] = field(default=utc_now)
    drift_watch: DriftWatch | None = None
    #: Where URLs from tenant content may be fetched (``run --allow-fetch``; kube/outbound.py).
    fetch_policy: FetchPolicy = field(default_factory=FetchPolicy.from_env)
    cache: ManagementCache | None = None
    share_git: bool = False
    #: Flux's own components: ``skip`` or ``apply`` (``run --flux-components``; api/flux_role.py).
    flux_components: str = field(default_factory=components_from_env)

    # -- management helpers (the watch cache, else thin REST calls; they raise ApiException on errors) --------
    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """Return a management object (raw dict, the watch cache's copy when current) or None when it does not exist."""
        if self.cache is not None:
            return self.cache.get(kind, namespace, name)
        return self.get_fresh(kind, namespace, name)

    def get_fresh(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """Return a management object read from the cluster now (the stop check before a write), or None."""
        try:
            return json_request(self.api_client, "GET", management_path(kind, namespace, name))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, kind: str, namespace: str | None = None, *, copies: bool = True) -> builtins.list[dict[str, Any]]:
        """Return every management object of ``kind`` (in ``namespace``, or all namespaces); ``copies`` False for a
        caller that only reads (the watch cache's own objects then)."""
        if self.cache is not None:
            return self.cache.list(kind, namespace, copies=copies)
        listed = json_request(self.api_client, "GET", management_path(kind, namespace))
        return list(listed.get("items") or [])

    def projects(self) -> builtins.list[dict[str, Any]]:
        """Every Project, to read only (the watch cache's own objects when it can answer: no copy, no request)."""
        if self.cache is not None:
            return self.cache.list(names.KIND_PROJECT, copies=False)
        return self.list(names.KIND_PROJECT)

    def source(self, namespace: str, name: str) -> GitOpsSource:
        """The FederatedGitRepository and FederatedKustomization named ``name`` (either may be None)."""
        if self.cache is None or not self.cache.keeps_managed_fields(names.KIND_FEDERATED_KUSTOMIZATION):
            kustomization = self.get_fresh(names.KIND_FEDERATED_KUSTOMIZATION, namespace, name)  # who wrote it counts
        else:
            kustomization = self.get(names.KIND_FEDERATED_KUSTOMIZATION, namespace, name)
        return GitOpsSource(repository=self.get(names.KIND_FEDERATED_GIT_REPOSITORY, namespace, name),
                      kustomization=kustomization)

    def patch_status(self, obj: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        """Merge-patch ``status`` into the status subresource of ``obj``; return the new object."""
        meta = obj.get("metadata") or {}
        path = management_path(str(obj.get("kind")), meta.get("namespace"), meta.get("name"), "status")
        return json_request(self.api_client, "PATCH", path, {"status": status},
                            content_type="application/merge-patch+json")

    def update(self, obj: dict[str, Any]) -> dict[str, Any]:
        """PUT ``obj`` back (optimistic concurrency through its resourceVersion)."""
        meta = obj.get("metadata") or {}
        path = management_path(str(obj.get("kind")), meta.get("namespace"), meta.get("name"))
        return json_request(self.api_client, "PUT", path, obj)
