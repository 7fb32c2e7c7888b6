"""Which holds stand on a source, whose they are, and which member writes are ignored; the core of api/effective.py.

An operator's freeze, pin and break glass are the Project's record (api/holds.py), trusted; the FederatedKustomization
carries a copy of them and whatever a project member wrote there. A member's own freeze or pin is honoured (holding
is safe) but unverified; a member's write that would lift an operator's hold (resume, unpin, a break-glass annotation)
is ignored. A lift is told from the operator's own copy not written yet by time: it is a lift only when the
FederatedKustomization was written at or after the operator's last step (managedFields times are the API server's).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gitops_tui.api import freeze as fz
from gitops_tui.api.effective import Hold, IgnoredWrite, MemberWrite, freeze_hold, glass_hold, pin_hold
from gitops_tui.api.formats import parse_time
from gitops_tui.api.holds import OperatorRecord, operator_record
from gitops_tui.api.managed_fields import annotation_path, latest_write, template_spec_path, writer_of
from gitops_tui.api.pin import Pin, pin_of
from gitops_tui.api.source import GitOpsSource

FREEZE_PATHS = (template_spec_path("suspend"), template_spec_path(fz.FIELD_SUSPEND_CLUSTERS))
PIN_PATHS = (template_spec_path("pin"),)
GLASS_PATHS = (annotation_path(fz.ANNOTATION_BREAK_GLASS_AT),)
MEMBER = "a project member"


@dataclass(frozen=True)
class FoundHolds:
    """The holds standing on one source, and the member writes seen."""

    freezes: tuple[Hold, ...]
    pin: Hold | None
    break_glass: Hold | None
    ignored: tuple[IgnoredWrite, ...]
    member_writes: tuple[MemberWrite, ...]
    wake_in: float | None


def _last_step(freeze: fz.Freeze) -> str:
    steps = [str(s.get("at") or "") for s in freeze.history if isinstance(s, dict)]
    return max([freeze.at, *steps])


def _written_since(fk: dict[str, Any] | None, when: str) -> bool:
    """Whether the FederatedKustomization was written (metadata or spec) at or after ``when``."""
    written, since = parse_time(latest_write(fk)), parse_time(when)
    return written is not None and since is not None and written >= since


def _covered(freeze: fz.Freeze | None, clusters: tuple[str, ...]) -> bool:
    """Whether ``freeze`` covers every one of ``clusters`` (empty: every cluster)."""
    if freeze is None:
        return False
    if freeze.everywhere:
        return True
    return bool(clusters) and set(clusters) <= set(freeze.clusters)


def _claimed(fk: dict[str, Any] | None, claim: str, paths: tuple[tuple[str, ...], ...]) -> tuple[str, str]:
    """(who, field manager) of a member's write: the claimed name (an annotation) else the manager."""
    manager = writer_of(fk, *paths)
    return (claim or manager or MEMBER), manager


def _freezes(source: GitOpsSource, project: dict[str, Any] | None, record: OperatorRecord, now: datetime,
             ignored: list[IgnoredWrite], members: list[MemberWrite]) -> list[Hold]:
    fk = source.kustomization
    found: list[tuple[fz.Freeze, Hold]] = []
    own_project = fz.project_freeze(project)
    if own_project is not None and own_project.active(now):
        found.append((own_project, freeze_hold(own_project, now)))
    op = record.freeze if record.freeze is not None and record.freeze.active(now) else None
    if op is not None:
        found.append((op, freeze_hold(op, now)))
    own = fz.source_freeze(fk)
    mirror = own is not None and op is not None and own.at == op.at  # the operator's own copy on the source
    stale = own is not None and bool(record.lifted_freeze) and own.at == record.lifted_freeze
    if own is not None and own.active(now) and not mirror and not stale:
        by, manager = _claimed(fk, own.by if own.by != "unknown" else "", FREEZE_PATHS)
        hold = replace(freeze_hold(own, now), by=by, identity=manager, verified=False)
        found.append((own, hold))
        members.append(MemberWrite("suspend", hold, f"suspend:{own.at}:{','.join(own.clusters) or '*'}"))
    if op is not None and not _covered(own, op.clusters) and _written_since(fk, _last_step(op)):
        by, _ = _claimed(fk, "", FREEZE_PATHS)
        ignored.append(IgnoredWrite("resume", by, (
            f"a write by {by} (unverified) would lift the operator's freeze by {op.by} ({op.reason}) on {op.where()}; "
            f"ignored: only an operator resumes it (gitops-tui resume source {source.name} -p PROJECT)"),
            f"resume:{op.at}"))
    return [hold for _, hold in found]


def _pin(source: GitOpsSource, record: OperatorRecord, ignored: list[IgnoredWrite],
         members: list[MemberWrite]) -> Hold | None:
    fk = source.kustomization
    own: Pin | None = pin_of(fk)
    op = record.pin
    if op is not None:
        if not op.same_intent(own) and _written_since(fk, op.at):
            by, _ = _claimed(fk, "", PIN_PATHS)
            kind = "unpin" if own is None else "pin"
            ignored.append(IgnoredWrite(kind, by, (
                f"a write by {by} (unverified) would {'remove' if own is None else 'change'} the operator's pin "
                f"({op.describe()}); ignored: only an operator unpins or pins again"), f"pin:{op.at}"))
        return pin_hold(op)
    if own is None or own.revision == record.lifted_pin:
        return None
    by, manager = _claimed(fk, own.by, PIN_PATHS)
    hold = replace(pin_hold(own), by=by, identity=manager, verified=False)
    members.append(MemberWrite("pin", hold, f"pin:{own.revision}:{','.join(own.clusters) or '*'}"))
    return hold


def _glass(source: GitOpsSource, record: OperatorRecord, freezes: list[Hold],
           ignored: list[IgnoredWrite]) -> Hold | None:
    fk = source.kustomization
    request = record.break_glass
    notes = ((fk or {}).get("metadata") or {}).get("annotations") or {}
    token = str(notes.get(fz.ANNOTATION_BREAK_GLASS_AT) or "")
    stale = request is not None and parse_time(token) is not None and token <= request.token
    if token and not stale and freezes:
        by, manager = _claimed(fk, str(notes.get(fz.ANNOTATION_BREAK_GLASS_BY) or ""), GLASS_PATHS)
        who = f"{by} (field manager {manager})" if manager and manager != by else by
        held = "; ".join(f.describe() for f in freezes)
        ignored.append(IgnoredWrite("break-glass", who, (
            f"a break-glass annotation written by {who} (unverified) was ignored: only an operator breaks glass "
            f"(gitops-tui reconcile source {source.name} -p PROJECT --once-while-suspended --reason TEXT); "
            f"nothing was applied and it stays held ({held})"), "break-glass:" + ",".join(f.since for f in freezes)))
    return glass_hold(request) if request is not None and request.pending else None


def source_holds(source: GitOpsSource, project: dict[str, Any] | None, now: datetime) -> FoundHolds:
    """The holds on ``source`` now: freezes (the project's first), the pin, a pending break glass; member writes."""
    record = operator_record(project, source.name)
    ignored: list[IgnoredWrite] = []
    members: list[MemberWrite] = []
    freezes = _freezes(source, project, record, now, ignored, members)
    pin = _pin(source, record, ignored, members)
    glass = _glass(source, record, freezes, ignored)
    waits = [w for f in freezes if f.until and not f.expired
             for w in [max(0.0, ((parse_time(f.until) or now) - now).total_seconds())]]
    return FoundHolds(tuple(freezes), pin, glass, tuple(ignored), tuple(members), min(waits, default=None))



def window_holds(project: dict[str, Any] | None, placed: list[str],
                 now: datetime) -> tuple[tuple[Hold, ...], float | None]:
    """The project's freeze windows open now on ``placed`` as holds, and the seconds until the next opening or
    closing (api/windows.py)."""
    if not (((project or {}).get("spec") or {}).get("windows")):
        return (), None
    from gitops_tui.api.windows import reading

    mine = [(hold, wake) for window, hold, wake in reading(project, now) if any(window.covers(c) for c in placed)]
    holds = tuple(hold for hold, _ in mine if hold is not None)
    return holds, min((wake for _, wake in mine if wake is not None), default=None)


def source_overrides(kustomization: dict[str, Any] | None, project: dict[str, Any] | None,
                     name: str) -> tuple[Any, ...]:
    """The source's per-cluster overrides (api/overrides.py), each verified against the operator's record."""
    if not (((kustomization or {}).get("spec") or {}).get("overrides")):
        return ()
    from gitops_tui.api.overrides import overrides_of

    return overrides_of(kustomization, project, name)
