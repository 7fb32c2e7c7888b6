"""The console's panes, in tab order: id, title, table builder, kinds followed, object kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gitops_tui.tui.widgets.pane import TableBuilder
from gitops_tui.views import helm, rows
from gitops_tui.views.state import ManagementState

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
    """The Helm Releases pane from the registered providers (empty state until one exists)."""
    table_rows = [
        rows.Row(
            key=f"{r.namespace}/{r.release}",
            cells=(r.release, r.namespace, r.chart, r.chart_version, r.app_version, r.status,
                   str(r.revision), r.updated, ",".join(r.clusters)),
            tags={"source": r.release, "cluster": " ".join(r.clusters), "project": r.namespace},
        )
        for r in helm.helm_rows(state)
    ]
    return rows.Table(helm.COLUMNS, table_rows, helm.EMPTY)


PANES = (
    PaneSpec("projects", "Projects", rows.projects_table, SOURCE_KINDS, "project"),
    PaneSpec("sources", "Sources", rows.sources_table, SOURCE_KINDS, "source"),
    PaneSpec("propagation", "Propagation", rows.propagation_table, SOURCE_KINDS, "source"),
    PaneSpec("secrets", "Secrets", rows.secrets_table, ("secrets", "projects", "clusters"), "secret"),
    PaneSpec("helm", "Helm", helm_table, SOURCE_KINDS, "helm"),
    PaneSpec("clusters", "Clusters", rows.clusters_table, ("clusters", "versions"), "cluster"),
    PaneSpec("events", "Events", rows.events_table, ("events",), "event"),
)
