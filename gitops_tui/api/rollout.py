"""A staged rollout of a source: waves of clusters, a soak time, approvals, and the reconciler's progress. No I/O.

The operator's spec lives on the FederatedKustomization (``spec.template.spec.rollout``) and, countersigned, on the
Project (``spec.sourceHolds.<source>.rollout``, with the approvals; only an operator writes there, api/holds.py).
The progress is the reconciler's, in ``status.rollout`` (a project member cannot write status):

``rollout {waves: [{clusters: [dev]}, {clusters: [staging, qa]}, {clusters: [prod], approve: true}], soak: 10m,
by, reason, at, identity}``; approvals ``[{wave, revision, by, identity, reason, at}]``; progress ``{revision, waves,
released, appliedAt, soakStarted, awaiting, halted {wave, cause, at}, done, startedAt}``.

A wave is named by its clusters (``staging,qa``); ``dev/staging,qa/prod`` lists three waves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gitops_tui.api.formats import format_duration, parse_duration, parse_time

FIELD_ROLLOUT = "rollout"
#: Approvals kept in the operator's record (the newest).
APPROVALS_LIMIT = 20
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")

WAVE_DONE = "done"
WAVE_PROGRESSING = "progressing"
WAVE_SOAKING = "soaking"
WAVE_WAITING = "awaiting wave"
WAVE_APPROVAL = "awaiting approval"
WAVE_HALTED = "halted"
"""A later wave of a halted rollout: held at its last good revision."""
WAVE_FAILED = "failed"
"""The wave where the rollout halted."""
#: The wave states whose clusters are held (nothing of the rollout's revision is written there).
HELD_WAVES = (WAVE_WAITING, WAVE_APPROVAL, WAVE_HALTED)

STATE_PROGRESSING = "progressing"
STATE_SOAKING = "soaking"
STATE_APPROVAL = "awaiting approval"
STATE_HALTED = "halted"
STATE_DONE = "done"

REASON_STARTED = "RolloutStarted"
REASON_SOAKING = "RolloutSoaking"
REASON_WAVE = "RolloutWaveStarted"
REASON_AWAITING = "RolloutAwaitingApproval"
REASON_APPROVED = "RolloutApproved"
REASON_HALTED = "RolloutHalted"
REASON_DONE = "RolloutDone"
REASON_SET = "RolloutSet"
REASON_OFF = "RolloutOff"


def stamp_precise(when: datetime) -> str:
    """RFC 3339 in UTC with microseconds: a soak's start, so its end is exact."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def left_text(seconds: float) -> str:
    """``4m``, ``40s``, ``1h20m``: a time left, rounded up to what the unit shows."""
    whole = max(0, int(-(-seconds // 1)))
    if whole >= 3600:
        return format_duration(whole - whole % 60 + (60 if whole % 60 else 0))
    if whole >= 60:
        return f"{-(-whole // 60)}m"
    return f"{whole}s"


@dataclass(frozen=True)
class Wave:
    """Clusters released together; ``approve`` when an operator approves it before it starts."""

    clusters: tuple[str, ...]
    approve: bool = False

    @property
    def name(self) -> str:
        """``staging,qa``: how commands and messages name the wave."""
        return ",".join(self.clusters)

    def to_spec(self) -> dict[str, Any]:
        """The spec form."""
        return {"clusters": list(self.clusters), **({"approve": True} if self.approve else {})}


@dataclass(frozen=True)
class RolloutSpec:
    """Waves in order, the soak time, and who set the rollout up and why."""

    waves: tuple[Wave, ...]
    soak: str = ""
    by: str = ""
    reason: str = ""
    at: str = ""
    identity: str = ""
    verified: bool = True
    """False when only a project member's write declares it (no operator's record)."""

    @property
    def soak_seconds(self) -> float:
        """The soak time in seconds (0 when none)."""
        return parse_duration(self.soak, default=0.0)

    @property
    def names(self) -> str:
        """``dev/staging,qa/prod``: the waves as one text (also what the progress follows)."""
        return "/".join(w.name for w in self.waves)

    def wave_of(self, cluster: str) -> int | None:
        """The index of the wave holding ``cluster``, None when no wave names it."""
        return next((i for i, w in enumerate(self.waves) if cluster in w.clusters), None)

    def find(self, text: str) -> int | None:
        """The index of the wave ``text`` names: its name (``staging,qa``), one of its clusters, or its number (1-based)."""
        text = text.strip()
        for index, wave in enumerate(self.waves):
            if text == wave.name or (text in wave.clusters):
                return index
        if text.isdigit() and 1 <= int(text) <= len(self.waves):
            return int(text) - 1
        return None

    def same_intent(self, other: RolloutSpec | None) -> bool:
        """Whether ``other`` has the same waves, approvals and soak (who and when aside)."""
        return other is not None and (self.waves, self.soak_seconds) == (other.waves, other.soak_seconds)

    def describe(self) -> str:
        """``dev → staging,qa → prod (soak 10m; approval before prod)``."""
        approvals = [w.name for w in self.waves if w.approve]
        notes = [f"soak {self.soak}" if self.soak_seconds else "no soak"]
        if approvals:
            notes.append("approval before " + ", ".join(approvals))
        return " → ".join(w.name for w in self.waves) + f" ({'; '.join(notes)})"

    def to_spec(self) -> dict[str, Any]:
        """The ``spec.template.spec.rollout`` value (and the Project's record, without approvals)."""
        body: dict[str, Any] = {"waves": [w.to_spec() for w in self.waves], "by": self.by, "reason": self.reason,
                                "at": self.at}
        if self.soak_seconds:
            body["soak"] = self.soak
        if self.identity:
            body["identity"] = self.identity
        return body


def parse_waves(text: str, approve: str = "", placed: list[str] | None = None) -> tuple[Wave, ...]:
    """``dev/staging,qa/prod`` (and ``--approve prod``) as waves; ValueError with one sentence when wrong.

    Every cluster must be a placed one (when ``placed`` is given) and in one wave only; an approval names a wave or one
    of its clusters.
    """
    groups = [[c.strip() for c in part.split(",") if c.strip()] for part in text.strip().split("/")]
    if not text.strip() or any(not g for g in groups):
        raise ValueError(f"--waves {text!r} is not a list of waves: give clusters separated by / (a wave of several "
                         "clusters separated by ,), e.g. dev/staging,qa/prod")
    seen: list[str] = []
    for cluster in (c for group in groups for c in group):
        if not _NAME.match(cluster) or len(cluster) > 253:
            raise ValueError(f"{cluster!r} in --waves is not a cluster name")
        if cluster in seen:
            raise ValueError(f"cluster {cluster} is in more than one wave: a cluster belongs to one wave")
        seen.append(cluster)
    if placed is not None:
        unknown = [c for c in seen if c not in placed]
        if unknown:
            raise ValueError(f"the source is not placed on {', '.join(unknown)} (its clusters: "
                             f"{', '.join(placed) or 'none'})")
        missing = [c for c in placed if c not in seen]
        if missing:
            raise ValueError(f"--waves leaves out {', '.join(missing)}: every placed cluster belongs to a wave "
                             f"(its clusters: {', '.join(placed)})")
    waves = tuple(Wave(tuple(g)) for g in groups)
    wanted = [a.strip() for a in approve.split(",") if a.strip()]
    spec = RolloutSpec(waves)
    marked = set()
    for name in wanted:
        index = spec.find(name)
        if index is None:
            raise ValueError(f"--approve {name!r} names no wave (the waves: {spec.names})")
        marked.add(index)
    return tuple(Wave(w.clusters, i in marked) for i, w in enumerate(waves))


def rollout_from_record(raw: Any, verified: bool = True) -> RolloutSpec | None:
    """A rollout from its spec (or record) form; None when absent, lifted or without waves."""
    if not isinstance(raw, dict) or raw.get("lifted"):
        return None
    waves = []
    for item in raw.get("waves") or []:
        if not isinstance(item, dict):
            continue
        clusters = tuple(str(c) for c in item.get("clusters") or [] if str(c))
        if clusters:
            waves.append(Wave(clusters, item.get("approve") is True))
    if not waves:
        return None
    soak = str(raw.get("soak") or "")
    try:
        parse_duration(soak or "0")
    except ValueError:
        soak = ""  # an unreadable soak counts as none, never as a failure to hold
    return RolloutSpec(tuple(waves), soak, str(raw.get("by") or ""), str(raw.get("reason") or ""),
                       str(raw.get("at") or ""), str(raw.get("identity") or ""), verified)


def rollout_of(fk: dict[str, Any] | None) -> RolloutSpec | None:
    """What a FederatedKustomization itself says of its rollout (the effective one is the effective state's)."""
    spec = (((fk or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    return rollout_from_record(spec.get(FIELD_ROLLOUT), verified=False)


def rollout_patch(spec: RolloutSpec | None) -> dict[str, Any]:
    """The FederatedKustomization merge patch setting (or, for None, removing) the rollout."""
    return {"spec": {"template": {"spec": {FIELD_ROLLOUT: spec.to_spec() if spec is not None else None}}}}


@dataclass(frozen=True)
class Approval:
    """An operator's approval of one wave for one revision: who, why, when."""

    wave: str
    revision: str
    by: str
    reason: str
    at: str
    identity: str = ""

    def to_record(self) -> dict[str, Any]:
        """The recorded form."""
        body = {"wave": self.wave, "revision": self.revision, "by": self.by, "reason": self.reason, "at": self.at}
        return {**body, **({"identity": self.identity} if self.identity else {})}


def approvals_of(record: Any) -> tuple[Approval, ...]:
    """The approvals of an operator's rollout record (oldest first)."""
    if not isinstance(record, dict):
        return ()
    found = []
    for raw in record.get("approvals") or []:
        if isinstance(raw, dict) and raw.get("wave") and raw.get("revision"):
            found.append(Approval(str(raw["wave"]), str(raw["revision"]), str(raw.get("by") or ""),
                                  str(raw.get("reason") or ""), str(raw.get("at") or ""),
                                  str(raw.get("identity") or "")))
    return tuple(found)


@dataclass(frozen=True)
class Halt:
    """Where and why a rollout stopped."""

    wave: str
    cause: str
    at: str

    @property
    def reason(self) -> str:
        """``rollout halted at staging: <cause>``: the reason the later waves are held with."""
        return f"rollout halted at {self.wave}: {self.cause}"


@dataclass(frozen=True)
class Progress:
    """The reconciler's record of one revision's way through the waves (``status.rollout``)."""

    revision: str = ""
    waves: str = ""
    """The waves it follows (``dev/staging/prod``): a record of other waves does not count."""
    released: int = 0
    """How many waves the revision was released to (the current wave is ``released - 1``)."""
    applied_at: str = ""
    """When every cluster of the current wave had applied the revision (the health deadline counts from it)."""
    soak_started: str = ""
    """When the current wave was applied and healthy: its soak runs from then."""
    awaiting: str = ""
    """The wave whose approval is awaited (its Event raised)."""
    halted: Halt | None = None
    done: str = ""
    """When the last wave finished its soak."""
    started_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def current(self) -> int:
        """The index of the wave the revision is in (-1 before the first one is released)."""
        return self.released - 1

    def soak_left(self, soak: float, now: datetime) -> float | None:
        """Seconds of soak left (0 when over), None before the soak started."""
        started = parse_time(self.soak_started)
        if started is None:
            return None
        return max(0.0, soak - (now - started).total_seconds())

    def to_status(self) -> dict[str, Any]:
        """The ``status.rollout`` merge patch: empty fields as None, so a merge patch removes what was there."""
        body: dict[str, Any] = {"revision": self.revision, "waves": self.waves, "released": self.released}
        for key, value in (("appliedAt", self.applied_at), ("soakStarted", self.soak_started),
                           ("awaiting", self.awaiting), ("done", self.done), ("startedAt", self.started_at)):
            body[key] = value or None
        body["halted"] = None if self.halted is None else {"wave": self.halted.wave, "cause": self.halted.cause,
                                                           "at": self.halted.at}
        return body


def progress_of(fk: dict[str, Any] | None) -> Progress | None:
    """The reconciler's progress record of the source (None when none)."""
    raw = ((fk or {}).get("status") or {}).get(FIELD_ROLLOUT)
    if not isinstance(raw, dict) or not raw.get("revision"):
        return None
    halted = raw.get("halted")
    halt = (Halt(str(halted.get("wave") or ""), str(halted.get("cause") or ""), str(halted.get("at") or ""))
            if isinstance(halted, dict) else None)
    try:
        released = int(raw.get("released") or 0)
    except (TypeError, ValueError):
        released = 0
    return Progress(str(raw["revision"]), str(raw.get("waves") or ""), max(0, released),
                    str(raw.get("appliedAt") or ""), str(raw.get("soakStarted") or ""), str(raw.get("awaiting") or ""),
                    halt, str(raw.get("done") or ""), str(raw.get("startedAt") or ""))
