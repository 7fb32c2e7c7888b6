"""The console's panes, in tab order: id, title, table builder, kinds followed, object kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gitops_tui.tui.widgets.pane import TableBuilder
from gitops_tui.views import glyphs as g
from gitops_tui.views import helm, rows
from gitops_tui.views.state import ManagementState
from gitops_tui.views.timefmt import age

SOURCE_KINDS = ("gitrepositories", "kustomizations", "projects", "clusters")


@dataclass(frozen=True)
class PaneSpec:
    """How one pane is built."""

    id: str
    title: str
    builder: TableBuilder
    kinds: tuple[str, ...]
    object_kind: str


def helm_table(state: ManagementState, now: datetime) -> rows.Table:
    """The Helm Releases pane: one row per release and chart version; a differing version is marked."""
    table_rows = []
    for r in helm.helm_rows(state):
        version = f"{helm.DIFFERS} {r.chart_version}" if r.versions_differ else r.chart_version
        updated = age(r.updated, now)
        table_rows.append(rows.Row(
            key=r.key,
            cells=(r.name, version, ",".join(r.clusters), r.status, str(r.revision), r.chart,
                   r.app_version or "-", f"{updated} ago" if updated else "-", r.namespace),
            statuses=(g.NONE, g.DIFFERS if r.versions_differ else g.NONE, g.NONE, _release_status(r.status),
                      g.NONE, g.NONE, g.NONE, g.NONE, g.NONE),
            tags={"source": r.name, "cluster": " ".join(r.clusters), "project": r.namespace},
        ))
    return rows.Table(helm.COLUMNS, table_rows, helm.EMPTY)


def _release_status(status: str) -> str:
    """Map Helm's release status to a status word (deployed ready, failed failing, pending in progress)."""
    if status == "deployed":
        return g.READY
    if status.startswith("pending"):
        return g.PROGRESS
    if status in ("failed",) or status.startswith("mixed"):
        return g.FAILING
    return g.NONE


PANES = (
    PaneSpec("projects", "Projects", rows.projects_table, SOURCE_KINDS, "project"),
    PaneSpec("sources", "Sources", rows.sources_table, SOURCE_KINDS, "source"),
    PaneSpec("propagation", "Propagation", rows.propagation_table, SOURCE_KINDS, "source"),
    PaneSpec("secrets", "Secrets", rows.secrets_table, ("secrets", "projects", "clusters"), "secret"),
    PaneSpec("helm", "Helm", helm_table, (*SOURCE_KINDS, "helm"), "helm"),
    PaneSpec("clusters", "Clusters", rows.clusters_table, ("clusters", "versions"), "cluster"),
    PaneSpec("events", "Events", rows.events_table, ("events",), "event"),
)
