"""The console's panes, in tab order: id, title, table builder, kinds followed, object kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from gitops_tui.tui.widgets.pane import TableBuilder
from gitops_tui.views import helm, rows
from gitops_tui.views.backend import Backend
from gitops_tui.views.journal_rows import journal_table
from gitops_tui.views.rows import Table
from gitops_tui.views.state import ManagementState

SOURCE_KINDS = ("gitrepositories", "kustomizations", "projects", "clusters")


def fixed(builder: Callable[[ManagementState, datetime], Table]) -> Callable[[Backend], TableBuilder]:
    """A pane whose rows come from the management state alone (whatever the backend)."""
    return lambda backend: builder


def helm_pane(backend: Backend) -> TableBuilder:
    """The Helm pane reads the backend's own Helm providers."""
    return partial(helm.helm_table, releases=backend.helm)


@dataclass(frozen=True)
class PaneSpec:
    """How one pane is built: ``builder(backend)`` gives the function that draws its table."""

    id: str
    title: str
    builder: Callable[[Backend], TableBuilder]
    kinds: tuple[str, ...]
    object_kind: str


PANES = (
    PaneSpec("projects", "Projects", fixed(rows.projects_table), SOURCE_KINDS, "project"),
    PaneSpec("sources", "Sources", fixed(rows.sources_table), SOURCE_KINDS, "source"),
    PaneSpec("propagation", "Propagation", fixed(rows.propagation_table), SOURCE_KINDS, "source"),
    PaneSpec("secrets", "Secrets", fixed(rows.secrets_table), ("secrets", "projects", "clusters"), "secret"),
    PaneSpec("helm", "Helm", helm_pane, (*SOURCE_KINDS, "helm"), "helm"),
    PaneSpec("clusters", "Clusters", fixed(rows.clusters_table), ("clusters", "versions"), "cluster"),
    PaneSpec("events", "Events", fixed(rows.events_table), ("events",), "event"),
    PaneSpec("journal", "Journal", fixed(journal_table), ("journal",), "journal"),
)
