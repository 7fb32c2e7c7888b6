"""Per-cluster status entries of federated objects (status.clusters) and the status shape."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from gitops_tui.api.formats import ObjectRef


@dataclass(frozen=True)
class ClusterStatus:
    """One status.clusters entry: status "" when fine, else a KubeFed/Flux-style reason."""

    name: str
    status: str = ""
    message: str = ""
    last_applied_revision: str = ""
    last_attempted_revision: str = ""
    inventory: list[dict[str, str]] = field(default_factory=list)
    last_sync_time: str = ""

    @property
    def ok(self) -> bool:
        """Whether the cluster is fine (status "")."""
        return self.status == ""

    @property
    def inventory_refs(self) -> list[ObjectRef]:
        """The inventory as ObjectRefs (malformed ids are skipped)."""
        refs = []
        for entry in self.inventory:
            try:
                refs.append(ObjectRef.from_entry(entry))
            except (KeyError, ValueError):
                continue
        return refs

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ClusterStatus:
        """Build from a status.clusters entry."""
        return cls(
            name=str(raw.get("name", "")),
            status=str(raw.get("status") or ""),
            message=str(raw.get("message") or ""),
            last_applied_revision=str(raw.get("lastAppliedRevision") or ""),
            last_attempted_revision=str(raw.get("lastAttemptedRevision") or ""),
            inventory=[dict(e) for e in raw.get("inventory") or []],
            last_sync_time=str(raw.get("lastSyncTime") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        """The status.clusters entry dict (all fields present, status "" when fine)."""
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "lastAppliedRevision": self.last_applied_revision,
            "lastAttemptedRevision": self.last_attempted_revision,
            "inventory": [dict(e) for e in self.inventory],
            "lastSyncTime": self.last_sync_time,
        }


def cluster_statuses(status: dict[str, Any] | None) -> list[ClusterStatus]:
    """The typed status.clusters list of a status dict."""
    return [ClusterStatus.from_dict(c) for c in (status or {}).get("clusters") or []]


def set_cluster_status(
    clusters: list[dict[str, Any]] | None, entry: ClusterStatus
) -> list[dict[str, Any]]:
    """Return a new status.clusters list with `entry` replacing the one of the same name, sorted by name."""
    result = [copy.deepcopy(c) for c in clusters or [] if c.get("name") != entry.name]
    result.append(entry.to_dict())
    return sorted(result, key=lambda c: str(c.get("name", "")))


def remove_cluster_status(clusters: list[dict[str, Any]] | None, name: str) -> list[dict[str, Any]]:
    """Return a new status.clusters list without the named cluster."""
    return [copy.deepcopy(c) for c in clusters or [] if c.get("name") != name]
