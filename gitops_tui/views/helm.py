"""Helm Releases pane data: a backend's providers (HelmSources), rows, differing versions, history. No I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gitops_tui.helm.listing import ReleaseRow
from gitops_tui.views import glyphs as g
from gitops_tui.views.freshness import Staleness, merge, stale_clusters, stale_note, stale_status
from gitops_tui.views.model import cluster_order, in_order
from gitops_tui.views.rows import Row, Table
from gitops_tui.views.state import ManagementState
from gitops_tui.views.timefmt import age, stamp


@dataclass(frozen=True)
class HelmRevision:
    """One stored revision of a release on one cluster (never its values: they may come from Secrets)."""

    revision: int
    status: str
    chart: str
    chart_version: str
    app_version: str
    updated: str
    description: str


#: Columns of the Helm Releases pane, in order (what tells releases apart first, for 80 columns).
COLUMNS = ("Release", "Version", "Clusters", "Status", "Rev", "Chart", "App version", "Updated", "Namespace")

#: Marks a chart version that differs from the same release's version on other clusters.
DIFFERS = "≠"

#: Text shown while no provider gives rows.
EMPTY = "No Helm release found. Releases rendered from HelmRelease objects will appear here."
#: Text shown until every cluster answered its first listing.
LOADING = "Loading Helm releases… waiting for every cluster's first listing."
#: Text shown while no project is known (releases are read on the projects' clusters).
NO_PROJECT = "No project yet: Helm releases are read in each project's namespace on its clusters."

HelmProvider = Callable[[ManagementState], list[ReleaseRow]]


class HelmSources:
    """The Helm release providers of one backend (each backend owns its own: no module-global registry).

    A provider is called with the state and gives rows; it may also answer ``loading(state)``, ``failing()``
    and keep a ``view`` with ``history(cluster, namespace, name)`` (the live watch, recorded releases).
    """

    def __init__(self, *providers: HelmProvider) -> None:
        self._providers: list[HelmProvider] = list(providers)

    def register(self, provider: HelmProvider) -> None:
        """Add a provider (once)."""
        if provider not in self._providers:
            self._providers.append(provider)

    def unregister(self, provider: HelmProvider) -> None:
        """Remove a provider (a backend that closes takes its provider with it)."""
        if provider in self._providers:
            self._providers.remove(provider)

    def providers(self) -> list[HelmProvider]:
        """The providers, in the order registered."""
        return list(self._providers)


def mark_differences(rows: Iterable[ReleaseRow]) -> list[ReleaseRow]:
    """Set ``versions_differ`` on every row of a release that runs at more than one chart version."""
    rows = list(rows)
    versions: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        versions[(row.namespace, row.name)].add(row.chart_version)
    return [replace(r, versions_differ=r.versions_differ or len(versions[(r.namespace, r.name)]) > 1)
            for r in rows]


def helm_rows(state: ManagementState, releases: HelmSources) -> list[ReleaseRow]:
    """Return the Helm release rows from every provider of ``releases`` ([] when none), differences marked."""
    rows: list[ReleaseRow] = []
    for provider in releases.providers():
        rows.extend(provider(state))
    return sorted(mark_differences(rows), key=lambda r: (r.namespace, r.name, r.chart_version))


def loading(state: ManagementState, releases: HelmSources) -> bool:
    """True while a provider has not yet heard from every cluster once (the pane says loading, not empty)."""
    return any((check := getattr(p, "loading", None)) is not None and check(state) for p in releases.providers())


def staleness(state: ManagementState, releases: HelmSources) -> dict[str, Staleness]:
    """Clusters whose releases are not fresh: not Ready, or their last Helm listing failed (since the last good one)."""
    failing: dict[str, Staleness] = {}
    for provider in releases.providers():
        report = getattr(provider, "failing", None)
        for cluster, (since, why) in (report() if report is not None else {}).items():
            failing[cluster] = Staleness(cluster, since, why)
    return merge(stale_clusters(state), failing)


def helm_table(state: ManagementState, now: datetime, releases: HelmSources) -> Table:
    """The Helm Releases pane: one row per release and chart version; differing versions and stale clusters marked."""
    table_rows = []
    order = cluster_order(state)
    stale = staleness(state, releases)
    for r in helm_rows(state, releases):
        version = f"{DIFFERS} {r.chart_version}" if r.versions_differ else r.chart_version
        updated = age(r.updated, now)
        clusters = in_order(r.clusters, order)
        status = stale_status(release_status(r.status), clusters, stale)
        note = stale_note(clusters, stale, now)
        shown = f"{g.glyph(status)} {r.status}" if status != g.NONE else r.status
        table_rows.append(Row(
            key=r.key,
            cells=(r.name, version, ",".join(clusters), f"{shown}, {note}" if note else shown,
                   str(r.revision), r.chart, r.app_version or "-", f"{updated} ago" if updated else "-", r.namespace),
            statuses=(g.NONE, g.DIFFERS if r.versions_differ else g.NONE, g.NONE, status,
                      g.NONE, g.NONE, g.NONE, g.NONE, g.NONE),
            tags={"source": r.name, "cluster": " ".join(clusters), "project": r.namespace},
        ))
    empty = LOADING if loading(state, releases) else EMPTY if state.items("projects") else NO_PROJECT
    return Table(COLUMNS, table_rows, empty, {"Status": "head"},
                 optional=("Namespace", "App version", "Updated", "Chart"))


def release_status(status: str) -> str:
    """Map Helm's release status to a status word (deployed ready, failed failing, pending in progress)."""
    if status == "deployed":
        return g.READY
    if status.startswith("pending"):
        return g.PROGRESS
    if status in ("failed",) or status.startswith("mixed"):
        return g.FAILING
    return g.NONE


def _revision(record: Any) -> HelmRevision:
    return HelmRevision(int(record.revision), str(record.status), str(record.chart), str(record.chart_version),
                        str(record.app_version or ""), str(record.updated or ""), str(record.description or ""))


def release_history(row: ReleaseRow, releases: HelmSources) -> dict[str, list[HelmRevision]]:
    """Return cluster -> the row's release revisions there, newest first (from providers that keep a view)."""
    found: dict[str, list[HelmRevision]] = {}
    for provider in releases.providers():
        view = getattr(provider, "view", None)
        if view is None or not hasattr(view, "history"):
            continue
        for cluster in row.clusters:
            records = view.history(cluster, row.namespace, row.name)
            if records:
                found[cluster] = sorted((_revision(r) for r in records), key=lambda r: r.revision, reverse=True)
    return found


def detail_text(row: ReleaseRow, history: dict[str, list[HelmRevision]],
                others: Iterable[ReleaseRow] = (), order: dict[str, int] | None = None) -> str:
    """Return the per-cluster detail of a row: its facts, then each cluster's revision history (no values).

    ``others`` are the rows of the same release at other chart versions (named when versions differ); clusters are
    listed in ``order`` (the console's one cluster order, ``model.cluster_order``) when given.
    """
    clusters = in_order(row.clusters, order) if order is not None else list(row.clusters)
    elsewhere = "; ".join(f"{','.join(in_order(o.clusters, order) if order else o.clusters)} run {o.chart_version}"
                          for o in others
                          if (o.namespace, o.name) == (row.namespace, row.name)
                          and o.chart_version != row.chart_version)
    version = f"{row.chart_version}  {DIFFERS} differs: {elsewhere or 'other clusters run another version'}" \
        if row.versions_differ else row.chart_version
    lines = [
        f"Release:    {row.name}",
        f"Namespace:  {row.namespace}",
        f"Chart:      {row.chart}",
        f"Version:    {version}",
        f"App:        {row.app_version or '-'}",
        f"Status:     {row.status}",
        f"Clusters:   {', '.join(clusters) or '-'}",
        "Values are not shown: they may come from Secrets.",
    ]
    for cluster in clusters:
        lines += ["", f"History on {cluster} (newest first, times UTC):"]
        revisions = history.get(cluster) or []
        lines += history_table(revisions) if revisions else ["  (history not read yet)"]
    return "\n".join(lines)


def history_table(revisions: list[HelmRevision]) -> list[str]:
    """Return the revision table of one cluster, each column as wide as its widest cell (never past its header)."""
    header = ("REV", "STATUS", "CHART", "APP", "UPDATED", "DESCRIPTION")
    cells = [(str(r.revision), r.status, f"{r.chart}-{r.chart_version}", r.app_version or "-",
              stamp(r.updated).removesuffix(" UTC"), r.description) for r in revisions]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header) - 1)]

    def line(row: tuple[str, ...]) -> str:
        first = row[0].rjust(widths[0])
        rest = " ".join(value.ljust(width) for value, width in zip(row[1:-1], widths[1:], strict=True))
        return f"  {first} {rest} {row[-1]}".rstrip()

    return [line(header), *(line(row) for row in cells)]
