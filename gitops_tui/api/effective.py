"""The effective state of a source on each of its clusters: the intent, the hold behind it, what was observed. No I/O.

Computed once, from the management objects alone (the Project, the KubeFedClusters, the FederatedGitRepository and the
FederatedKustomization with their status), by ``source_state``. Every surface reads it and nothing else: the reconciler
(what to apply where), the status conditions, ``get``, ``describe``, ``diff``, ``tree``, the panes, the header, the
journal and the Events (docs/architecture.md, "One read path").

Precedence, per cluster, is one rule (``api/precedence.py``; the table is in docs/reconciler.md, "Precedence"): a freeze
beats a window, a window beats a rollout wave, a pin holds its clusters against all of them, and break glass lifts
exactly one apply of a cluster that any of them keeps from writing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from gitops_tui.api.cluster import stale_since
from gitops_tui.api.formats import short_revision
from gitops_tui.api.freeze import Freeze
from gitops_tui.api.holds import BreakGlassRequest
from gitops_tui.api.pin import Pin
from gitops_tui.api.placement import placed_clusters
from gitops_tui.api.rollout import WAVE_FAILED
from gitops_tui.api.source import GitOpsSource

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
            from gitops_tui.api.windows import local_time

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


def source_state(repository: dict[str, Any] | None, kustomization: dict[str, Any] | None,
                 project: dict[str, Any] | None, clusters: list[dict[str, Any]], now: datetime,
                 stale: dict[str, tuple[str, str]] | None = None,
                 placements: dict[Any, list[str]] | None = None) -> SourceState:
    """The effective state of one source, from its two objects, its Project (None when none) and the KubeFedClusters.

    ``stale`` is ``stale_index(clusters)`` and ``placements`` a dict the caller keeps, when it computes the state of
    many sources against the same clusters (placements are then resolved once per distinct placement).
    """
    from gitops_tui.api.effective_holds import source_holds, source_overrides, window_holds
    from gitops_tui.api.precedence import cluster_state
    from gitops_tui.api.rollout_state import with_rollout

    source = GitOpsSource(repository, kustomization)
    project_name = str(((project or {}).get("metadata") or {}).get("name") or "") or source.namespace
    project_placement = ((project or {}).get("spec") or {}).get("placement") or {} if project is not None else None
    placed = _placed(source.placement, clusters, project_placement, placements)
    found = _in_placement_order(source_holds(source, project, now), placed)
    stale = stale_index(clusters) if stale is None else stale
    entries = {str(e.get("name") or ""): e for e in ((kustomization or {}).get("status") or {}).get("clusters") or []
               if isinstance(e, dict)}
    git = source.artifact_revision
    observed = {name: observed_of(entries.get(name), stale.get(name)) for name in placed}
    found, rollout = with_rollout(source, project, found, placed, {n: o.applied for n, o in observed.items()}, now)
    windows, window_wake = window_holds(project, placed, now)
    states = tuple(cluster_state(name, found, git, observed[name], rollout, windows) for name in placed)
    stalled = source.condition("Stalled")
    refused = (stalled.reason, stalled.message) if stalled is not None and stalled.is_true else None
    wake = min((w for w in (found.wake_in, window_wake, rollout.wake_in if rollout is not None else None)
                if w is not None), default=None)
    return SourceState(source.namespace, source.name, project_name, git, states, found.freezes, found.pin,
                       found.break_glass, found.ignored, found.member_writes, wake,
                       refused if any(not c.held for c in states) else None, windows,
                       source_overrides(kustomization, project, source.name), rollout)


def _placed(placement: dict[str, Any], clusters: list[dict[str, Any]], project_placement: dict[str, Any] | None,
            memo: dict[Any, list[str]] | None) -> list[str]:
    """placed_clusters, remembered in ``memo`` by the two placements (as JSON) when one is given."""
    if memo is None:
        return placed_clusters(placement, clusters, project_placement)
    key = (_placement_key(placement), _placement_key(project_placement))
    if key not in memo:
        memo[key] = placed_clusters(placement, clusters, project_placement)
    return memo[key]


def _placement_key(placement: dict[str, Any] | None) -> Any:
    """A hashable key of a placement: its cluster names when it lists them (the common case), else its JSON."""
    if not placement:
        return None if placement is None else ""
    if set(placement) == {"clusters"} and isinstance(placement["clusters"], list):
        return tuple(str((c or {}).get("name")) for c in placement["clusters"] if isinstance(c, dict))
    return json.dumps(placement, sort_keys=True)


def _in_placement_order(found: Any, placed: list[str]) -> Any:
    """The holds with their clusters in placement order (a record may list them otherwise)."""
    rank = {name: index for index, name in enumerate(placed)}

    def ordered(hold: Hold | None) -> Hold | None:
        if hold is None or len(hold.clusters) < 2:
            return hold
        clusters = tuple(sorted(hold.clusters, key=lambda c: (rank.get(c, len(rank)), c)))
        return hold if clusters == hold.clusters else replace(hold, clusters=clusters)

    holds = [*found.freezes, found.pin, found.break_glass]
    if all(h is None or len(h.clusters) < 2 for h in holds):
        return found
    return replace(found, freezes=tuple(ordered(f) for f in found.freezes), pin=ordered(found.pin),
                   break_glass=ordered(found.break_glass))
