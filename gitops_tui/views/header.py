"""The header line: context, who holds the reconciler lease, and source counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gitops_tui.views import glyphs as g
from gitops_tui.views import names
from gitops_tui.views.freeze import header_alerts
from gitops_tui.views.rows import source_counts
from gitops_tui.views.state import ManagementState
from gitops_tui.views.timefmt import parse_time

THIS_CONSOLE = "this console"
NOBODY = "nobody"


@dataclass(frozen=True)
class HeaderInfo:
    """What the header shows."""

    context: str
    leader: str
    """``this console``, ``nobody`` or the other holder's identity."""
    ready: int
    failing: int
    suspended: int
    progressing: int
    read_only: bool = False
    stale: int = 0
    """Sources whose data rests on a cluster that stopped answering."""
    read_only_reason: str = ""
    """Why the console is read-only when it was not asked to be (no write access)."""
    freezes: str = ""
    """Frozen projects and expired freezes (views.freeze.header_alerts), '' when none."""


def lease_holder(state: ManagementState, identity: str | None, now: datetime) -> str:
    """Return who holds the reconciler lease: this console, another identity, or nobody."""
    lease = state.get("leases", names.LEASE_NAMESPACE, names.LEASE_NAME)
    spec = (lease or {}).get("spec") or {}
    holder = spec.get("holderIdentity") or ""
    if not holder:
        return NOBODY
    renewed = parse_time(spec.get("renewTime") or spec.get("acquireTime"))
    duration = int(spec.get("leaseDurationSeconds") or 15)
    if renewed is not None and renewed + timedelta(seconds=duration) < now:
        return NOBODY
    return THIS_CONSOLE if identity and holder == identity else holder


def header_info(
    state: ManagementState, context: str, identity: str | None, now: datetime, read_only: bool = False,
    read_only_reason: str = "",
) -> HeaderInfo:
    """Build the header from the state."""
    counts = source_counts(state)
    return HeaderInfo(
        context=context,
        leader=lease_holder(state, identity, now),
        ready=counts[g.READY],
        failing=counts[g.FAILING],
        suspended=counts[g.SUSPENDED],
        progressing=counts[g.PROGRESS],
        read_only=read_only,
        stale=counts[g.STALE],
        read_only_reason=read_only_reason,
        freezes=header_alerts(state, now),
    )
