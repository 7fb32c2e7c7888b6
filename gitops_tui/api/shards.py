"""Shards of the reconciler fleet: which shard a project falls in, the Lease names, who holds what. No I/O."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gitops_tui.api.formats import parse_time
from gitops_tui.api.names import LEASE_NAME

DEFAULT_SHARDS = 8
MAX_SHARDS = 256
#: Label on every Lease of the fleet: ``member`` (one per process) or ``shard`` (one per shard).
ROLE_LABEL = "gitops-tui.io/reconciler-lease"
ROLE_MEMBER, ROLE_SHARD = "member", "shard"
#: Annotation on member and shard Leases: the fleet's shard count (every process must agree on it).
SHARDS_ANNOTATION = "gitops-tui.io/shards"
#: Annotation on a shard Lease: its index.
SHARD_ANNOTATION = "gitops-tui.io/shard"
#: Annotation on a member Lease: ``standby`` for a console that reconciles only while no other kind of member lives
#: (``--reconcile auto``); absent (or ``active``) for `gitops-tui run`, the chart and ``--reconcile always``.
MODE_ANNOTATION = "gitops-tui.io/member-mode"
MODE_ACTIVE, MODE_STANDBY = "active", "standby"


def shard_of(namespace: str, count: int) -> int:
    """The shard of a project, from its namespace: CRC-32 (stable across processes and versions) modulo ``count``."""
    return zlib.crc32(namespace.encode()) % max(1, count)


def shard_lease_name(index: int) -> str:
    """The Lease of one shard: ``gitops-tui-reconciler-shard-<index>``."""
    return f"{LEASE_NAME}-shard-{index}"


def member_lease_name(identity: str) -> str:
    """The member Lease of one process (a DNS name derived from its identity)."""
    return f"{LEASE_NAME}-member-{hashlib.sha256(identity.encode()).hexdigest()[:12]}"


def lease_live(lease: dict[str, Any], now: datetime) -> bool:
    """Whether a Lease has a holder whose last renewal is within its duration (by ``now``)."""
    spec = lease.get("spec") or {}
    if not spec.get("holderIdentity"):
        return False
    renewed = parse_time(str(spec.get("renewTime") or spec.get("acquireTime") or ""))
    duration = float(spec.get("leaseDurationSeconds") or 15)
    return renewed is not None and renewed + timedelta(seconds=duration) >= now


def role(lease: dict[str, Any]) -> str:
    """The fleet role of a Lease (``member``, ``shard`` or "")."""
    return str(((lease.get("metadata") or {}).get("labels") or {}).get(ROLE_LABEL) or "")


def recorded_count(lease: dict[str, Any]) -> int | None:
    """The shard count recorded on a fleet Lease, or None."""
    value = ((lease.get("metadata") or {}).get("annotations") or {}).get(SHARDS_ANNOTATION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def standby(lease: dict[str, Any]) -> bool:
    """Whether a member Lease belongs to a standby member (a console that yields to `run` members)."""
    return ((lease.get("metadata") or {}).get("annotations") or {}).get(MODE_ANNOTATION) == MODE_STANDBY


def sharing(members: dict[str, bool]) -> set[str]:
    """The members that share the shards, from identity -> standby: the active ones, else (none alive) the standbys."""
    active = {who for who, waits in members.items() if not waits}
    return active or set(members)


def shard_index(lease: dict[str, Any]) -> int | None:
    """The index of a shard Lease, or None."""
    value = ((lease.get("metadata") or {}).get("annotations") or {}).get(SHARD_ANNOTATION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def holder(lease: dict[str, Any]) -> str:
    """The holderIdentity of a Lease ("" when unheld)."""
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


@dataclass
class Fleet:
    """What the Leases of gitops-tui-system say about the fleet at one moment."""

    count: int
    """The shard count (0 when no shard or member Lease records one)."""
    holders: dict[int, str] = field(default_factory=dict)
    """Each shard's live holder ("" when unheld or lapsed)."""
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Live member Leases by identity."""

    def held_by(self, identity: str) -> list[int]:
        """The shards ``identity`` holds, in order."""
        return sorted(i for i, who in self.holders.items() if who == identity)

    def unheld(self) -> list[int]:
        """The shards no live process holds."""
        return sorted(i for i, who in self.holders.items() if not who)

    def standing_by(self) -> list[str]:
        """Live standby members (consoles that hold nothing while an active member lives), by identity."""
        return sorted(who for who, lease in self.members.items() if standby(lease))


def fleet(leases: Iterable[dict[str, Any]], now: datetime) -> Fleet:
    """Read the fleet from the Leases of gitops-tui-system (live members; each shard's live holder)."""
    leases = list(leases)
    members = {holder(x): x for x in leases if role(x) == ROLE_MEMBER and lease_live(x, now)}
    counts = [c for x in members.values() if (c := recorded_count(x))]
    if not counts:
        counts = [c for x in leases if role(x) == ROLE_SHARD and lease_live(x, now) and (c := recorded_count(x))]
    count = max(counts, key=counts.count) if counts else 0
    holders = {i: "" for i in range(count)}
    for lease in leases:
        index = shard_index(lease)
        if role(lease) == ROLE_SHARD and index is not None and index < count and lease_live(lease, now):
            holders[index] = holder(lease)
    return Fleet(count=count, holders=holders, members=members)


def ranges(indices: Iterable[int]) -> str:
    """Shard indices as compact ranges: ``0-3,6``."""
    out: list[str] = []
    items = sorted(set(indices))
    start = prev = None
    for i in [*items, None]:
        if start is not None and (i is None or i != prev + 1):  # type: ignore[operator]
            out.append(str(start) if start == prev else f"{start}-{prev}")
            start = None
        if i is not None and start is None:
            start = i
        prev = i
    return ",".join(out)
