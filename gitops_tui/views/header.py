"""The header line: context, who holds which reconciler shard, and source counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gitops_tui.api import shards
from gitops_tui.views import glyphs as g
from gitops_tui.views import model, names
from gitops_tui.views.controls import header_windows
from gitops_tui.views.freeze import header_alerts
from gitops_tui.views.rollout import rollout_alerts
from gitops_tui.views.rows import source_counts
from gitops_tui.views.state import ManagementState

THIS_CONSOLE = "this console"
NOBODY = "nobody"
#: Added after the holders when this console's embedded reconciler yields to another member (``--reconcile auto``).
STANDS_BY = "this console stands by"


@dataclass(frozen=True)
class HeaderInfo:
    """What the header shows."""

    context: str
    leader: str
    """``this console``, ``nobody`` or the one holder of every shard; when split, who holds which shards."""
    ready: int
    failing: int
    suspended: int
    progressing: int
    read_only: bool = False
    stale: int = 0
    waiting: int = 0
    """Sources whose staged rollout waits for an approval (not suspended: nobody placed a hold)."""
    """Sources whose data rests on a cluster that stopped answering."""
    read_only_reason: str = ""
    """Why the console is read-only when it was not asked to be (no write access)."""
    freezes: str = ""
    """Frozen projects and expired freezes (views.freeze.header_alerts), '' when none."""
    rollouts: str = ""
    """Rollouts awaiting an approval or halted (views.rollout.rollout_alerts), '' when none."""
    windows: str = ""
    """Freeze windows open now (``window weekend open on prod until Mon 08:00``), '' when none."""


def lease_holder(state: ManagementState, identity: str | None, now: datetime) -> str:
    """Return who holds the reconciler shards: this console, the one other holder, nobody, or e.g.

    ``this console 0-3 · host/4242 4-6 · nobody 7`` when they are split (other holders as ``host/pid``, as
    `gitops-tui get reconcilers` lists them). When this console's embedded reconciler yields to another member
    (``--reconcile auto`` beside `gitops-tui run`), ``· this console stands by`` follows.
    """
    leases = [x for x in state.items("leases") if (x.get("metadata") or {}).get("namespace") == names.LEASE_NAMESPACE]
    fleet = shards.fleet(leases, now)
    holders = _holders(fleet, identity)
    if identity and identity in fleet.standing_by() and identity not in fleet.holders.values():
        return f"{holders} · {STANDS_BY}"
    return holders


def _holders(fleet: shards.Fleet, identity: str | None) -> str:
    """Who holds the shards: this console, the one other holder, nobody, or each holder with its shards."""
    by_holder: dict[str, list[int]] = {}
    for index, holder in sorted(fleet.holders.items()):
        by_holder.setdefault(holder, []).append(index)
    if not fleet.holders or set(by_holder) == {""}:
        return NOBODY

    def who(holder: str) -> str:
        if not holder:
            return NOBODY
        return THIS_CONSOLE if identity and holder == identity else "/".join(holder.split("/")[:2])

    if len(by_holder) == 1:
        return who(next(iter(by_holder)))

    return " · ".join(f"{who(h)} {shards.ranges(i)}" for h, i in sorted(by_holder.items(), key=lambda x: x[1][0]))


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
        waiting=counts[g.WAITING],
        progressing=counts[g.PROGRESS],
        read_only=read_only,
        stale=counts[g.STALE],
        read_only_reason=read_only_reason,
        freezes=header_alerts(state, now),
        rollouts=rollout_alerts(model.sources(state)),
        windows=header_windows(state, now),
    )
