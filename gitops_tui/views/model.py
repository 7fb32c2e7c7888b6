"""The sources as the panes show them: each built on its effective state (api/effective.py), nothing re-derived."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from gitops_tui.api import effective as ef
from gitops_tui.api import freeze as fz
from gitops_tui.api.effective_state import source_state, stale_index
from gitops_tui.api.holds import operator_record
from gitops_tui.api.pin import Pin
from gitops_tui.api.placement import fleet_order, placed_clusters
from gitops_tui.api.placement import in_order as placement_in_order
from gitops_tui.api.project import Project
from gitops_tui.api.secret import FederatedSecret
from gitops_tui.api.source import GitOpsSource, pair_sources
from gitops_tui.redact import hide_url_password
from gitops_tui.views import glyphs as g
from gitops_tui.views.cells import Cell, as_freeze, as_pin, cell_of, source_status
from gitops_tui.views.freshness import stale_clusters, stale_status
from gitops_tui.views.state import ManagementState


def _get(obj: dict[str, Any] | None, *path: str, default: Any = None) -> Any:
    cur: Any = obj or {}
    for part in path:
        if not isinstance(cur, dict):
            return default
        cur = cur.get(part)
        if cur is None:
            return default
    return cur


def condition(obj: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    """Return the status condition of a type, or None."""
    for cond in _get(obj, "status", "conditions", default=[]) or []:
        if cond.get("type") == kind:
            return cond
    return None


#: Who suspended a source (or froze its project), why, since when, until when and on which clusters.
Suspension = fz.Freeze


@dataclass
class SourceView:
    """A GitOps source: its two objects read together, and its effective state (api/effective.py) as cells."""

    namespace: str
    name: str
    project: str
    url: str = ""
    ref: str = ""
    path: str = ""
    secret: str = ""
    interval: str = ""
    prune: bool = True
    revision: str = ""
    status: str = g.UNKNOWN
    message: str = ""
    suspension: Suspension | None = None
    """The freeze to name first (of every cluster before some, the project's before the source's)."""
    own_freeze: Suspension | None = None
    """The source's own freeze (not its project's): what resume and extend act on; its steps for describe."""
    pin: Pin | None = None
    held: tuple[str, ...] = ()
    """The clusters held now (by a freeze of the source or of its project), in placement order."""
    clusters: list[str] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)
    repository: dict[str, Any] | None = None
    kustomization: dict[str, Any] | None = None
    state: ef.SourceState | None = None
    project_obj: dict[str, Any] | None = None
    """The Project as read (its freeze and the operator's records)."""

    @property
    def key(self) -> str:
        """The row key ``namespace/name``."""
        return f"{self.namespace}/{self.name}"


def ref_text(ref: dict[str, Any] | None) -> str:
    """Return a git ref spec as one short string (``branch:main``, ``tag:v1``...)."""
    ref = ref or {}
    for kind in ("commit", "semver", "tag", "branch"):
        if ref.get(kind):
            return ref[kind] if kind == "branch" else f"{kind}:{ref[kind]}"
    return ""


def project_by_namespace(state: ManagementState) -> dict[str, str]:
    """Map each project namespace to its project name."""
    return {Project(p).namespace: Project(p).name for p in state.items("projects")}


def secret_names(state: ManagementState, namespace: str) -> list[str]:
    """The names of the FederatedSecrets of ``namespace``, sorted (what a form may reference)."""
    return sorted(s["metadata"]["name"] for s in state.items("secrets") if s["metadata"].get("namespace") == namespace)


def project_clusters(project: dict[str, Any] | None, clusters: list[dict[str, Any]]) -> list[str]:
    """The clusters a project places on, in its placement order (api.placement)."""
    return placed_clusters(Project(project or {}).placement, clusters)


def cluster_order(state: ManagementState) -> dict[str, int]:
    """Rank every cluster once for every pane and form: projects' placement order, then the rest by name."""
    return fleet_order([Project(p).placement for p in state.items("projects")], state.items("clusters"))


def in_order(names: Iterable[str], order: dict[str, int]) -> list[str]:
    """Return ``names`` sorted by ``cluster_order`` (clusters it does not know last, by name)."""
    return placement_in_order(names, order)


def secret_clusters(state: ManagementState, secret: dict[str, Any]) -> list[str]:
    """Return the clusters a FederatedSecret is placed on (its own placement, else its project's), in order."""
    view = FederatedSecret(secret)
    project = _project_of_namespace(state, view.namespace)
    placement = Project(project).placement if project is not None else None
    return placed_clusters(view.placement, state.items("clusters"), placement)


def _project_of_namespace(state: ManagementState, namespace: str) -> dict[str, Any] | None:
    return next((p for p in state.items("projects") if Project(p).namespace == namespace), None)


def suspension_of(kustomization: dict[str, Any] | None) -> Suspension | None:
    """Return what a FederatedKustomization itself says of its freeze (the effective one is SourceView.own_freeze)."""
    return fz.source_freeze(kustomization)


def project_suspension(project: dict[str, Any] | None) -> Suspension | None:
    """Return the freeze of a Project as a Suspension (scope "project"), or None when it is not frozen."""
    return fz.project_freeze(project)


#: The kinds a source view is read from: the cache key of ``sources``.
SOURCE_KINDS = ("gitrepositories", "kustomizations", "projects", "clusters")
_cache: dict[int, tuple[ManagementState, tuple[int, ...], list[SourceView], dict[str, SourceView]]] = {}


def sources(state: ManagementState) -> list[SourceView]:
    """Return every GitOps source, sorted by namespace then name (cached until a source kind changes)."""
    return _cached(state)[0]


def source_index(state: ManagementState) -> dict[str, SourceView]:
    """Return the sources by key ``namespace/name`` (cached like ``sources``)."""
    return _cached(state)[1]


def _cached(state: ManagementState) -> tuple[list[SourceView], dict[str, SourceView]]:
    versions = tuple(state.kind_versions.get(k, 0) for k in SOURCE_KINDS)
    hit = _cache.get(id(state))
    if hit is not None and hit[0] is state and hit[1] == versions:
        return hit[2], hit[3]
    same_clusters = hit is not None and hit[0] is state and hit[1][SOURCE_KINDS.index("clusters")] == versions[-1]
    built = _build_sources(state, hit[3] if same_clusters and hit is not None else {})
    index = {view.key: view for view in built}
    if len(_cache) > 8:
        _cache.clear()
    _cache[id(state)] = (state, versions, built, index)
    return built, index


def _own_freeze(view: SourceView, project: dict[str, Any] | None, found: ef.SourceState) -> Suspension | None:
    """The source's own freeze with its steps (the operator's record, else the source's), when one holds it."""
    hold = next((f for f in found.freezes if f.scope == ef.SCOPE_SOURCE), None)
    if hold is None:
        return None
    recorded = operator_record(project, view.name).freeze if hold.verified else fz.source_freeze(view.kustomization)
    return replace(recorded, by=hold.by, verified=hold.verified) if recorded is not None else as_freeze(hold)


@dataclass(frozen=True)
class _Fleet:
    """What every source's state is computed against, read once per rebuild."""

    clusters: list[dict[str, Any]]
    stale: dict[str, tuple[str, str]]
    now: Any
    stale_views: dict[str, Any]
    placements: dict[Any, list[str]]


def _view(fleet: _Fleet, key: tuple[str, str], objects: dict[str, dict[str, Any] | None],
          project: dict[str, Any] | None) -> SourceView:
    namespace, name = key
    view = SourceView(namespace, name, Project(project).name if project is not None else namespace,
                      repository=objects.get("repository"), kustomization=objects.get("kustomization"),
                      project_obj=project)
    source = GitOpsSource(view.repository, view.kustomization)
    view.url = hide_url_password(source.url)
    view.ref = ref_text(source.declared_ref)
    view.secret = source.secret_ref
    view.interval = source.interval_text
    view.path = source.declared_path
    view.prune = source.prune
    view.revision = source.artifact_revision
    found = source_state(view.repository, view.kustomization, project, fleet.clusters, fleet.now, fleet.stale,
                         fleet.placements)
    view.state = found
    view.clusters = found.names
    view.held = tuple(found.held)
    view.suspension = as_freeze(found.freeze) if found.held or found.freezes else None
    view.own_freeze = _own_freeze(view, project, found)
    view.pin = as_pin(found.pin)
    view.cells = {c.name: cell_of(c, fleet.now, found.rollout) for c in found.clusters}
    view.status, view.message = source_status(found, view.cells)
    ready, going = condition(view.kustomization, "Ready"), condition(view.kustomization, "Reconciling")
    if view.status == g.READY and ready and ready.get("status") == "True":
        view.message = ready.get("message", "")
    elif view.status == g.PROGRESS and going and going.get("status") == "True":
        view.message = going.get("message", "")
    view.status = stale_status(view.status, view.clusters, fleet.stale_views)
    return view


def _build_sources(state: ManagementState, previous: dict[str, SourceView]) -> list[SourceView]:
    """Every source's view; one whose objects and Project are the very ones of ``previous`` (same clusters) is kept."""
    projects = {Project(p).namespace: p for p in state.items("projects")}
    clusters = state.items("clusters")
    fleet = _Fleet(clusters, stale_index(clusters), state.now(), stale_clusters(state), {})
    views = []
    for pair in pair_sources(state.items("gitrepositories"), state.items("kustomizations")):
        project = projects.get(pair.namespace)
        known = previous.get(f"{pair.namespace}/{pair.name}")
        if known is not None and known.repository is pair.repository and known.kustomization is pair.kustomization \
                and known.project_obj is project:
            views.append(known)
            continue
        views.append(_view(fleet, (pair.namespace, pair.name),
                           {"repository": pair.repository, "kustomization": pair.kustomization}, project))
    return views
