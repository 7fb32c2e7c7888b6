"""The shapes of the effective state (api/effective.py): holds, what was observed, one cluster's and one source's state.

Apart from effective.py, which computes them, so that the modules it calls (effective_holds, precedence,
rollout_state, windows) build these shapes without importing the module that imports them. No I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from gitops_tui.api.formats import short_revision
from gitops_tui.api.freeze import Freeze
from gitops_tui.api.holds import BreakGlassRequest
from gitops_tui.api.pin import Pin
from gitops_tui.api.rollout import WAVE_FAILED
from gitops_tui.api.wall_clock import local_time

INTENT_FOLLOW = "follow"
INTENT_FROZEN = "frozen"
INTENT_PINNED = "pinned"
INTENT_BREAK_GLASS = "break-glass"
INTENTS = (INTENT_FOLLOW, INTENT_FROZEN, INTENT_PINNED, INTENT_BREAK_GLASS)

HOLD_FREEZE = "freeze"
HOLD_PIN = "pin"
HOLD_BREAK_GLASS = "break-glass"
HOLD_ROLLOUT = "rollout"
HOLD_WINDOW = "window"
SCOPE_WINDOW = "window"
SCOPE_SOURCE = "source"
SCOPE_PROJECT = "project"
SCOPE_ROLLOUT = "rollout"

OUTCOME_APPLIED = "applied"
OUTCOME_APPLYING = "applying"
OUTCOME_FAILED = "failed"
OUTCOME_PENDING = "pending"
OUTCOME_HELD = "held"

#: The reason a held cluster shows (it keeps its last result; Flux's suspended objects keep their last Ready too).
REASON_FROZEN = "Frozen"
#: The reason of a cluster a rollout holds (awaiting its wave or an approval, or after a halt).
REASON_ROLLOUT = "RolloutHeld"
#: The reason of a cluster of the wave where a rollout halted (when its own entry says nothing worse).
REASON_ROLLOUT_HALTED = "RolloutHalted"
#: A status entry's status while an apply is under way (not a failure).
PROGRESSING = "Progressing"
HEALTH_FAILED = "HealthCheckFailed"


@dataclass(frozen=True)
class Hold:
    """What holds a cluster (or lifts a hold once): kind, scope, clusters, who (verified or claimed), why, when, revision."""

    kind: str
    """``freeze``, ``window``, ``pin``, ``break-glass`` or ``rollout``."""
    scope: str
    """``project``, ``source``, ``window`` or ``rollout``."""
    clusters: tuple[str, ...]
    """The clusters it covers; empty: every cluster of its scope."""
    by: str
    reason: str
    since: str
    until: str = ""
    then: str = ""
    revision: str = ""
    """The revision to apply: the pin's or the break glass's; '' for a freeze (nothing is applied)."""
    identity: str = ""
    """The user the API server saw when the operator asked; '' when not recorded."""
    verified: bool = True
    """False when only a project member's write declares it: ``by`` is then a claim (a field manager, an annotation)."""
    expired: bool = False
    token: str = ""
    name: str = ""
    """A window's name ('' for the other kinds)."""
    timezone: str = ""
    """A window's timezone: ``until`` is shown on its wall clock."""

    def covers(self, cluster: str) -> bool:
        """Whether this hold covers ``cluster``."""
        return not self.clusters or cluster in self.clusters

    @property
    def who(self) -> str:
        """``alice`` or ``kubectl-patch (unverified)``."""
        return f"{self.by or 'someone'}{'' if self.verified else ' (unverified)'}"

    def where(self) -> str:
        """``every cluster`` or ``prod, staging``."""
        return ", ".join(self.clusters) if self.clusters else "every cluster"

    def describe(self) -> str:
        """One line: ``project freeze on prod by alice: INC-1``, ``pinned at main@abc1234 on prod by bob: why``."""
        where = f" on {', '.join(self.clusters)}" if self.clusters else ""
        reason = f": {self.reason}" if self.reason else ""
        if self.kind == HOLD_PIN:
            return f"pinned at {short_revision(self.revision)}{where} by {self.who}{reason}"
        if self.kind == HOLD_BREAK_GLASS:
            return f"break glass by {self.who}: apply {short_revision(self.revision)} once{where}{reason}"
        if self.kind == HOLD_ROLLOUT:
            return self.reason
        if self.kind == HOLD_WINDOW:
            return f"window {self.name} open{where} until {local_time(self.until, self.timezone)} by {self.who}{reason}"
        scope = "project freeze" if self.scope == SCOPE_PROJECT else "frozen"
        return f"{scope}{where} by {self.who}{reason}"

    def to_dict(self) -> dict[str, Any]:
        """The ``get -o json`` form (``clusters[].hold``)."""
        out = asdict(self)
        out["clusters"] = list(self.clusters)
        return out


def freeze_hold(freeze: Freeze, now: datetime, verified: bool = True, by: str = "") -> Hold:
    """A freeze (api/freeze.py) as a hold."""
    return Hold(HOLD_FREEZE, SCOPE_PROJECT if freeze.scope == "project" else SCOPE_SOURCE, freeze.clusters,
                by or freeze.by, freeze.reason, freeze.at, freeze.until, freeze.then, identity=freeze.identity,
                verified=verified, expired=freeze.expired(now))


def pin_hold(pin: Pin) -> Hold:
    """A pin (api/pin.py) as a hold."""
    return Hold(HOLD_PIN, SCOPE_SOURCE, pin.clusters, pin.by, pin.reason, pin.at, revision=pin.revision,
                identity=pin.identity, verified=pin.verified, token=pin.until_contains)


def glass_hold(request: BreakGlassRequest) -> Hold:
    """An operator's break glass as a hold that lifts the freeze once."""
    return Hold(HOLD_BREAK_GLASS, SCOPE_SOURCE, request.clusters, request.by, request.reason, request.token,
                revision=request.revision, identity=request.identity, token=request.token)


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


@dataclass(slots=True)
class ClusterState:
    """One source on one cluster: the intent, the revision it should run now, the holds, what was observed.

    Read-only by convention, like Observed."""

    name: str
    intent: str
    target: str
    """The revision to apply now ('' when held, or while git's revision is not known yet)."""
    observed: Observed
    hold: Hold | None = None
    """The hold behind the intent (None when following git)."""
    holds: tuple[Hold, ...] = ()
    """Every hold on the cluster, strongest first (a frozen cluster may be pinned too)."""
    wave: Any = None
    """Its place in the source's rollout (api.rollout_state.WaveCell), None without a rollout."""

    @property
    def held(self) -> bool:
        """True when nothing is written to this cluster now."""
        return self.intent == INTENT_FROZEN

    @property
    def pin(self) -> Hold | None:
        """The pin on this cluster, when any (even while a freeze holds it)."""
        return next((h for h in self.holds if h.kind == HOLD_PIN), None)

    @property
    def freeze(self) -> Hold | None:
        """The strongest freeze on this cluster, when any (even while a break glass lifts it once)."""
        return next((h for h in self.holds if h.kind == HOLD_FREEZE), None)

    @property
    def halted_here(self) -> bool:
        """True for a cluster of the wave where the source's rollout halted (it failed there)."""
        return self.wave is not None and self.wave.state == WAVE_FAILED and not self.held

    @property
    def window(self) -> Hold | None:
        """The open freeze window on this cluster, when any (even while a freeze is the hold named)."""
        return next((h for h in self.holds if h.kind == HOLD_WINDOW), None)

    @property
    def outcome(self) -> str:
        """``held``, ``failed``, ``applying``, ``pending`` or ``applied`` (a held cluster is never failed)."""
        seen = self.observed
        if self.held:
            return OUTCOME_HELD
        if not seen.recorded:
            return OUTCOME_PENDING
        if (seen.status and seen.status != PROGRESSING) or self.halted_here:
            return OUTCOME_FAILED
        if seen.status == PROGRESSING or not seen.applied or seen.attempted not in ("", seen.applied):
            return OUTCOME_APPLYING
        if self.target and seen.applied != self.target:
            return OUTCOME_APPLYING
        return OUTCOME_APPLIED

    @property
    def reason(self) -> str:
        """``Frozen`` (``RolloutHeld`` for a rollout's hold) for a held cluster, else the status entry's reason ('' when
        fine; ``RolloutHalted`` where a rollout halted)."""
        if self.held:
            return REASON_ROLLOUT if self.hold is not None and self.hold.kind == HOLD_ROLLOUT else REASON_FROZEN
        return self.observed.status or (REASON_ROLLOUT_HALTED if self.halted_here else "")

    def to_dict(self) -> dict[str, Any]:
        """The ``get -o json`` form of ``clusters[]`` (intent, hold, target, outcome, observed)."""
        return {"name": self.name, "intent": self.intent, "hold": self.hold.to_dict() if self.hold else None,
                "holds": [h.to_dict() for h in self.holds], "target": self.target, "outcome": self.outcome,
                "reason": self.reason, "observed": self.observed.to_dict(),
                "wave": self.wave.to_dict() if self.wave is not None else None}


@dataclass(frozen=True)
class IgnoredWrite:
    """A project member's write that would have lifted an operator's hold: ignored, reported once."""

    kind: str
    """``break-glass``, ``resume``, ``unpin`` or ``pin``."""
    by: str
    message: str
    fingerprint: str


@dataclass(frozen=True)
class MemberWrite:
    """A hold only a member's write declares (a suspend or a pin with kubectl): honoured, unverified, journaled."""

    action: str
    """``suspend`` or ``pin``."""
    hold: Hold
    fingerprint: str


@dataclass(slots=True)
class SourceState:
    """A source across its placed clusters, in the project's placement order (read-only by convention)."""

    namespace: str
    name: str
    project: str
    revision: str
    """Git's revision (the FederatedGitRepository's artifact), '' before the first fetch."""
    clusters: tuple[ClusterState, ...] = ()
    freezes: tuple[Hold, ...] = ()
    """Every active freeze of the source and of its project (the project's first)."""
    pin: Hold | None = None
    break_glass: Hold | None = None
    """The operator's break glass not applied yet."""
    ignored: tuple[IgnoredWrite, ...] = ()
    member_writes: tuple[MemberWrite, ...] = ()
    wake_in: float | None = None
    """Seconds until the next expiry of a freeze on this source or its project."""
    stalled: tuple[str, str] | None = None
    """(reason, message) of a whole revision refused (Stalled True) while some cluster is not held."""
    windows: tuple[Hold, ...] = ()
    """The project's freeze windows open now on the source's clusters (api/windows.py)."""
    overrides: tuple[Any, ...] = ()
    """The source's per-cluster overrides (api/overrides.py ``Override``), verified or a member's."""
    rollout: Any = None
    """The source's staged rollout now (api.rollout_state.RolloutView), None without one."""

    def cluster(self, name: str) -> ClusterState | None:
        """The named cluster's state, None when the source is not placed there."""
        return next((c for c in self.clusters if c.name == name), None)

    @property
    def names(self) -> list[str]:
        """The placed clusters, in order."""
        return [c.name for c in self.clusters]

    @property
    def held(self) -> list[str]:
        """The clusters nothing is written to now."""
        return [c.name for c in self.clusters if c.intent == INTENT_FROZEN]

    @property
    def active(self) -> list[str]:
        """The clusters the source is meant to change now (what its Ready covers)."""
        return [c.name for c in self.clusters if not c.held]

    @property
    def frozen_everywhere(self) -> bool:
        """True when every placed cluster is held (nothing at all is applied)."""
        return bool(self.clusters) and all(c.intent == INTENT_FROZEN for c in self.clusters)

    def holds(self, cluster: str) -> bool:
        """Whether a freeze holds ``cluster`` now (any name: a cluster that left the placement too), break glass aside."""
        glass = self.break_glass
        frozen = any(f.covers(cluster) for f in (*self.freezes, *self.windows))
        return frozen and not (glass is not None and glass.covers(cluster))

    @property
    def freeze(self) -> Hold | None:
        """The freeze to name first: one of every cluster before one of some, the project's before the source's."""
        return next((f for f in self.freezes if not f.clusters), self.freezes[0] if self.freezes else None)

    @property
    def outcome(self) -> str:
        """The source's result over the clusters it is meant to change now (``held`` when it changes none)."""
        if self.stalled is not None:
            return OUTCOME_FAILED
        outcomes = [c.outcome for c in self.clusters if not c.held]
        if not outcomes:
            return OUTCOME_HELD if self.clusters else OUTCOME_PENDING
        for word in (OUTCOME_FAILED, OUTCOME_APPLYING, OUTCOME_PENDING):
            if word in outcomes:
                return word
        return OUTCOME_APPLIED

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"namespace": self.namespace, "name": self.name, "project": self.project, "revision": self.revision,
                "outcome": self.outcome, "clusters": [c.to_dict() for c in self.clusters],
                "freezes": [f.to_dict() for f in self.freezes], "pin": self.pin.to_dict() if self.pin else None,
                "breakGlass": self.break_glass.to_dict() if self.break_glass else None,
                "rollout": self.rollout.to_dict() if self.rollout is not None else None,
                "windows": [w.to_dict() for w in self.windows],
                "overrides": [o.to_dict() for o in self.overrides],
                "ignored": [{"kind": i.kind, "by": i.by, "message": i.message} for i in self.ignored]}
