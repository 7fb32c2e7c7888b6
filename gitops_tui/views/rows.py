"""Pane tables: columns and rows (plain strings plus a status word) built from the state."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from gitops_tui.api.flux_role import flux_role
from gitops_tui.api.workload_events import SOURCE_ANNOTATION
from gitops_tui.views import freeze, model, names
from gitops_tui.views import glyphs as g
from gitops_tui.views.freshness import Staleness, cluster_staleness, stale_clusters, stale_note
from gitops_tui.views.rollout import rollout_line
from gitops_tui.views.source_tree import indent, parent_of, tree_order
from gitops_tui.views.state import ManagementState, event_time
from gitops_tui.views.timefmt import age, clock_time


@dataclass(frozen=True)
class Row:
    """One table row: a stable key, the cell texts, a status word and filter tags."""

    key: str
    cells: tuple[str, ...]
    status: str = g.NONE
    tags: dict[str, str] = field(default_factory=dict)
    statuses: tuple[str, ...] = ()
    """Optional per-cell status words (same length as ``cells``) for cell colouring."""


@dataclass(frozen=True)
class Table:
    """A pane's columns and rows, plus the text shown when there is no row."""

    columns: tuple[str, ...]
    rows: list[Row]
    empty: str = "Nothing here yet."
    flexible: dict[str, str] = field(default_factory=dict)
    """Columns that may be shortened to fit the pane: name -> which end to keep ("head" or "tail")."""
    optional: tuple[str, ...] = ()
    """Columns left out, in this order, while the table does not fit the pane (the detail line keeps them)."""
    gives_first: tuple[str, ...] = ()
    """Flexible columns shortened, in this order, down to their floor before any other flexible column is."""

    def without(self, column: str) -> Table:
        """Return the table without one column (cells and per-cell statuses dropped with it)."""
        index = self.columns.index(column)
        rows = [replace(r, cells=r.cells[:index] + r.cells[index + 1:],
                        statuses=r.statuses[:index] + r.statuses[index + 1:] if r.statuses else ())
                for r in self.rows]
        return Table(self.columns[:index] + self.columns[index + 1:], rows, self.empty,
                     {k: v for k, v in self.flexible.items() if k != column},
                     tuple(c for c in self.optional if c != column),
                     tuple(c for c in self.gives_first if c != column))


#: A flexible column is not cut under this many cells while an optional column can give way instead.
COMFORT = 24


def fit_table(table: Table, width: int, per_column: int = 0) -> tuple[Table, dict[int, int]]:
    """Fit a table to ``width`` cells (``per_column`` of them padding each column): optional columns are left
    out in order while flexible ones would be cut short, then flexible ones shortened. Return it and its caps."""
    while True:
        available = width - per_column * len(table.columns)
        caps = fit_widths(table, available)
        widths = _widths(table)
        fits = sum(caps.get(i, w) for i, w in enumerate(widths)) <= available
        cramped = any(cap < min(widths[i], COMFORT) for i, cap in caps.items())
        if not table.optional or (fits and not cramped):
            return table, caps
        table = table.without(table.optional[0])


def _widths(table: Table) -> list[int]:
    widths = [len(c) for c in table.columns]
    for row in table.rows:
        for index, cell in enumerate(row.cells[: len(widths)]):
            widths[index] = max(widths[index], len(cell))
    return widths


def fit_widths(table: Table, available: int, minimum: int = 14) -> dict[int, int]:
    """Return column index -> maximum width so the table fits ``available`` cells (flexible columns shrink)."""
    widths = _widths(table)
    excess = sum(widths) - available
    caps: dict[int, int] = {}
    for name in table.gives_first:  # these give way first, each down to its floor
        if excess <= 0 or name not in table.columns or name not in table.flexible:
            continue
        index = table.columns.index(name)
        cut = min(excess, max(0, widths[index] - max(minimum, len(name))))
        if cut:
            caps[index] = widths[index] - cut
            excess -= cut
    flexible = sorted((i for i, c in enumerate(table.columns) if c in table.flexible), key=lambda i: -widths[i])
    while excess > 0 and flexible:
        index = max(flexible, key=lambda i: caps.get(i, widths[i]))
        current = caps.get(index, widths[index])
        floor = max(minimum, len(table.columns[index]))
        if current <= floor:
            flexible.remove(index)
            continue
        cut = min(excess, current - floor, max(1, (current - floor + 1) // 2))
        caps[index] = current - cut
        excess -= cut
    return caps


def clip(text: str, width: int, keep: str) -> str:
    """Shorten ``text`` to ``width`` with an ellipsis, keeping its head or its tail."""
    if len(text) <= width:
        return text
    return "…" + text[-(width - 1):] if keep == "tail" else text[: width - 1] + "…"


def source_note(source: model.SourceView, stale: dict[str, Staleness], now: datetime) -> str:
    """The Message of a source: a failure first; else who / when / why of a freeze and a pin (both when both hold),
    a break glass under way, stale clusters; else its message."""
    if source.status == g.FAILING:
        return g.shorten_digests(source.message)
    parts = []
    if source.suspension:
        parts.append(freeze.suspension_text(source.suspension, now))
    state = source.state
    for window in state.windows if state is not None else ():  # a freeze window holding some clusters
        if state is not None and any(c.held and c.hold is window for c in state.clusters):
            parts.append(window.describe())
    glass = source.state.break_glass if source.state is not None else None
    if glass is not None and any(c.intent == "break-glass" for c in source.cells.values()):
        parts.append(f"{g.BREAK_GLASS} {g.shorten_digests(glass.describe())}")
    if source.pin is not None:
        parts.append(f"{g.PIN} {source.pin.describe()}")
    rollout = source.state.rollout if source.state is not None else None
    if rollout is not None and rollout.word != "done":
        parts.append(rollout_line(rollout, now))
    if source.status == g.STALE:
        parts.append(stale_note(source.clusters, stale, now))
    return " · ".join(parts) if parts else g.shorten_digests(source.message)


def sources_table(state: ManagementState, now: datetime) -> Table:
    """The GitOps Sources pane (the status label and URL give way first on narrow terminals)."""
    stale = stale_clusters(state)
    rows = []
    ordered = tree_order(model.sources(state), lambda s: (s.namespace, s.name), lambda s: parent_of(s.kustomization))
    for s, depth in ordered:
        rows.append(
            Row(
                key=s.key,
                cells=(
                    f"{g.glyph(s.status)} {indent(s.name, depth)}{flux_role(s.kustomization).tag()}",
                    g.LABELS[s.status],
                    s.project,
                    g.short_revision(s.revision) or "-",
                    ",".join(s.clusters) or "-",
                    source_note(s, stale, now),
                    s.url,
                ),
                status=s.status,
                tags={"source": s.name, "cluster": " ".join(s.clusters), "project": s.project},
            )
        )
    columns = ("Source", "Status", "Project", "Revision", "Clusters", "Message", "URL")
    return Table(columns, rows, "No GitOps source yet. Press n to create one.", {"Message": "head", "URL": "tail"},
                 optional=("URL", "Status"), gives_first=("URL",))


def all_clusters(state: ManagementState) -> list[str]:
    """Return the names of the registered clusters in the console's one cluster order."""
    return model.in_order((c["metadata"]["name"] for c in state.items("clusters")), model.cluster_order(state))


def propagation_table(state: ManagementState, now: datetime) -> Table:
    """The Propagation pane: sources by clusters, one cell each; a stale cluster's column says since when."""
    sources = model.sources(state)
    stale = stale_clusters(state)
    cluster_names = all_clusters(state)
    for s in sources:
        cluster_names += [c for c in s.clusters if c not in cluster_names]
    rows = []
    for s in sources:
        cells, statuses = [], []
        for cluster in cluster_names:
            cell = s.cells.get(cluster)
            if cell is None:
                cells.append(g.glyph(g.NONE))
                statuses.append(g.NONE)
            else:
                cells.append(f"{g.glyph(cell.status)} {cell.shown(now)}")
                statuses.append(cell.status)
        rows.append(
            Row(
                key=s.key,
                cells=(f"{g.glyph(s.status)} {s.name}", *cells),
                status=s.status,
                tags={"source": s.name, "cluster": " ".join(s.clusters), "project": s.project},
                statuses=(s.status, *statuses),
            )
        )
    headers = tuple(f"{g.glyph(g.STALE)} {stale[c].label(now)}" if c in stale else c for c in cluster_names)
    return Table(("Source", *headers), rows, "No GitOps source to propagate yet.", {h: "head" for h in headers})


def _cluster_status(cluster: dict[str, Any]) -> tuple[str, str]:
    ready = model.condition(cluster, "Ready")
    offline = model.condition(cluster, "Offline")
    if offline and offline.get("status") == "True":
        return g.OFFLINE, offline.get("message") or offline.get("reason", "")
    if ready and ready.get("status") == "True":
        return g.READY, ready.get("message", "")
    if ready:
        return g.OFFLINE, ready.get("message") or ready.get("reason", "")
    return g.UNKNOWN, "no status yet"


def cluster_statuses(state: ManagementState) -> dict[str, str]:
    """Map each registered cluster to ready / offline / unknown."""
    return {c["metadata"]["name"]: _cluster_status(c)[0] for c in state.items("clusters")}


def clusters_table(state: ManagementState, now: datetime) -> Table:
    """The Clusters pane: Ready or Offline (with the age of the last good data), endpoint, version."""
    rows = []
    order = model.cluster_order(state)
    by_name = {c["metadata"]["name"]: c for c in state.items("clusters")}
    for name in model.in_order(by_name, order):
        cluster = by_name[name]
        status, message = _cluster_status(cluster)
        st = cluster.get("status") or {}
        probed = state.get("versions", "", name) or {}
        version = probed.get("version") or st.get("kubernetesVersion") or st.get("version") or "-"
        stale = cluster_staleness(cluster)
        label = f"{g.LABELS[status]}, stale {age(stale.since, now)}".rstrip() if stale else g.LABELS[status]
        rows.append(
            Row(
                key=name,
                cells=(
                    f"{g.glyph(status)} {label}",
                    name,
                    (cluster.get("spec") or {}).get("apiEndpoint", ""),
                    version or "-",
                    message,
                ),
                status=status,
                tags={"cluster": name},
            )
        )
    return Table(("Status", "Cluster", "Endpoint", "Version", "Message"), rows, "No cluster registered.",
                 {"Message": "head"})


def projects_table(state: ManagementState, now: datetime) -> Table:
    """The Projects pane, with their clusters and a count of sources by status."""
    clusters = state.items("clusters")
    health = cluster_statuses(state)
    stale = stale_clusters(state)
    sources = model.sources(state)
    rows = []
    for project in state.items("projects"):
        name = project["metadata"]["name"]
        spec = project.get("spec") or {}
        placed = model.project_clusters(project, clusters)
        mine = [s for s in sources if s.project == name]
        counts = _counts(mine)
        frozen = model.project_suspension(project)
        if frozen is not None and not frozen.active(state.now()):
            frozen = None
        stale_count = f" {counts[g.STALE]}{g.glyph(g.STALE)}" if counts[g.STALE] else ""
        waiting_count = f" {counts[g.WAITING]}{g.glyph(g.WAITING)}" if counts[g.WAITING] else ""
        rows.append(
            Row(
                key=name,
                cells=(
                    (f"{g.glyph(g.SUSPENDED)} " if frozen else "")
                    + (f"{name} (platform)" if spec.get("platform") is True else name),
                    spec.get("displayName", ""),
                    spec.get("namespace", name),
                    " ".join(f"{g.glyph(g.STALE)}{stale[c].label(now)}" if c in stale
                             else f"{g.glyph(g.SUSPENDED)}{c}" if frozen and (not frozen.clusters or c in frozen.clusters)
                             else f"{g.glyph(health.get(c, g.UNKNOWN))}{c}" for c in placed) or "-",
                    f"{len(mine)} ({counts[g.READY]}{g.glyph(g.READY)} {counts[g.FAILING]}{g.glyph(g.FAILING)}"
                    f" {counts[g.SUSPENDED]}{g.glyph(g.SUSPENDED)}{waiting_count}{stale_count})",
                ),
                status=g.SUSPENDED if frozen or (mine and counts[g.SUSPENDED] == len(mine)) else g.NONE,
                tags={"project": name, "cluster": " ".join(placed)},
            )
        )
    return Table(("Project", "Display name", "Namespace", "Clusters", "Sources"), rows, "No project yet.",
                 optional=("Display name",))


def secrets_table(state: ManagementState, now: datetime) -> Table:
    """The Secrets pane: names, types and keys, never values."""
    by_ns = model.project_by_namespace(state)
    rows = []
    for secret in state.items("secrets"):
        meta = secret["metadata"]
        template = (secret.get("spec") or {}).get("template") or {}
        keys = sorted({*(template.get("data") or {}), *(template.get("stringData") or {})})
        project = by_ns.get(meta.get("namespace", ""), meta.get("namespace", ""))
        placed = model.secret_clusters(state, secret)
        rows.append(
            Row(
                key=f"{meta.get('namespace', '')}/{meta['name']}",
                cells=(meta["name"], project, template.get("type", "Opaque"), ",".join(keys), ",".join(placed)),
                tags={"project": project, "cluster": " ".join(placed), "source": meta["name"]},
            )
        )
    return Table(("Secret", "Project", "Type", "Keys", "Clusters"), rows, "No secret yet. Press n to create one.")


def _annotation(event: dict[str, Any], keys: tuple[str, ...]) -> str:
    annotations = (event.get("metadata") or {}).get("annotations") or {}
    return next((annotations[k] for k in keys if annotations.get(k)), "")


#: The Events stream's Source column is at most this wide (the filter and the detail line keep the whole name).
SOURCE_WIDTH = 24


def event_row(event: dict[str, Any]) -> Row:
    """Turn one core/v1 Event into an Events pane row (a workload cluster's Warning names its source)."""
    involved = event.get("involvedObject") or {}
    meta = event.get("metadata") or {}
    cluster = _annotation(event, names.EVENT_CLUSTER_KEYS)
    source = _annotation(event, (SOURCE_ANNOTATION,)) or involved.get("name", "")
    warning = event.get("type") == "Warning"
    return Row(
        key=f"{meta.get('namespace', '')}/{meta.get('name', '')}",
        cells=(
            clock_time(event_time(event)),
            event.get("type", ""),
            clip(source, SOURCE_WIDTH, "head"),
            cluster or "-",
            event.get("reason", ""),
            g.shorten_digests((event.get("message") or "").replace("\n", " ")),
        ),
        status=g.FAILING if warning else g.NONE,
        tags={"source": source, "cluster": cluster, "project": meta.get("namespace", "")},
    )


def events_table(state: ManagementState, now: datetime) -> Table:
    """The Events stream, newest last; a first row counts the older events the ring no longer keeps."""
    rows = [event_row(e) for e in state.items("events")]
    if state.events_dropped:
        rows.insert(0, Row(key="events-dropped", cells=("…", "", "", "", "", f"{state.events_dropped} older "
                           f"event(s) not kept here: `gitops-tui get events` lists them")))
    return Table(("Time", "Type", "Source", "Cluster", "Reason", "Message"), rows, "No event yet.", {"Message": "head"})


def _counts(sources: list[model.SourceView]) -> dict[str, int]:
    counts = {g.READY: 0, g.FAILING: 0, g.SUSPENDED: 0, g.WAITING: 0, g.PROGRESS: 0, g.STALE: 0, g.UNKNOWN: 0}
    for s in sources:
        counts[s.status] = counts.get(s.status, 0) + 1
    return counts


def source_counts(state: ManagementState) -> dict[str, int]:
    """Count sources by status word."""
    return _counts(model.sources(state))


def matches(row: Row, query: str) -> bool:
    """Filter: ``source=NAME``, ``cluster=NAME``, ``project=NAME`` tokens match a name exactly (``source=podinfo``
    is not podinfo-helm); free words match any part of any column. All must match."""
    for token in query.split():
        field_name, sep, wanted = token.partition("=")
        if sep and field_name in ("source", "cluster", "project"):
            values = row.tags.get(field_name, "").lower().split()
            if wanted.lower() not in values:
                return False
        elif not any(token.lower() in cell.lower() for cell in row.cells):
            return False
    return True
