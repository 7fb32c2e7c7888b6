"""What a source's status says of each of its clusters, and which clusters stopped answering. No I/O."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from gitops_tui.api.cluster import stale_since

HEALTH_FAILED = "HealthCheckFailed"


@dataclass(slots=True)
class Observed:
    """What the status says of one cluster: revisions, result, objects, and whether the cluster still answers.

    Read-only by convention (not ``frozen``: a thousand sources are built per console refresh, and a frozen
    dataclass costs three times as much to make)."""

    recorded: bool = False
    """Whether the status has an entry for this cluster yet."""
    applied: str = ""
    attempted: str = ""
    status: str = ""
    """'' when fine, ``Progressing`` while applying, else the failure's reason."""
    message: str = ""
    objects: int = 0
    synced: str = ""
    drift: tuple[str, ...] = ()
    """Objects found drifted and not corrected (a held cluster's), as the status recorded them."""
    stale_since: str = ""
    stale_reason: str = ""
    stale: bool = False
    """True while the cluster does not answer: what is shown is its last good data."""

    @property
    def health(self) -> str:
        """``Failed`` after a health check failed, ``Current`` once applied without error, else ''."""
        if self.status == HEALTH_FAILED:
            return "Failed"
        return "Current" if self.applied and not self.status else ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {**asdict(self), "drift": list(self.drift), "health": self.health}


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
