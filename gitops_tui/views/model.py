"""Typed, textual-free readings of the raw management objects the panes need."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gitops_tui.api.pin import Pin, pin_of
from gitops_tui.api import freeze as fz
from gitops_tui.redact import hide_url_password
from gitops_tui.views import glyphs as g
from gitops_tui.views.freshness import Staleness, stale_clusters, stale_status
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


@dataclass(frozen=True)
class Cell:
    """One source on one cluster: a status word, the short text shown and a longer message."""

    status: str
    text: str
    message: str = ""
    inventory: int = 0


@dataclass
class SourceView:
    """A GitOps source: its FederatedGitRepository and FederatedKustomization read together."""

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
    pin: Pin | None = None
    held: tuple[str, ...] = ()
    """The clusters a freeze of the source or of its project holds."""
    clusters: list[str] = field(default_factory=list)
    cells: dict[str, Cell] = field(default_factory=dict)
    repository: dict[str, Any] | None = None
    kustomization: dict[str, Any] | None = None

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
    out: dict[str, str] = {}
    for project in state.items("projects"):
        name = _get(project, "metadata", "name", default="")
        out[_get(project, "spec", "namespace", default=name) or name] = name
    return out


def project_clusters(project: dict[str, Any] | None, clusters: list[dict[str, Any]]) -> list[str]:
    """Return the clusters a project places on (explicit names, else the label selector)."""
    return placement_clusters(_get(project, "spec", "placement", default={}) or {}, clusters)


def cluster_order(state: ManagementState) -> dict[str, int]:
    """Rank every cluster once for every pane and form: projects' placement order, then the rest by name."""
    order: dict[str, int] = {}
    clusters = state.items("clusters")
    for project in state.items("projects"):
        for name in project_clusters(project, clusters):
            order.setdefault(name, len(order))
    for name in sorted(_get(c, "metadata", "name", default="") for c in clusters):
        order.setdefault(name, len(order))
    return order


def in_order(names: Iterable[str], order: dict[str, int]) -> list[str]:
    """Return ``names`` sorted by ``cluster_order`` (clusters it does not know last, by name)."""
    return sorted(names, key=lambda name: (order.get(name, len(order)), name))


def placement_clusters(placement: dict[str, Any], clusters: list[dict[str, Any]]) -> list[str]:
    """Resolve a Kubefed placement to cluster names."""
    named = [c.get("name", "") for c in placement.get("clusters") or [] if c.get("name")]
    if named or "clusterSelector" not in placement:
        return named
    labels = (placement.get("clusterSelector") or {}).get("matchLabels") or {}
    out = []
    for cluster in clusters:
        have = _get(cluster, "metadata", "labels", default={}) or {}
        if all(have.get(k) == v for k, v in labels.items()):
            out.append(_get(cluster, "metadata", "name", default=""))
    return sorted(out)


def secret_clusters(state: ManagementState, secret: dict[str, Any]) -> list[str]:
    """Return the clusters a FederatedSecret is placed on (its own placement, else its project's)."""
    meta = secret.get("metadata") or {}
    placement = (secret.get("spec") or {}).get("placement")
    clusters = state.items("clusters")
    if placement:
        return in_order(placement_clusters(placement, clusters), cluster_order(state))
    project = project_by_namespace(state).get(meta.get("namespace", ""), "")
    found = next((p for p in state.items("projects") if p["metadata"]["name"] == project), None)
    return in_order(project_clusters(found, clusters), cluster_order(state))


def suspension_of(kustomization: dict[str, Any] | None) -> Suspension | None:
    """Return the suspension of a FederatedKustomization, or None when it is not suspended."""
    return fz.source_freeze(kustomization)


def project_suspension(project: dict[str, Any] | None) -> Suspension | None:
    """Return the freeze of a Project as a Suspension (scope "project"), or None when it is not frozen."""
    return fz.project_freeze(project)


def _hold(view: SourceView, project: dict[str, Any] | None) -> None:
    """Set the source's suspension (a freeze of every cluster first, the source's before the project's) and held clusters."""
    found = [s for s in (suspension_of(view.kustomization), project_suspension(project)) if s is not None]
    view.suspension = next((s for s in found if not s.clusters), found[0] if found else None)
    view.held = tuple(c for c in view.clusters if any(not s.clusters or c in s.clusters for s in found))


def _source_status(view: SourceView) -> tuple[str, str]:
    if view.suspension and view.clusters and len(view.held) == len(view.clusters):
        return g.SUSPENDED, view.suspension.reason
    objs = [o for o in (view.kustomization, view.repository) if o]
    for obj in objs:
        stalled = condition(obj, "Stalled")
        ready = condition(obj, "Ready")
        if stalled and stalled.get("status") == "True":
            return g.FAILING, stalled.get("message", "")
        if ready and ready.get("status") == "False":
            return g.FAILING, ready.get("message", "")
    if any(c.status == g.FAILING for c in view.cells.values()):
        bad = next(c for c in view.cells.values() if c.status == g.FAILING)
        return g.FAILING, bad.message
    for obj in objs:
        rec = condition(obj, "Reconciling")
        if rec and rec.get("status") == "True":
            return g.PROGRESS, rec.get("message", "")
    if any(c.status == g.PROGRESS for c in view.cells.values()):
        return g.PROGRESS, "applying"
    ready = condition(view.kustomization, "Ready")
    if ready and ready.get("status") == "True":
        return g.READY, ready.get("message", "")
    return (g.PROGRESS, "waiting for status") if view.kustomization else (g.UNKNOWN, "")


def _cells(view: SourceView, stale: dict[str, Staleness]) -> dict[str, Cell]:
    statuses = {
        c.get("name"): c for c in _get(view.kustomization, "status", "clusters", default=[]) or []
    }
    cells: dict[str, Cell] = {}
    for cluster in view.clusters:
        entry = statuses.get(cluster)
        applied = (entry or {}).get("lastAppliedRevision", "")
        inventory = len((entry or {}).get("inventory") or [])
        if view.suspension and cluster in view.held:
            cells[cluster] = Cell(g.SUSPENDED, "suspended", view.suspension.reason, inventory)
        elif entry is None:
            cells[cluster] = Cell(g.PROGRESS, "pending", "not applied yet", inventory)
        elif entry.get("status"):
            message = f"{entry.get('status')}: {entry.get('message', '')}".strip(": ")
            cells[cluster] = Cell(g.FAILING, entry.get("status", "failed"), message, inventory)
        elif applied and applied == entry.get("lastAttemptedRevision", applied):
            text = g.short_revision(applied)
            cells[cluster] = Cell(g.READY, text, entry.get("message", ""), inventory)
        else:
            attempted = g.short_revision(entry.get("lastAttemptedRevision"))
            cells[cluster] = Cell(g.PROGRESS, attempted or "applying", entry.get("message", ""), inventory)
        cell = cells[cluster]
        if view.pin is not None and view.pin.covers(cluster) and cell.status == g.READY:
            cells[cluster] = cell = Cell(g.READY, f"{g.PIN}{cell.text}", view.pin.describe(), inventory)
        if cluster in stale and cell.status in (g.READY, g.PROGRESS):
            cells[cluster] = Cell(g.STALE, cell.text, f"{cluster} stopped answering: {stale[cluster].reason}".rstrip(": "),
                                  cell.inventory)
    return cells


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
    built = _build_sources(state)
    index = {view.key: view for view in built}
    if len(_cache) > 8:
        _cache.clear()
    _cache[id(state)] = (state, versions, built, index)
    return built, index


def _build_sources(state: ManagementState) -> list[SourceView]:
    projects = {(_get(p, "metadata", "name")): p for p in state.items("projects")}
    by_ns = project_by_namespace(state)
    clusters = state.items("clusters")
    order = cluster_order(state)
    stale = stale_clusters(state)
    views: dict[tuple[str, str], SourceView] = {}
    for kind, attr in (("gitrepositories", "repository"), ("kustomizations", "kustomization")):
        for obj in state.items(kind):
            ns = _get(obj, "metadata", "namespace", default="")
            name = _get(obj, "metadata", "name", default="")
            view = views.setdefault((ns, name), SourceView(ns, name, by_ns.get(ns, ns)))
            setattr(view, attr, obj)
    for view in views.values():
        repo_spec = _get(view.repository, "spec", "template", "spec", default={}) or {}
        ks_spec = _get(view.kustomization, "spec", "template", "spec", default={}) or {}
        view.url = hide_url_password(repo_spec.get("url", ""))
        view.ref = ref_text(repo_spec.get("ref"))
        view.secret = (repo_spec.get("secretRef") or {}).get("name", "")
        view.interval = ks_spec.get("interval") or repo_spec.get("interval", "")
        view.path = ks_spec.get("path", "")
        view.prune = bool(ks_spec.get("prune", True))
        view.revision = _get(view.repository, "status", "artifact", "revision", default="") or ""
        placement = _get(view.kustomization, "spec", "placement") or _get(view.repository, "spec", "placement")
        if placement:
            view.clusters = in_order(placement_clusters(placement, clusters), order)
        else:
            view.clusters = in_order(project_clusters(projects.get(view.project), clusters), order)
        _hold(view, projects.get(view.project))
        view.pin = pin_of(view.kustomization)
        view.cells = _cells(view, stale)
        view.status, view.message = _source_status(view)
        view.status = stale_status(view.status, view.clusters, stale)
    return [views[k] for k in sorted(views)]
