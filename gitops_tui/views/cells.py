"""A source's cells and status word, read from its effective state (api/effective.py): a held cluster is never failing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gitops_tui.api import effective as ef
from gitops_tui.api.freeze import Freeze
from gitops_tui.api.pin import Pin
from gitops_tui.api.rollout import left_text
from gitops_tui.views import glyphs as g
from gitops_tui.views.rollout import halted_cell, held_cell, rollout_line, wave_prefix
from gitops_tui.views.timefmt import age


@dataclass(slots=True)
class Cell:
    """One source on one cluster: a status word, the short text shown and a longer message (read-only by convention)."""

    status: str
    text: str
    message: str = ""
    inventory: int = 0
    hold: ef.Hold | None = None
    """The hold behind the cell (a freeze, a pin, a break glass), None when it follows git."""
    intent: str = ef.INTENT_FOLLOW
    pinned: bool = False
    soak_until: datetime | None = None
    """When the soak of this cluster's wave ends (a rollout's wave soaking), None otherwise."""
    wave: str = ""
    """``2 ``: the cluster's wave in the source's rollout ('' without one)."""

    def shown(self, now: datetime) -> str:
        """The text at ``now``: a held cell's age moves with the clock (``alice 42m``), and a soak's time left
        (``1 soak 4m left``); the others are fixed."""
        if self.soak_until is not None and self.soak_until > now:
            return f"{self.wave}soak {left_text((self.soak_until - now).total_seconds())} left"
        if self.status == g.SUSPENDED and self.intent == ef.INTENT_FROZEN and \
                (self.hold is None or self.hold.kind != ef.HOLD_ROLLOUT):
            return f"{g.PIN if self.pinned else ''}{held_text(self.hold, now)}"
        return self.text


def as_freeze(hold: ef.Hold | None) -> Freeze | None:
    """A freeze hold as the console's Freeze (who, why, since, until, then, clusters, scope), None for no hold."""
    if hold is None:
        return None
    return Freeze(by=hold.by, reason=hold.reason, at=hold.since, until=hold.until, then=hold.then,
                  clusters=hold.clusters, scope=hold.scope, identity=hold.identity, verified=hold.verified)


def as_pin(hold: ef.Hold | None) -> Pin | None:
    """A pin hold as the console's Pin, None for no pin."""
    if hold is None:
        return None
    return Pin(revision=hold.revision, clusters=hold.clusters, by=hold.by, reason=hold.reason, at=hold.since,
               until_contains=hold.token, identity=hold.identity, verified=hold.verified)


def held_text(hold: ef.Hold | None, now: datetime) -> str:
    """A held Propagation cell: who (without the host) and since when (``alice 42m``)."""
    if hold is None:
        return "held"
    if hold.kind == ef.HOLD_WINDOW:  # a freeze window: its name (the detail line says until when and why)
        return hold.name
    who = hold.by.split("@", 1)[0] + ("?" if not hold.verified else "")
    return f"{who} {age(hold.since, now)}".rstrip()


def _held_message(cluster: ef.ClusterState) -> str:
    seen = cluster.observed
    keeps = f"; keeps {g.short_revision(seen.applied)}" if seen.applied else "; nothing applied yet"
    pin = f"; {cluster.pin.describe()}" if cluster.pin is not None else ""
    return f"{cluster.name} held: {cluster.hold.describe() if cluster.hold else 'frozen'}{keeps}{pin}"


def cell_of(cluster: ef.ClusterState, now: datetime, rollout: Any = None) -> Cell:
    """The Propagation cell of one cluster: held ‖, break glass ↯, pinned ◆, applied ✓, applying ↻, failed ✗, stale ◌;
    with a rollout, the cluster's wave first (``2 main@9f2c41d``, ``3 needs approval``, ``1 soak 4m left``)."""
    seen, hold = cluster.observed, cluster.hold
    pin = g.PIN if cluster.pin is not None else ""
    wave = wave_prefix(cluster)
    if cluster.held and hold is not None and hold.kind == ef.HOLD_ROLLOUT:
        text, message = held_cell(cluster)
        cell = Cell(g.WAITING, f"{pin}{text}", message, seen.objects, hold, cluster.intent, bool(pin), wave=wave)
    elif cluster.halted_here and not seen.status:
        text, message = halted_cell(cluster, rollout)
        cell = Cell(g.FAILING, text, message, seen.objects, hold, cluster.intent, wave=wave)
    elif cluster.held:
        cell = Cell(g.SUSPENDED, f"{pin}{held_text(hold, now)}", _held_message(cluster), seen.objects, hold,
                    cluster.intent, bool(pin))
    elif cluster.intent == ef.INTENT_BREAK_GLASS and cluster.outcome != ef.OUTCOME_FAILED:
        text = f"{g.BREAK_GLASS}{g.short_revision(cluster.target)}"
        cell = Cell(g.SUSPENDED, text, f"{cluster.name}: {hold.describe() if hold else 'break glass'}", seen.objects,
                    hold, cluster.intent)
    else:
        outcome = cluster.outcome
        lead = pin
        why = f"; {hold.describe()}" if hold is not None else ""
        if outcome == ef.OUTCOME_PENDING:
            cell = Cell(g.PROGRESS, f"{lead}pending", f"not applied yet{why}", seen.objects, hold, cluster.intent)
        elif outcome == ef.OUTCOME_FAILED:
            message = f"{seen.status}: {seen.message}".strip(": ")
            cell = Cell(g.FAILING, f"{wave}{seen.status or 'failed'}", message, seen.objects, hold, cluster.intent,
                        wave=wave)
        elif outcome == ef.OUTCOME_APPLIED:
            cell = Cell(g.READY, f"{lead}{wave}{g.short_revision(seen.applied)}", (seen.message + why).strip("; "),
                        seen.objects, hold, cluster.intent, wave=wave, soak_until=_soak_end(cluster, rollout))
        else:
            going = g.short_revision(cluster.target or seen.attempted) or "applying"
            cell = Cell(g.PROGRESS, f"{lead}{wave}{going}", (seen.message + why).strip("; "), seen.objects, hold,
                        cluster.intent, wave=wave)
    if seen.stale and cell.status in (g.READY, g.PROGRESS):
        note = f"{cluster.name} stopped answering: {seen.stale_reason}".rstrip(": ")
        cell = Cell(g.STALE, cell.text, note, cell.inventory, cell.hold, cell.intent, wave=wave)
    return cell


def _soak_end(cluster: ef.ClusterState, rollout: Any) -> datetime | None:
    """When the soak of the cluster's wave ends, while it soaks (None otherwise)."""
    from gitops_tui.api.formats import parse_time
    from gitops_tui.api.rollout import WAVE_SOAKING

    if rollout is None or cluster.wave is None or cluster.wave.state != WAVE_SOAKING or not rollout.spec.soak_seconds:
        return None
    started = parse_time(rollout.progress.soak_started)
    return None if started is None else started + timedelta(seconds=rollout.spec.soak_seconds)


def source_status(state: ef.SourceState, cells: dict[str, Cell]) -> tuple[str, str]:
    """The source's status word and message: failing over what it changes now, else progressing, held, ready."""
    if state.stalled is not None:
        return g.FAILING, state.stalled[1]
    rollout = state.rollout
    if rollout is not None and rollout.progress.halted is not None:
        return g.FAILING, rollout.progress.halted.reason
    failing = next((c for c in state.clusters if cells[c.name].status == g.FAILING), None)
    if failing is not None:
        return g.FAILING, f"{failing.name}: {failing.observed.message or failing.observed.status}"
    if any(c.status == g.PROGRESS for c in cells.values()):
        return g.PROGRESS, "applying"
    if rollout is not None and rollout.active and not any(c.freeze or c.window for c in state.clusters):
        return g.PROGRESS, rollout_line(rollout)
    if rollout is not None and not rollout.active and rollout.word != "done":
        return g.WAITING, rollout_line(rollout)
    if state.held:
        freeze = state.freeze
        if freeze is None:
            hold = next((c.hold for c in state.clusters if c.held and c.hold is not None), None)
            return g.SUSPENDED, hold.describe() if hold is not None else "held"
        return g.SUSPENDED, freeze.reason
    if not state.clusters:
        return (g.PROGRESS, "waiting for status") if state.revision or state.name else (g.UNKNOWN, "")
    return g.READY, f"applied revision {state.revision}" if state.revision else ""
