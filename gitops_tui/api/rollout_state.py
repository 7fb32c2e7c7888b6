"""The rollout's part of the effective state: which waves git's revision reached, each cluster's wave state, the hold
of every cluster still waiting, and the rollout's state word. No I/O.

Trust as for freezes and pins (api/effective_holds.py): the operator's rollout and approvals are the Project's record;
a member's write that would change or end it is ignored (reported once); a member's own rollout only holds, so it is
honoured, unverified. The progress is the reconciler's ``status.rollout``; a revision it has not recorded yet (git
moved) starts again from the first wave, so every surface agrees before the reconciler writes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gitops_tui.api.effective import HOLD_ROLLOUT, SCOPE_ROLLOUT, Hold, IgnoredWrite, MemberWrite
from gitops_tui.api.formats import parse_time, short_revision
from gitops_tui.api.holds import FIELD_SOURCE_HOLDS
from gitops_tui.api.managed_fields import latest_write, template_spec_path, writer_of
from gitops_tui.api.rollout import (
    FIELD_ROLLOUT,
    HELD_WAVES,
    STATE_APPROVAL,
    STATE_DONE,
    STATE_HALTED,
    STATE_PROGRESSING,
    STATE_SOAKING,
    WAVE_APPROVAL,
    WAVE_DONE,
    WAVE_FAILED,
    WAVE_HALTED,
    WAVE_PROGRESSING,
    WAVE_SOAKING,
    WAVE_WAITING,
    Approval,
    Progress,
    RolloutSpec,
    approvals_of,
    left_text,
    progress_of,
    rollout_from_record,
    rollout_of,
)
from gitops_tui.api.source import GitOpsSource

#: Who holds the later waves of a halted rollout.
HALT_ACTOR = "gitops-tui (rollout)"
ROLLOUT_PATHS = (template_spec_path(FIELD_ROLLOUT),)


@dataclass(frozen=True)
class WaveCell:
    """One cluster's place in the rollout: its wave (index, of how many, name) and the wave's state."""

    index: int
    count: int
    name: str
    state: str

    @property
    def held(self) -> bool:
        """True while the rollout writes nothing of its revision to this cluster."""
        return self.state in HELD_WAVES

    def to_dict(self) -> dict[str, Any]:
        """The ``get -o json`` form (``clusters[].wave``): number 1-based."""
        return {"number": self.index + 1, "of": self.count, "name": self.name, "state": self.state}


@dataclass(slots=True)
class RolloutView:
    """A source's rollout now: the spec, the revision rolling out, how far it got, the approvals for it."""

    spec: RolloutSpec
    progress: Progress
    approvals: tuple[Approval, ...]
    """The approvals of this revision."""
    now: datetime
    timeout: float = 0.0
    """Seconds a wave may take to become healthy after it applied (the source's timeout)."""
    recorded: bool = True
    """False when the reconciler has not recorded this revision's progress yet."""

    @property
    def revision(self) -> str:
        """The revision rolling out (git's)."""
        return self.progress.revision

    @property
    def current(self) -> int:
        """The index of the wave the revision is in (-1 while the first awaits its approval)."""
        return min(self.progress.current, len(self.spec.waves) - 1)

    def approval(self, index: int) -> Approval | None:
        """The approval of wave ``index`` for this revision, None when not given."""
        name = self.spec.waves[index].name
        return next((a for a in reversed(self.approvals) if a.wave == name), None)

    def needs_approval(self, index: int) -> bool:
        """Whether wave ``index`` waits for an approval not given yet."""
        return 0 <= index < len(self.spec.waves) and self.spec.waves[index].approve and self.approval(index) is None

    @property
    def halted_at(self) -> int | None:
        """The index of the wave where it halted (None when not halted)."""
        halt = self.progress.halted
        return None if halt is None else self.spec.find(halt.wave)

    @property
    def soak_left(self) -> float | None:
        """Seconds of the current wave's soak left (None before it started)."""
        return self.progress.soak_left(self.spec.soak_seconds, self.now)

    @property
    def soaked(self) -> bool:
        """Whether the current wave soaked its whole time (the reconciler said so, or the clock does)."""
        if self.progress.awaiting and self.progress.awaiting != self.spec.waves[0].name or self.progress.done:
            return True
        left = self.soak_left
        return left is not None and left <= 0

    def wave_state(self, index: int) -> str:
        """``done``, ``progressing``, ``soaking``, ``awaiting wave``, ``awaiting approval``, ``halted`` or ``failed``."""
        halted = self.halted_at if self.progress.halted is not None else None
        if self.progress.halted is not None:
            stop = len(self.spec.waves) - 1 if halted is None else halted
            return WAVE_DONE if index < stop else WAVE_FAILED if index == stop else WAVE_HALTED
        if self.progress.done or index < self.current:
            return WAVE_DONE
        if index == self.current:
            return WAVE_SOAKING if self.progress.soak_started else WAVE_PROGRESSING
        if index == self.current + 1 and self.needs_approval(index) and (self.current < 0 or self.soaked):
            return WAVE_APPROVAL
        return WAVE_WAITING

    def cell(self, cluster: str) -> WaveCell:
        """The cluster's wave and its state; a cluster in no wave waits until the rollout is done."""
        index = self.spec.wave_of(cluster)
        count = len(self.spec.waves)
        if index is None:
            state = WAVE_DONE if self.progress.done else WAVE_WAITING
            return WaveCell(count, count, "(after the last wave)", state)
        return WaveCell(index, count, self.spec.waves[index].name, self.wave_state(index))

    def hold(self, cluster: str) -> Hold | None:
        """The rollout's hold on ``cluster`` (awaiting its wave or an approval, or halted), None when released."""
        cell = self.cell(cluster)
        if not cell.held:
            return None
        clusters = self.spec.waves[cell.index].clusters if cell.index < cell.count else (cluster,)
        halt = self.progress.halted
        if cell.state == WAVE_HALTED and halt is not None:
            return Hold(HOLD_ROLLOUT, SCOPE_ROLLOUT, clusters, HALT_ACTOR, halt.reason, halt.at)
        rolling = f"rollout of {short_revision(self.revision)}"
        if cell.state == WAVE_APPROVAL:
            reason = f"awaiting approval of wave {cell.name}: {rolling}"
        elif self.current < 0:
            reason = f"awaiting wave {cell.name} ({cell.index + 1} of {cell.count}): {rolling} awaits approval of " \
                     f"wave {self.spec.waves[0].name}"
        elif cell.index >= cell.count:
            reason = f"in no wave of the {rolling}: waits until it is done"
        else:
            reason = f"awaiting wave {cell.name} ({cell.index + 1} of {cell.count}): {rolling} at " \
                     f"{self.spec.waves[self.current].name}"
        return Hold(HOLD_ROLLOUT, SCOPE_ROLLOUT, clusters, self.spec.by, reason,
                    self.progress.started_at or self.spec.at, identity=self.spec.identity,
                    verified=self.spec.verified)

    @property
    def state(self) -> str:
        """``progressing``, ``soaking 4m left``, ``awaiting approval``, ``halted`` or ``done``."""
        if self.progress.halted is not None:
            return STATE_HALTED
        if self.progress.done:
            return STATE_DONE
        if self.current < 0:
            return STATE_PROGRESSING if not self.needs_approval(0) else STATE_APPROVAL
        if self.soaked and self.needs_approval(self.current + 1):
            return STATE_APPROVAL
        left = self.soak_left
        if left is not None and left > 0:
            return f"{STATE_SOAKING} {left_text(left)} left"
        return STATE_PROGRESSING

    @property
    def word(self) -> str:
        """The state without its time (``soaking``)."""
        return STATE_SOAKING if self.state.startswith(STATE_SOAKING) else self.state

    @property
    def active(self) -> bool:
        """True while the rollout moves by itself (progressing or soaking)."""
        return self.word in (STATE_PROGRESSING, STATE_SOAKING)

    @property
    def awaiting(self) -> int | None:
        """The index of the wave waiting for an approval now, else of the next one that will (None: none)."""
        if self.progress.halted is not None or self.progress.done:
            return None
        return next((i for i in range(max(0, self.current), len(self.spec.waves)) if self.needs_approval(i)), None)

    @property
    def wake_in(self) -> float | None:
        """Seconds until the rollout must be looked at again: its soak's end, or the current wave's health deadline."""
        if self.progress.halted is not None or self.progress.done or self.current < 0:
            return None
        left = self.soak_left
        if left is not None:
            return left if left > 0 else None
        applied = parse_time(self.progress.applied_at)
        if applied is None or not self.timeout:
            return None
        return max(0.0, self.timeout - (self.now - applied).total_seconds())

    def summary(self) -> str:
        """``at staging (2 of 3), soaking 4m left: main@abc1234`` for one line."""
        if self.progress.halted is not None:
            return f"{self.progress.halted.reason} ({short_revision(self.revision)})"
        if self.progress.done:
            return f"done: {short_revision(self.revision)} on every wave"
        if self.current < 0:
            return f"{self.state} of wave {self.spec.waves[0].name}: {short_revision(self.revision)}"
        count = len(self.spec.waves)
        waiting = self.awaiting
        state = self.state if waiting is None or self.word != STATE_APPROVAL else \
            f"awaiting approval of {self.spec.waves[waiting].name}"
        return (f"at {self.spec.waves[self.current].name} ({self.current + 1} of {count}), {state}: "
                f"{short_revision(self.revision)}")

    def to_dict(self) -> dict[str, Any]:
        """The ``get -o json`` form: waves (name, clusters, approve, state), current wave, state, revision, soak."""
        halt = self.progress.halted
        current = self.spec.waves[self.current].name if self.current >= 0 else ""
        return {"waves": [{"name": w.name, "clusters": list(w.clusters), "approve": w.approve,
                           "state": self.wave_state(i),
                           "approval": (a.to_record() if (a := self.approval(i)) is not None else None)}
                          for i, w in enumerate(self.spec.waves)],
                "currentWave": current, "state": self.state, "revision": self.revision, "soak": self.spec.soak,
                "soakLeft": self.soak_left, "halted": {"wave": halt.wave, "cause": halt.cause, "at": halt.at}
                if halt is not None else None, "by": self.spec.by, "reason": self.spec.reason, "at": self.spec.at,
                "identity": self.spec.identity, "verified": self.spec.verified}


def _written_since(fk: dict[str, Any] | None, when: str) -> bool:
    written, since = parse_time(latest_write(fk)), parse_time(when)
    return written is not None and since is not None and written >= since


@dataclass(frozen=True)
class TrustedRollout:
    """The rollout that counts (the operator's, else a member's, unverified), its approvals, and member writes seen."""

    spec: RolloutSpec | None
    approvals: tuple[Approval, ...] = ()
    ignored: tuple[IgnoredWrite, ...] = ()
    member_writes: tuple[MemberWrite, ...] = ()


def trusted_rollout(source: GitOpsSource, project: dict[str, Any] | None) -> TrustedRollout:
    """The operator's rollout from the Project's record (a member's change to the source's copy ignored); else the
    source's own, a member's, honoured and unverified. Approvals come from the Project only."""
    holds = ((project or {}).get("spec") or {}).get(FIELD_SOURCE_HOLDS) or {}
    raw = holds.get(source.name) if isinstance(holds, dict) else None
    record = raw.get(FIELD_ROLLOUT) if isinstance(raw, dict) else None
    approvals = approvals_of(record)
    op = rollout_from_record(record)
    fk = source.kustomization
    own = rollout_of(fk)
    if op is not None:
        ignored: tuple[IgnoredWrite, ...] = ()
        if not op.same_intent(own) and _written_since(fk, op.at):
            by = writer_of(fk, *ROLLOUT_PATHS) or "a project member"
            what = "remove" if own is None else "change"
            ignored = (IgnoredWrite("rollout", by, (
                f"a write by {by} (unverified) would {what} the operator's rollout by {op.by} ({op.describe()}); "
                f"ignored: only an operator changes or ends a rollout (gitops-tui rollout source {source.name} "
                "-p PROJECT)"), f"rollout:{op.at}"),)
        return TrustedRollout(op, approvals, ignored)
    lifted = isinstance(record, dict) and bool(record.get("lifted")) and own is not None and own.at == record.get("at")
    if own is None or lifted:
        return TrustedRollout(None, approvals)
    manager = writer_of(fk, *ROLLOUT_PATHS)
    mine = replace(own, by=own.by or manager or "a project member", identity=manager, verified=False)
    hold = Hold(HOLD_ROLLOUT, SCOPE_ROLLOUT, (), mine.by, f"rollout {mine.describe()}", mine.at, identity=manager,
                verified=False)
    return TrustedRollout(mine, approvals, (), (MemberWrite("rollout", hold, f"rollout:{mine.names}:{mine.at}"),))


def rollout_view(source: GitOpsSource, trusted: TrustedRollout, placed: list[str], applied: dict[str, str],
                 now: datetime) -> RolloutView | None:
    """The rollout of ``source`` now (None without one): ``applied`` is each placed cluster's applied revision.

    A revision the reconciler has not recorded yet starts from the first wave; a rollout set up on a source already
    running git's revision everywhere is done at once.
    """
    spec = trusted.spec
    if spec is None:
        return None
    git = source.artifact_revision
    recorded = progress_of(source.kustomization)
    mine = tuple(a for a in trusted.approvals if a.revision == git)
    if recorded is not None and recorded.revision == git and recorded.waves == spec.names:
        return RolloutView(spec, recorded, mine, now, source.timeout)
    fresh = recorded is None or recorded.waves != spec.names
    if fresh and git and placed and all(applied.get(c) == git for c in placed):
        progress = Progress(git, spec.names, len(spec.waves), done="(set up)")
        return RolloutView(spec, progress, mine, now, source.timeout, recorded=False)
    first = next((a for a in mine if a.wave == spec.waves[0].name), None)
    released = 0 if spec.waves[0].approve and first is None else 1
    return RolloutView(spec, Progress(git, spec.names, released), mine, now, source.timeout, recorded=False)


def with_rollout(source: GitOpsSource, project: dict[str, Any] | None, found: Any, placed: list[str],
                 applied: dict[str, str], now: datetime) -> tuple[Any, RolloutView | None]:
    """The source's rollout now, and ``found`` (its holds) with the rollout's member writes added."""
    trusted = trusted_rollout(source, project)
    if trusted.spec is None and not trusted.ignored:
        return found, None
    view = rollout_view(source, trusted, placed, applied, now)
    if trusted.ignored or trusted.member_writes:
        found = replace(found, ignored=found.ignored + trusted.ignored,
                        member_writes=found.member_writes + trusted.member_writes)
    return found, view
