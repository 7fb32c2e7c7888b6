"""Freezes (a suspend with who, why, when, an optional expiry and clusters) of sources and projects, and break glass.

Pure readings of the management objects and the merge patches that change them; no I/O. The fields
(docs/reconciler.md, "Freezes"): on a FederatedKustomization the suspend annotations plus
``gitops-tui.io/suspend-until``, ``-then``, ``-history`` and ``spec.template.spec.suspendClusters``
(a freeze of some clusters; ``suspend: true`` is every cluster); on a Project ``spec.freeze``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.formats import parse_duration, parse_time

ANNOTATION_SUSPEND_UNTIL = "gitops-tui.io/suspend-until"
ANNOTATION_SUSPEND_THEN = "gitops-tui.io/suspend-then"
ANNOTATION_SUSPEND_HISTORY = "gitops-tui.io/suspend-history"
#: The expiry the reconciler already raised its Warning Event for (so it is raised once).
ANNOTATION_SUSPEND_ALARMED = "gitops-tui.io/suspend-expired-alarmed"
ANNOTATION_BREAK_GLASS_BY = "gitops-tui.io/break-glass-by"
ANNOTATION_BREAK_GLASS_REASON = "gitops-tui.io/break-glass-reason"
ANNOTATION_BREAK_GLASS_AT = "gitops-tui.io/break-glass-at"
#: The break-glass request (its ``-at`` value) the reconciler has applied.
ANNOTATION_BREAK_GLASS_HANDLED = "gitops-tui.io/break-glass-handled"
FIELD_SUSPEND_CLUSTERS = "suspendClusters"
THEN_RESUME = "resume"
#: Steps of one freeze kept in its history (the oldest go first).
HISTORY_LIMIT = 20
FREEZE_ANNOTATIONS = (*names.SUSPEND_ANNOTATIONS, ANNOTATION_SUSPEND_UNTIL, ANNOTATION_SUSPEND_THEN,
                      ANNOTATION_SUSPEND_HISTORY, ANNOTATION_SUSPEND_ALARMED)

REASON_FREEZE_EXPIRED = "FreezeExpired"
REASON_FREEZE_EXTENDED = "FreezeExtended"
REASON_BREAK_GLASS = "BreakGlassRequested"
REASON_BREAK_GLASS_APPLIED = "BreakGlassApplied"


def stamp(when: datetime) -> str:
    """RFC 3339 in UTC to the second, as every freeze field is written."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Freeze:
    """One freeze of a source or a project: who, why, since when, until when, then what, on which clusters."""

    by: str
    reason: str
    at: str
    until: str = ""
    then: str = ""
    clusters: tuple[str, ...] = ()
    """The frozen clusters; empty means every cluster."""
    history: tuple[dict[str, Any], ...] = ()
    """Each step (suspend, extend, resume of some clusters) with who, why and when."""
    scope: str = "source"
    """"source" or "project"."""
    alarmed: str = ""
    """The expiry whose Warning Event was raised ("" when none yet)."""
    identity: str = ""
    """The user the API server saw when the operator asked (SelfSubjectReview), '' when not recorded."""
    verified: bool = True
    """False for a freeze only a member's write declares (no operator's record): who is then a claim."""

    @property
    def everywhere(self) -> bool:
        """True when every cluster is frozen."""
        return not self.clusters

    def holds(self, cluster: str) -> bool:
        """True when writes to ``cluster`` are held by this freeze (expiry aside)."""
        return self.everywhere or cluster in self.clusters

    @property
    def until_time(self) -> datetime | None:
        """The expiry as a datetime, None when the freeze has none."""
        return parse_time(self.until)

    def expired(self, now: datetime) -> bool:
        """True once the expiry has passed."""
        until = self.until_time
        return until is not None and now >= until

    def active(self, now: datetime) -> bool:
        """True while it holds writes: not expired, or expired without ``--then resume`` (it stays, alarmed)."""
        return not (self.expired(now) and self.then == THEN_RESUME)

    def seconds_left(self, now: datetime) -> float | None:
        """Seconds until the expiry (0 when passed), None without one."""
        until = self.until_time
        return None if until is None else max(0.0, (until - now).total_seconds())

    def where(self) -> str:
        """"every cluster" or "prod, staging"."""
        return "every cluster" if self.everywhere else ", ".join(self.clusters)


def _history(text: str) -> tuple[dict[str, Any], ...]:
    try:
        steps = json.loads(text) if text else []
    except ValueError:
        return ()
    return tuple(s for s in steps if isinstance(s, dict)) if isinstance(steps, list) else ()


def _ks_spec(fk: dict[str, Any] | None) -> dict[str, Any]:
    return (((fk or {}).get("spec") or {}).get("template") or {}).get("spec") or {}


def source_freeze(fk: dict[str, Any] | None) -> Freeze | None:
    """The freeze of a FederatedKustomization, None when it is not frozen anywhere."""
    spec = _ks_spec(fk)
    clusters = tuple(str(c) for c in spec.get(FIELD_SUSPEND_CLUSTERS) or [])
    everywhere = bool(spec.get("suspend"))
    if not everywhere and not clusters:
        return None
    notes = ((fk or {}).get("metadata") or {}).get("annotations") or {}
    return Freeze(by=str(notes.get(names.ANNOTATION_SUSPENDED_BY) or "unknown"),
                  reason=str(notes.get(names.ANNOTATION_SUSPEND_REASON) or ""),
                  at=str(notes.get(names.ANNOTATION_SUSPENDED_AT) or ""),
                  until=str(notes.get(ANNOTATION_SUSPEND_UNTIL) or ""),
                  then=str(notes.get(ANNOTATION_SUSPEND_THEN) or ""),
                  clusters=() if everywhere else clusters,
                  history=_history(str(notes.get(ANNOTATION_SUSPEND_HISTORY) or "")),
                  alarmed=str(notes.get(ANNOTATION_SUSPEND_ALARMED) or ""))


def freeze_from_record(raw: Any, scope: str) -> Freeze | None:
    """A freeze recorded as a dict (a Project's spec.freeze, or an operator's source freeze on the Project)."""
    if not isinstance(raw, dict) or not raw.get("by"):
        return None
    return Freeze(by=str(raw.get("by")), reason=str(raw.get("reason") or ""), at=str(raw.get("at") or ""),
                  until=str(raw.get("until") or ""), then=str(raw.get("then") or ""),
                  clusters=tuple(str(c) for c in raw.get("clusters") or []),
                  history=tuple(s for s in raw.get("history") or [] if isinstance(s, dict)),
                  scope=scope, alarmed=str(raw.get("alarmed") or ""), identity=str(raw.get("identity") or ""))


def project_freeze(project: dict[str, Any] | None) -> Freeze | None:
    """The freeze recorded on a Project (spec.freeze), None when it is not frozen."""
    return freeze_from_record(((project or {}).get("spec") or {}).get("freeze"), "project")


def parse_expiry(for_: str | None, until: str | None, now: datetime) -> str:
    """The expiry of ``--for DURATION`` or ``--until RFC3339`` from ``now`` ("" for neither); ValueError in one sentence."""
    if for_ and until:
        raise ValueError("give --for or --until, not both")
    if for_:
        try:
            seconds = parse_duration(for_)
        except ValueError:
            seconds = 0.0
        if seconds <= 0:
            raise ValueError(f"--for {for_!r} is not a positive duration: use a form like 30m, 2h or 1h30m")
        return stamp(now + timedelta(seconds=seconds))
    if until:
        when = parse_time(until)
        if when is None or when.tzinfo is None:
            raise ValueError(f"--until {until!r} is not an RFC 3339 time such as 2026-01-15T18:00:00Z")
        if when <= now:
            raise ValueError(f"--until {until} is already past")
        return stamp(when)
    return ""


def step(action: str, by: str, reason: str, at: str, until: str = "", clusters: list[str] | None = None) -> dict[str, Any]:
    """One history step of a freeze."""
    entry: dict[str, Any] = {"action": action, "by": by, "reason": reason, "at": at}
    if until:
        entry["until"] = until
    if clusters:
        entry["clusters"] = list(clusters)
    return entry


@dataclass
class FreezeChange:
    """A freeze (new or extended) to record: the merged fields and the step that led to them."""

    by: str
    reason: str
    at: str
    until: str
    then: str
    clusters: list[str]
    history: list[dict[str, Any]] = field(default_factory=list)
    extended: bool = False


def _in_order(clusters: set[str], order: list[str] | None) -> list[str]:
    """``clusters`` in the placement ``order`` (others after, by name)."""
    rank = {name: index for index, name in enumerate(order or [])}
    return sorted(clusters, key=lambda c: (rank.get(c, len(rank)), c))


def merge(current: Freeze | None, *, by: str, reason: str, now: datetime, until: str = "", then: str = "",
          clusters: list[str] | None = None, order: list[str] | None = None) -> FreezeChange:
    """Merge a suspend into the current freeze: a new freeze, or an extension that keeps the start and the history.

    ``clusters`` None (or empty) freezes every cluster, or, extending a freeze of some clusters, keeps them;
    clusters add to a freeze of some clusters; a freeze of every cluster stays one (ValueError to narrow it:
    resume the others instead). Clusters are kept in the placement ``order`` when given.
    """
    at = stamp(now)
    wanted = _in_order(set(clusters or []), order)
    if current is None:
        action, merged_clusters, start = "suspend", wanted, at
        merged_until, merged_then = until, then
    else:
        if current.everywhere and wanted:
            raise ValueError(f"it is already frozen on every cluster; resume the others with "
                             f"--clusters to keep only {', '.join(wanted)}")
        action, start = "extend", current.at or at
        merged_clusters = [] if current.everywhere else _in_order(set(current.clusters) | set(wanted), order)
        merged_until = until or current.until
        merged_then = then or current.then
    history = [*(current.history if current else ()), step(action, by, reason, at, until, wanted)][-HISTORY_LIMIT:]
    return FreezeChange(by, reason, start, merged_until, merged_then, merged_clusters, history, current is not None)


def source_patch(change: FreezeChange) -> dict[str, Any]:
    """The merge patch recording ``change`` on a FederatedKustomization."""
    return {
        "metadata": {"annotations": {
            names.ANNOTATION_SUSPENDED_BY: change.by,
            names.ANNOTATION_SUSPEND_REASON: change.reason,
            names.ANNOTATION_SUSPENDED_AT: change.at,
            ANNOTATION_SUSPEND_UNTIL: change.until or None,
            ANNOTATION_SUSPEND_THEN: change.then or None,
            ANNOTATION_SUSPEND_HISTORY: json.dumps(change.history, separators=(",", ":")),
            ANNOTATION_SUSPEND_ALARMED: None,
        }},
        "spec": {"template": {"spec": {"suspend": not change.clusters,
                                       FIELD_SUSPEND_CLUSTERS: change.clusters or None}}},
    }


def freeze_record(change: FreezeChange, identity: str = "") -> dict[str, Any]:
    """``change`` as a recorded dict (a Project's spec.freeze, or an operator's source freeze on the Project)."""
    body: dict[str, Any] = {"by": change.by, "reason": change.reason, "at": change.at, "history": change.history}
    if identity:
        body["identity"] = identity
    if change.until:
        body["until"] = change.until
    if change.then:
        body["then"] = change.then
    if change.clusters:
        body["clusters"] = change.clusters
    return body


def project_patch(change: FreezeChange, identity: str = "") -> dict[str, Any]:
    """The merge patch recording ``change`` as a Project's spec.freeze (replacing the whole field)."""
    return {"spec": {"freeze": freeze_record(change, identity)}}


def remaining(current: Freeze, placed: list[str], resumed: list[str]) -> list[str]:
    """The clusters still frozen after resuming ``resumed`` (a freeze of every cluster counts the placed ones), in the
    placement order of ``placed``."""
    frozen = list(placed) if current.everywhere else list(current.clusters)
    return _in_order({c for c in frozen if c not in set(resumed)}, placed)


def source_resume_patch(current: Freeze | None, left: list[str], resumed: list[str], by: str, at: str,
                        requested_at: str) -> dict[str, Any]:
    """The merge patch resuming a source: all of it (``left`` empty) or some clusters (``left`` stay frozen)."""
    annotations: dict[str, Any] = {names.ANNOTATION_REQUESTED_AT: requested_at}
    if not left or current is None:
        annotations.update({key: None for key in FREEZE_ANNOTATIONS})
        return {"metadata": {"annotations": annotations},
                "spec": {"template": {"spec": {"suspend": False, FIELD_SUSPEND_CLUSTERS: None}}}}
    history = [*current.history, step("resume", by, "", at, clusters=resumed)]
    annotations[ANNOTATION_SUSPEND_HISTORY] = json.dumps(history[-HISTORY_LIMIT:], separators=(",", ":"))
    return {"metadata": {"annotations": annotations},
            "spec": {"template": {"spec": {"suspend": False, FIELD_SUSPEND_CLUSTERS: left}}}}


def resumed_record(current: Freeze, left: list[str], by: str, at: str, resumed: list[str]) -> dict[str, Any] | None:
    """The recorded freeze after resuming ``resumed`` (``left`` stay frozen); None when nothing stays frozen."""
    if not left:
        return None
    history = [*current.history, step("resume", by, "", at, clusters=resumed)][-HISTORY_LIMIT:]
    body: dict[str, Any] = {"by": current.by, "reason": current.reason, "at": current.at, "clusters": left,
                            "history": history}
    for key, value in (("identity", current.identity), ("until", current.until), ("then", current.then)):
        if value:
            body[key] = value
    return body


def project_resume_patch(current: Freeze, left: list[str], by: str, at: str, resumed: list[str]) -> dict[str, Any]:
    """The merge patch resuming a project's freeze: all of it (``left`` empty) or some clusters."""
    return {"spec": {"freeze": resumed_record(current, left, by, at, resumed)}}


def break_glass_patch(by: str, reason: str, at: str) -> dict[str, Any]:
    """The merge patch asking for one apply of a frozen source, with who, why and when."""
    return {"metadata": {"annotations": {ANNOTATION_BREAK_GLASS_BY: by, ANNOTATION_BREAK_GLASS_REASON: reason,
                                         ANNOTATION_BREAK_GLASS_AT: at}}}


def break_glass_pending(fk: dict[str, Any] | None) -> str:
    """The break-glass request not applied yet (its ``-at`` token), "" when none."""
    notes = ((fk or {}).get("metadata") or {}).get("annotations") or {}
    token = str(notes.get(ANNOTATION_BREAK_GLASS_AT) or "")
    return token if token and notes.get(ANNOTATION_BREAK_GLASS_HANDLED) != token else ""


@dataclass(frozen=True)
class BreakGlass:
    """The last break glass of a source: who, why, when, and whether it has been applied."""

    by: str
    reason: str
    at: str
    applied: bool


def break_glass_of(fk: dict[str, Any] | None) -> BreakGlass | None:
    """The last break glass recorded on a FederatedKustomization, None when never."""
    notes = ((fk or {}).get("metadata") or {}).get("annotations") or {}
    at = str(notes.get(ANNOTATION_BREAK_GLASS_AT) or "")
    if not at:
        return None
    return BreakGlass(str(notes.get(ANNOTATION_BREAK_GLASS_BY) or "unknown"),
                      str(notes.get(ANNOTATION_BREAK_GLASS_REASON) or ""), at,
                      notes.get(ANNOTATION_BREAK_GLASS_HANDLED) == at)


def held_clusters(source_fk: dict[str, Any] | None, project: dict[str, Any] | None, clusters: list[str],
                  now: datetime) -> list[str]:
    """The clusters among ``clusters`` whose writes are held now by the source's or its project's freeze."""
    freezes = [f for f in (source_freeze(source_fk), project_freeze(project)) if f is not None and f.active(now)]
    return [c for c in clusters if any(f.holds(c) for f in freezes)]


def project_hold_refusal(project: str, name: str, frozen: Freeze | None, clusters: list[str], now: datetime,
                         lift: str = "") -> str:
    """The sentence refusing to resume source ``name`` on ``clusters`` (all when empty) while its project's freeze
    holds them, naming that freeze and how to lift it (``lift``: the command or key); '' when it holds none of them."""
    if frozen is None or not frozen.active(now):
        return ""
    held = [c for c in clusters if frozen.holds(c)] if clusters else list(frozen.clusters)
    if clusters and not held:
        return ""
    where = f" on {', '.join(held)}" if held else ""
    how = lift or f"`gitops-tui resume project {project}" + (f" --clusters {','.join(held)}`" if held else "`")
    return (f"source {name} is held by the freeze of project {project}{where} (by {frozen.by}: {frozen.reason}); "
            f"resuming the source would not lift it: lift the project's freeze with {how}")
