"""The console's panes, in tab order: id, title, table builder, kinds followed, object kind."""

from __future__ import annotations

from dataclasses import dataclass

from gitops_tui.tui.widgets.pane import TableBuilder
from gitops_tui.views import helm, rows
from gitops_tui.views.journal_rows import journal_table

SOURCE_KINDS = ("gitrepositories", "kustomizations", "projects", "clusters")


@dataclass(frozen=True)
class PaneSpec:
    """How one pane is built."""

    id: str
    title: str
    builder: TableBuilder
    kinds: tuple[str, ...]
    object_kind: str


PANES = (
    PaneSpec("projects", "Projects", rows.projects_table, SOURCE_KINDS, "project"),
    PaneSpec("sources", "Sources", rows.sources_table, SOURCE_KINDS, "source"),
    PaneSpec("propagation", "Propagation", rows.propagation_table, SOURCE_KINDS, "source"),
    PaneSpec("secrets", "Secrets", rows.secrets_table, ("secrets", "projects", "clusters"), "secret"),
    PaneSpec("helm", "Helm", helm.helm_table, (*SOURCE_KINDS, "helm"), "helm"),
    PaneSpec("clusters", "Clusters", rows.clusters_table, ("clusters", "versions"), "cluster"),
    PaneSpec("events", "Events", rows.events_table, ("events",), "event"),
    PaneSpec("journal", "Journal", journal_table, ("journal",), "journal"),
)
