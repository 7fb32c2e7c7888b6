"""The effective state of a source on each of its clusters: the intent, the hold behind it, what was observed. No I/O.

Computed once, from the management objects alone (the Project, the KubeFedClusters, the FederatedGitRepository and the
FederatedKustomization with their status), by ``source_state``. Every surface reads it and nothing else: the reconciler
(what to apply where), the status conditions, ``get``, ``describe``, ``diff``, ``tree``, the panes, the header, the
journal and the Events (docs/architecture.md, "One read path").

Precedence, per cluster, is one rule (``api/precedence.py``; the table is in docs/reconciler.md, "Precedence"): a freeze
beats a window, a window beats a rollout wave, a pin holds its clusters against all of them, and break glass lifts
exactly one apply of a cluster that any of them keeps from writing.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from gitops_tui.api.cluster import stale_since
from gitops_tui.api.effective_holds import source_holds, source_overrides, window_holds
from gitops_tui.api.effective_model import (
    HEALTH_FAILED,
    HOLD_BREAK_GLASS,
    HOLD_FREEZE,
    HOLD_PIN,
    HOLD_ROLLOUT,
    HOLD_WINDOW,
    INTENT_BREAK_GLASS,
    INTENT_FOLLOW,
    INTENT_FROZEN,
    INTENT_PINNED,
    INTENTS,
    OUTCOME_APPLIED,
    OUTCOME_APPLYING,
    OUTCOME_FAILED,
    OUTCOME_HELD,
    OUTCOME_PENDING,
    PROGRESSING,
    REASON_FROZEN,
    REASON_ROLLOUT,
    REASON_ROLLOUT_HALTED,
    SCOPE_PROJECT,
    SCOPE_ROLLOUT,
    SCOPE_SOURCE,
    SCOPE_WINDOW,
    ClusterState,
    Hold,
    IgnoredWrite,
    MemberWrite,
    Observed,
    SourceState,
    freeze_hold,
    glass_hold,
    pin_hold,
)
from gitops_tui.api.placement import placed_clusters
from gitops_tui.api.precedence import cluster_state
from gitops_tui.api.rollout_state import with_rollout
from gitops_tui.api.source import GitOpsSource

#: The shapes live in effective_model.py; every surface reads them from here, with ``source_state``.
__all__ = [
    "ClusterState",
    "HEALTH_FAILED",
    "HOLD_BREAK_GLASS",
    "HOLD_FREEZE",
    "HOLD_PIN",
    "HOLD_ROLLOUT",
    "HOLD_WINDOW",
    "Hold",
    "INTENTS",
    "INTENT_BREAK_GLASS",
    "INTENT_FOLLOW",
    "INTENT_FROZEN",
    "INTENT_PINNED",
    "IgnoredWrite",
    "MemberWrite",
    "OUTCOME_APPLIED",
    "OUTCOME_APPLYING",
    "OUTCOME_FAILED",
    "OUTCOME_HELD",
    "OUTCOME_PENDING",
    "Observed",
    "PROGRESSING",
    "REASON_FROZEN",
    "REASON_ROLLOUT",
    "REASON_ROLLOUT_HALTED",
    "SCOPE_PROJECT",
    "SCOPE_ROLLOUT",
    "SCOPE_SOURCE",
    "SCOPE_WINDOW",
    "SourceState",
    "freeze_hold",
    "glass_hold",
    "observed_of",
    "pin_hold",
    "source_state",
    "stale_index",
]


def stale_index(clusters: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """(since, why) of each KubeFedCluster that stopped answering, by name: computed once for many sources."""
    found = {}
    for cluster in clusters:
        stale = stale_since(cluster)
        if stale is not None:
            found[str((cluster.get("metadata") or {}).get("name") or "")] = stale
    return found


def observed_of(entry: dict[str, Any] | None, stale: tuple[str, str] | None) -> Observed:
    """What a status.clusters entry says, and whether its cluster stopped answering (``stale``: since, why)."""
    if entry is None:
        return Observed(stale=stale is not None, stale_since=stale[0] if stale else "",
                        stale_reason=stale[1] if stale else "")
    return Observed(recorded=True, applied=str(entry.get("lastAppliedRevision") or ""),
                    attempted=str(entry.get("lastAttemptedRevision") or ""), status=str(entry.get("status") or ""),
                    message=str(entry.get("message") or ""), objects=len(entry.get("inventory") or []),
                    synced=str(entry.get("lastSyncTime") or ""),
                    drift=tuple(str(d) for d in entry.get("drift") or []),
                    stale=stale is not None, stale_since=stale[0] if stale else "",
                    stale_reason=stale[1] if stale else "")


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
    placed = _placed(source.placement, clusters, project_placement, placements)
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


def _placed(placement: dict[str, Any], clusters: list[dict[str, Any]], project_placement: dict[str, Any] | None,
            memo: dict[Any, list[str]] | None) -> list[str]:
    """placed_clusters, remembered in ``memo`` by the two placements (as JSON) when one is given."""
    if memo is None:
        return placed_clusters(placement, clusters, project_placement)
    key = (_placement_key(placement), _placement_key(project_placement))
    if key not in memo:
        memo[key] = placed_clusters(placement, clusters, project_placement)
    return memo[key]


def _placement_key(placement: dict[str, Any] | None) -> Any:
    """A hashable key of a placement: its cluster names when it lists them (the common case), else its JSON."""
    if not placement:
        return None if placement is None else ""
    if set(placement) == {"clusters"} and isinstance(placement["clusters"], list):
        return tuple(str((c or {}).get("name")) for c in placement["clusters"] if isinstance(c, dict))
    return json.dumps(placement, sort_keys=True)


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
