"""Computing a source's effective state (api/effective.py's model) from its management objects. No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from gitops_tui.api.effective import Hold, SourceState
from gitops_tui.api.effective_holds import source_holds, source_overrides, window_holds
from gitops_tui.api.observed import observed_of, stale_index
from gitops_tui.api.placement import placed_in_memo
from gitops_tui.api.precedence import cluster_state
from gitops_tui.api.rollout_state import with_rollout
from gitops_tui.api.source import GitOpsSource

__all__ = ["source_state", "stale_index"]


def source_state(repository: dict[str, Any] | None, kustomization: dict[str, Any] | None,
                 project: dict[str, Any] | None, clusters: list[dict[str, Any]], now: datetime,
                 stale: dict[str, tuple[str, str]] | None = None,
                 placements: dict[Any, list[str]] | None = None) -> SourceState:
    """The effective state of one source, from its two objects, its Project (None when none) and the KubeFedClusters.

    ``stale`` is ``stale_index(clusters)`` and ``placements`` a dict the caller keeps, when it computes the state of
    many sources against the same clusters (placements are then resolved once per distinct placement).
    """
    source = GitOpsSource(repository, kustomization)
    project_name = str(((project or {}).get("metadata") or {}).get("name") or "") or source.namespace
    project_placement = ((project or {}).get("spec") or {}).get("placement") or {} if project is not None else None
    placed = placed_in_memo(source.placement, clusters, project_placement, placements)
    found = _in_placement_order(source_holds(source, project, now), placed)
    stale = stale_index(clusters) if stale is None else stale
    entries = {str(e.get("name") or ""): e for e in ((kustomization or {}).get("status") or {}).get("clusters") or []
               if isinstance(e, dict)}
    git = source.artifact_revision
    observed = {name: observed_of(entries.get(name), stale.get(name)) for name in placed}
    found, rollout = with_rollout(source, project, found, placed, {n: o.applied for n, o in observed.items()}, now)
    windows, window_wake = window_holds(project, placed, now)
    states = tuple(cluster_state(name, found, git, observed[name], rollout, windows) for name in placed)
    stalled = source.condition("Stalled")
    refused = (stalled.reason, stalled.message) if stalled is not None and stalled.is_true else None
    wake = min((w for w in (found.wake_in, window_wake, rollout.wake_in if rollout is not None else None)
                if w is not None), default=None)
    return SourceState(source.namespace, source.name, project_name, git, states, found.freezes, found.pin,
                       found.break_glass, found.ignored, found.member_writes, wake,
                       refused if any(not c.held for c in states) else None, windows,
                       source_overrides(kustomization, project, source.name), rollout)


def _in_placement_order(found: Any, placed: list[str]) -> Any:
    """The holds with their clusters in placement order (a record may list them otherwise)."""
    rank = {name: index for index, name in enumerate(placed)}

    def ordered(hold: Hold | None) -> Hold | None:
        if hold is None or len(hold.clusters) < 2:
            return hold
        clusters = tuple(sorted(hold.clusters, key=lambda c: (rank.get(c, len(rank)), c)))
        return hold if clusters == hold.clusters else replace(hold, clusters=clusters)

    holds = [*found.freezes, found.pin, found.break_glass]
    if all(h is None or len(h.clusters) < 2 for h in holds):
        return found
    return replace(found, freezes=tuple(ordered(f) for f in found.freezes), pin=ordered(found.pin),
                   break_glass=ordered(found.break_glass))
