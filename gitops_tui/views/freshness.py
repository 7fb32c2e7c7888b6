"""Clusters that stopped answering and since when: their cells are drawn stale with an age, never as ready."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gitops_tui.api.cluster import stale_since
from gitops_tui.views import glyphs as g
from gitops_tui.views.state import ManagementState
from gitops_tui.views.timefmt import age


@dataclass(frozen=True)
class Staleness:
    """One cluster whose data is not fresh: since when (the last good data) and why."""

    cluster: str
    since: str
    """RFC 3339 time the cluster stopped answering ('' when unknown)."""
    reason: str = ""

    def label(self, now: datetime) -> str:
        """Return ``prod: stale 2m`` (``prod: stale`` when the time is unknown)."""
        since = age(self.since, now)
        return f"{self.cluster}: stale {since}".rstrip()


def cluster_staleness(cluster: dict[str, Any]) -> Staleness | None:
    """Return the staleness of a KubeFedCluster whose probe fails (Ready False), else None (api.cluster.stale_since)."""
    found = stale_since(cluster)
    if found is None:
        return None
    return Staleness(str((cluster.get("metadata") or {}).get("name", "")), found[0], found[1])


def stale_clusters(state: ManagementState) -> dict[str, Staleness]:
    """Return every registered cluster that stopped answering, by name."""
    found = {}
    for cluster in state.items("clusters"):
        stale = cluster_staleness(cluster)
        if stale is not None:
            found[stale.cluster] = stale
    return found


def merge(*groups: Mapping[str, Staleness]) -> dict[str, Staleness]:
    """Merge staleness from several observers; the oldest last-good time of a cluster wins."""
    merged: dict[str, Staleness] = {}
    for group in groups:
        for name, stale in group.items():
            known = merged.get(name)
            if known is None or (stale.since and (not known.since or stale.since < known.since)):
                merged[name] = stale
    return merged


def stale_status(status: str, clusters: Iterable[str], stale: Mapping[str, Staleness]) -> str:
    """Return STALE for a ready status that rests on a stale cluster (never drawn as ready), else the status."""
    if status == g.READY and any(c in stale for c in clusters):
        return g.STALE
    return status


def stale_note(clusters: Iterable[str], stale: Mapping[str, Staleness], now: datetime) -> str:
    """Return ``prod: stale 2m`` for each stale cluster among ``clusters`` ('' when none)."""
    return ", ".join(stale[c].label(now) for c in clusters if c in stale)
