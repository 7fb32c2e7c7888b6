"""Typed view of a GitOps source: a FederatedGitRepository and a FederatedKustomization with one name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.base import ObjectView, placement_cluster_names, placement_of
from gitops_tui.api.conditions import Condition
from gitops_tui.api.formats import parse_duration
from gitops_tui.api.placement import is_placement_set, placed_clusters
from gitops_tui.api.status import ClusterStatus, cluster_statuses

DEFAULT_INTERVAL_SECONDS = 60.0
DEFAULT_GIT_TIMEOUT_SECONDS = 60.0


def _template_spec(raw: dict[str, Any] | None) -> dict[str, Any]:
    """spec.template.spec of a federated Flux object, {} when unset."""
    return (((raw or {}).get("spec") or {}).get("template") or {}).get("spec") or {}


@dataclass(frozen=True)
class GitOpsSource:
    """The FederatedGitRepository + FederatedKustomization pair; either may be missing (None)."""

    repository: dict[str, Any] | None = None
    kustomization: dict[str, Any] | None = None

    # -- identity -------------------------------------------------------------------------
    @property
    def _primary(self) -> ObjectView:
        """The kustomization view when present, else the repository view."""
        return ObjectView(self.kustomization or self.repository or {})

    @property
    def repository_view(self) -> ObjectView:
        """An ObjectView over the FederatedGitRepository ({} when missing)."""
        return ObjectView(self.repository or {})

    @property
    def kustomization_view(self) -> ObjectView:
        """An ObjectView over the FederatedKustomization ({} when missing)."""
        return ObjectView(self.kustomization or {})

    @property
    def name(self) -> str:
        """The source name (shared by both objects)."""
        return self._primary.name or self.repository_view.name

    @property
    def namespace(self) -> str:
        """The project namespace."""
        return self._primary.namespace or self.repository_view.namespace

    @property
    def complete(self) -> bool:
        """Whether both objects exist."""
        return self.repository is not None and self.kustomization is not None

    # -- git repository -------------------------------------------------------------------
    @property
    def _git(self) -> dict[str, Any]:
        """The repository's template spec."""
        return _template_spec(self.repository)

    @property
    def url(self) -> str:
        """The git URL."""
        return str(self._git.get("url") or "")

    @property
    def ref(self) -> dict[str, str]:
        """The git ref: one of {branch}, {tag}, {semver}, {commit}; default {"branch": "master"} as in Flux."""
        ref = {k: str(v) for k, v in (self._git.get("ref") or {}).items() if v}
        return ref or {"branch": "master"}

    @property
    def declared_ref(self) -> dict[str, str]:
        """The git ref as written ({} when none: Flux then uses branch master, see ``ref``)."""
        return {k: str(v) for k, v in (self._git.get("ref") or {}).items() if v}

    @property
    def ref_display(self) -> str:
        """A short form of the ref for display: "branch main", "tag v1", "semver >=1", "commit abc1234"."""
        ref = self.ref
        for key in ("commit", "semver", "tag", "branch"):
            if key in ref:
                value = ref[key][:7] if key == "commit" else ref[key]
                return f"{key} {value}"
        return ""

    @property
    def artifact_recipe(self) -> dict[str, Any]:
        """The ExternalArtifact a Flux child reads (``spec.template.spec.artifact``: its generator's recipe), {} if none."""
        recipe = self._git.get("artifact")
        return recipe if isinstance(recipe, dict) else {}

    @property
    def secret_ref(self) -> str:
        """The name of the credentials Secret, "" when none."""
        return str((self._git.get("secretRef") or {}).get("name") or "")

    @property
    def provider(self) -> str:
        """The git provider (default "github")."""
        return str(self._git.get("provider") or names.DEFAULT_PROVIDER)

    @property
    def git_interval(self) -> float:
        """The repository fetch interval in seconds (default 60)."""
        return parse_duration(self._git.get("interval"), default=DEFAULT_INTERVAL_SECONDS)

    @property
    def git_timeout(self) -> float:
        """The git operation timeout in seconds (default 60)."""
        return parse_duration(self._git.get("timeout"), default=DEFAULT_GIT_TIMEOUT_SECONDS)

    @property
    def artifact_revision(self) -> str:
        """status.artifact.revision of the repository ("main@sha1:<sha>"), "" when none yet."""
        return str(((self.repository_view.status.get("artifact")) or {}).get("revision") or "")

    @property
    def artifact_updated(self) -> str:
        """status.artifact.lastUpdateTime of the repository."""
        return str(((self.repository_view.status.get("artifact")) or {}).get("lastUpdateTime") or "")

    # -- kustomization --------------------------------------------------------------------
    @property
    def _ks(self) -> dict[str, Any]:
        """The kustomization's template spec."""
        return _template_spec(self.kustomization)

    @property
    def kustomization_spec(self) -> dict[str, Any]:
        """The kustomization's template spec as written (a copy of nothing: do not change it)."""
        return self._ks

    @property
    def deletion_policy(self) -> str:
        """spec.template.spec.deletionPolicy (Flux's; default ``MirrorPrune``)."""
        return str(self._ks.get("deletionPolicy") or "MirrorPrune")

    @property
    def retry_interval(self) -> float | None:
        """spec.template.spec.retryInterval in seconds (None when unset: failures back off, see docs/reconciler.md)."""
        raw = self._ks.get("retryInterval")
        if not raw:
            return None
        value = parse_duration(raw, default=0.0)
        return value if value > 0 else None

    @property
    def path(self) -> str:
        """The path inside the repository (default "./")."""
        return str(self._ks.get("path") or "./")

    @property
    def prune(self) -> bool:
        """Whether objects that left the revision are deleted (default True)."""
        value = self._ks.get("prune")
        return True if value is None else bool(value)

    @property
    def suspend(self) -> bool:
        """spec.template.spec.suspend of the kustomization."""
        return bool(self._ks.get("suspend"))

    @property
    def suspended_by(self) -> str:
        """Who suspended the source (annotation)."""
        return self.kustomization_view.suspended_by

    @property
    def suspend_reason(self) -> str:
        """Why the source was suspended (annotation)."""
        return self.kustomization_view.suspend_reason

    @property
    def suspended_at(self) -> str:
        """When the source was suspended (annotation, RFC 3339)."""
        return self.kustomization_view.suspended_at

    @property
    def wait(self) -> bool:
        """Whether to wait for applied objects to become ready."""
        return bool(self._ks.get("wait"))

    @property
    def force(self) -> bool:
        """Whether immutable-field conflicts recreate objects."""
        return bool(self._ks.get("force"))

    @property
    def target_namespace(self) -> str:
        """spec.template.spec.targetNamespace ("" when unset)."""
        return str(self._ks.get("targetNamespace") or "")

    @property
    def health_checks(self) -> list[dict[str, Any]]:
        """spec.template.spec.healthChecks."""
        return [dict(h) for h in self._ks.get("healthChecks") or []]

    @property
    def interval(self) -> float:
        """The reconcile interval in seconds (kustomization, else repository; default 60)."""
        raw = self._ks.get("interval") or self._git.get("interval")
        return parse_duration(raw, default=DEFAULT_INTERVAL_SECONDS)

    @property
    def interval_text(self) -> str:
        """The interval as written (kustomization, else repository), '' when unset."""
        return str(self._ks.get("interval") or self._git.get("interval") or "")

    @property
    def declared_path(self) -> str:
        """spec.template.spec.path as written ('' when unset: the repository's root, see ``path``)."""
        return str(self._ks.get("path") or "")

    @property
    def timeout(self) -> float:
        """The apply/wait timeout in seconds (default: the interval, as in Flux)."""
        return parse_duration(self._ks.get("timeout"), default=self.interval)

    @property
    def requested_at(self) -> str:
        """reconcile.fluxcd.io/requestedAt of the kustomization, else of the repository."""
        return self.kustomization_view.requested_at or self.repository_view.requested_at

    @property
    def orphan(self) -> bool:
        """Whether applied objects are kept when the source is deleted."""
        return self.kustomization_view.orphan

    @property
    def generation(self) -> int:
        """metadata.generation of the kustomization."""
        return self.kustomization_view.generation

    @property
    def observed_generation(self) -> int:
        """status.observedGeneration of the kustomization."""
        return self.kustomization_view.observed_generation

    # -- placement and status -------------------------------------------------------------
    @property
    def placement(self) -> dict[str, Any]:
        """The kustomization's placement, else the repository's ({} means the project's)."""
        ks_placement = placement_of(self.kustomization or {})
        if is_placement_set(ks_placement):
            return ks_placement
        return placement_of(self.repository or {})

    @property
    def target_clusters(self) -> list[str]:
        """The cluster names listed in the placement ([] when it uses a selector or the project's)."""
        return placement_cluster_names(self.placement)

    def resolve_clusters(
        self, clusters: list[dict[str, Any]], project_placement: dict[str, Any] | None = None
    ) -> list[str]:
        """The registered clusters this source is placed on (see placement.placed_clusters)."""
        return placed_clusters(self.placement, clusters, project_placement)

    @property
    def conditions(self) -> list[Condition]:
        """The kustomization's conditions."""
        return self.kustomization_view.conditions

    @property
    def repository_conditions(self) -> list[Condition]:
        """The repository's conditions."""
        return self.repository_view.conditions

    def condition(self, type_: str) -> Condition | None:
        """The kustomization's condition of the given type."""
        return self.kustomization_view.condition(type_)

    @property
    def ready(self) -> bool | None:
        """Ready of the kustomization: True / False, None when unknown or absent."""
        cond = self.condition(names.READY)
        if cond is None or cond.status not in ("True", "False"):
            return None
        return cond.is_true

    @property
    def clusters(self) -> list[ClusterStatus]:
        """The kustomization's per-cluster status list."""
        return cluster_statuses(self.kustomization_view.status)

    def cluster(self, name: str) -> ClusterStatus | None:
        """The per-cluster status of the named cluster, or None."""
        for entry in self.clusters:
            if entry.name == name:
                return entry
        return None


def pair_sources(
    repositories: list[dict[str, Any]], kustomizations: list[dict[str, Any]]
) -> list[GitOpsSource]:
    """Pair repositories and kustomizations by (namespace, name); sorted; unpaired ones kept."""
    def key(raw: dict[str, Any]) -> tuple[str, str]:
        """(namespace, name) of an object."""
        meta = raw.get("metadata") or {}
        return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))

    repos = {key(r): r for r in repositories}
    kss = {key(k): k for k in kustomizations}
    return [GitOpsSource(repos.get(k), kss.get(k)) for k in sorted(set(repos) | set(kss))]
