"""Staged rollouts as the console shows them: each Propagation cell's wave, the source's rollout line, the header's
alerts and the describe lines; all read from the effective state (api/rollout_state.py). No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from gitops_tui.api import effective as ef
from gitops_tui.api import rollout as ro
from gitops_tui.views import glyphs as g

#: Short words of a held wave's cell (the full state is in the detail line and describe).
HELD_WORDS = {ro.WAVE_WAITING: "awaiting wave", ro.WAVE_APPROVAL: "needs approval", ro.WAVE_HALTED: "halted"}


def wave_prefix(cluster: ef.ClusterState) -> str:
    """``2 `` (the cluster's wave, 1-based) when the source has a rollout, else ''."""
    wave = cluster.wave
    if wave is None:
        return ""
    return f"{wave.index + 1} " if wave.index < wave.count else "+ "


def held_cell(cluster: ef.ClusterState) -> tuple[str, str]:
    """(text, message) of a cluster a rollout holds: ``3 needs approval``; the message says why and what it keeps."""
    wave, hold, seen = cluster.wave, cluster.hold, cluster.observed
    word = HELD_WORDS.get(wave.state, wave.state) if wave is not None else "held"
    keeps = f"; keeps {g.short_revision(seen.applied)}" if seen.applied else "; nothing applied yet"
    return f"{wave_prefix(cluster)}{word}", f"{cluster.name} held: {hold.reason if hold else word}{keeps}"


def soaking_text(cluster: ef.ClusterState, rollout: Any, now: datetime) -> str:
    """``1 soak 4m left`` for an applied cluster of the wave soaking now, '' otherwise."""
    wave = cluster.wave
    if wave is None or rollout is None or wave.state != ro.WAVE_SOAKING:
        return ""
    left = rollout.progress.soak_left(rollout.spec.soak_seconds, now)
    return f"{wave_prefix(cluster)}soak {ro.left_text(left)} left" if left else ""


def halted_cell(cluster: ef.ClusterState, rollout: Any) -> tuple[str, str]:
    """(text, message) of a cluster of the wave where the rollout halted: ``1 DryRunFailed`` or ``1 unhealthy``."""
    halt = rollout.progress.halted if rollout is not None else None
    word = cluster.observed.status or "unhealthy"
    return f"{wave_prefix(cluster)}{word}", halt.reason if halt is not None else word


def rollout_line(rollout: Any, now: datetime | None = None) -> str:
    """``» rollout dev → staging → prod at staging (2 of 3), soaking 4m left: main@abc1234`` ('' when none); at
    ``now`` when given (a soak's time left moves with the clock)."""
    if rollout is None:
        return ""
    if now is not None:
        rollout = replace(rollout, now=now)
    waves = " → ".join(w.name for w in rollout.spec.waves)
    return f"{g.ROLLOUT} rollout {waves} {g.shorten_digests(rollout.summary())}"


def rollout_alerts(sources: list[Any]) -> str:
    """The header's rollout alerts: ``api halted at dev · web awaits approval of prod``, counted when more than one
    of a kind (``2 rollouts halted · 3 await approval``); '' when none."""
    halted, waiting = [], []
    for view in sources:
        rollout = view.state.rollout if view.state is not None else None
        if rollout is None:
            continue
        if rollout.progress.halted is not None:
            halted.append(f"{view.name} halted at {rollout.progress.halted.wave}")
        elif rollout.word == ro.STATE_APPROVAL and rollout.awaiting is not None:
            waiting.append(f"{view.name} awaits approval of {rollout.spec.waves[rollout.awaiting].name}")
    parts = [halted[0] if len(halted) == 1 else f"{len(halted)} rollouts halted" if halted else "",
             waiting[0] if len(waiting) == 1 else f"{len(waiting)} rollouts await approval" if waiting else ""]
    return " · ".join(p for p in parts if p)


def describe_rollout(rollout: Any, now: datetime | None = None) -> list[str]:
    """Describe lines: the waves with their states and approvals, who set it up and why, a halt's cause."""
    if rollout is None:
        return []
    if now is not None:
        rollout = replace(rollout, now=now)
    spec = rollout.spec
    who = f"{spec.by}{'' if spec.verified else ' (unverified)'}"
    lines = [f"Rollout:    {g.ROLLOUT} {spec.describe()}, by {who} at {spec.at}: {spec.reason}",
             f"            {g.shorten_digests(rollout.summary())}"]
    for index, wave in enumerate(spec.waves):
        approval = rollout.approval(index)
        note = f"approved by {approval.by} at {approval.at}: {approval.reason}" if approval is not None else \
            "waits for approval (a)" if wave.approve else ""
        state = rollout.wave_state(index)
        if state == ro.WAVE_SOAKING and rollout.soaked:
            state = "soaked"  # its soak is over: the next wave waits for its approval or the reconciler
        lines.append(f"  {index + 1}. {wave.name:<16} {state:<18} {note}".rstrip())
    return lines


def approvable(rollout: Any) -> tuple[int, str] | None:
    """The wave an approval would approve now (index, git's full revision): the one awaiting it, else the next one
    needing it (approving ahead is allowed: it is for this revision only)."""
    if rollout is None or not rollout.revision:
        return None
    index = rollout.awaiting
    return None if index is None else (index, rollout.revision)
