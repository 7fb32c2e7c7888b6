"""Operator actions on staged rollouts: set one up (waves, soak, approvals), turn it off, approve a wave.

Each is an operator's intent, recorded first on the Project (``spec.sourceHolds.<source>.rollout``, where no project
member can write, with the API server's identity), then copied to the FederatedKustomization; each needs a reason and
is journaled with who and why, and raises an Event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions.actor import current_actor, record_action
from gitops_tui.actions.source_access import SourceActionError, patch_project
from gitops_tui.actions.state import SourceReading, read_source
from gitops_tui.api import names
from gitops_tui.api.formats import parse_duration, short_revision
from gitops_tui.api.freeze import stamp
from gitops_tui.api.holds import FIELD_SOURCE_HOLDS, record_patch
from gitops_tui.api.rollout import (
    APPROVALS_LIMIT,
    FIELD_ROLLOUT,
    REASON_APPROVED,
    REASON_OFF,
    REASON_SET,
    Approval,
    RolloutSpec,
    parse_waves,
    rollout_patch,
    stamp_precise,
)
from gitops_tui.api.rollout_state import RolloutView
from gitops_tui.kube.client import json_request
from gitops_tui.kube.events import EventRecorder
from gitops_tui.kube.whoami import who_am_i
from gitops_tui.reconciler.status import object_path


@dataclass(frozen=True)
class RolloutRequest:
    """What an operator asks when setting up a rollout: the waves, why, the soak, the waves that need approval."""

    waves: str
    """``dev/staging,qa/prod``."""
    reason: str
    soak: str = ""
    """A duration (``10m``); '' for none."""
    approve: str = ""
    """Waves (or clusters of them) that wait for an approval, comma-separated."""


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _identity(api: ApiClient) -> str:
    return str(who_am_i(api).get("user") or "")


def _record(reading: SourceReading, name: str) -> dict[str, Any]:
    """The operator's rollout record of the source on its Project ({} when none)."""
    holds = (reading.project.get("spec") or {}).get(FIELD_SOURCE_HOLDS) or {}
    raw = holds.get(name) if isinstance(holds, dict) else None
    record = raw.get(FIELD_ROLLOUT) if isinstance(raw, dict) else None
    return record if isinstance(record, dict) else {}


def _patch_source(api: ApiClient, fk: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge-patch the FederatedKustomization, asking for a reconcile now; one sentence when refused."""
    meta = fk["metadata"]
    body = {**patch, "metadata": {"annotations": {names.ANNOTATION_REQUESTED_AT: stamp_precise(_now(None))}}}
    try:
        return json_request(api, "PATCH", object_path(fk["kind"], meta["namespace"], meta["name"]), body,
                            content_type="application/merge-patch+json")
    except ApiException as exc:
        if exc.status == 404:
            raise SourceActionError(f"source {meta['name']!r} no longer exists") from None
        raise SourceActionError(f"the management cluster refused the change (HTTP {exc.status})") from None


def plan_rollout(api: ApiClient, project: str, name: str, request: RolloutRequest, actor: str | None = None,
                 now: datetime | None = None) -> RolloutSpec:
    """Check a rollout request against the source's placed clusters; the spec it would record (nothing written)."""
    if not request.reason.strip():
        raise SourceActionError("a reason is required to set up a rollout")
    reading = read_source(api, project, name, _now(now))
    try:
        waves = parse_waves(request.waves, request.approve, reading.state.names)
        soak = request.soak.strip()
        if soak and parse_duration(soak) < 0:
            raise ValueError(f"--soak {soak!r} is negative")
    except ValueError as exc:
        raise SourceActionError(f"source {name}: {exc}") from None
    return RolloutSpec(waves, soak if soak and parse_duration(soak) else "", actor or current_actor(),
                       request.reason.strip(), stamp(_now(now)), _identity(api))


def set_rollout(api: ApiClient, project: str, name: str, request: RolloutRequest, actor: str | None = None,
                now: datetime | None = None) -> RolloutSpec:
    """Set up (or change) the source's rollout: a new revision then goes wave by wave. Approvals already given stay."""
    spec = plan_rollout(api, project, name, request, actor, now)
    reading = read_source(api, project, name, _now(now))
    kept = [a for a in _record(reading, name).get("approvals") or [] if isinstance(a, dict)]
    patch_project(api, project, record_patch(name, rollout={**spec.to_spec(), "lifted": None, "approvals": kept}))
    fk = _patch_source(api, reading.source.kustomization or {}, rollout_patch(spec))
    EventRecorder(api).emit(fk, "Normal", REASON_SET, f"rollout set by {spec.by}: {spec.describe()}: {spec.reason}")
    record_action(api, action="rollout", actor=spec.by, reason=spec.reason, project=project, source=name,
                  clusters=reading.state.names, objects=[f"waves {spec.names}", f"soak {spec.soak or 'none'}",
                                                         *(f"approve {w.name}" for w in spec.waves if w.approve)])
    return spec


def rollout_off(api: ApiClient, project: str, name: str, reason: str, actor: str | None = None,
                now: datetime | None = None) -> RolloutSpec:
    """Turn the source's rollout off: every cluster follows git again at once. Returns the rollout that was."""
    actor, when = actor or current_actor(), _now(now)
    if not reason.strip():
        raise SourceActionError("a reason is required to turn a rollout off")
    reading = read_source(api, project, name, when)
    view = reading.state.rollout
    if view is None:
        raise SourceActionError(f"source {name} has no rollout")
    spec = view.spec
    patch_project(api, project, record_patch(name, rollout={"lifted": stamp(when), "at": spec.at, "by": actor,
                                                            "waves": None, "soak": None, "approvals": None}))
    fk = _patch_source(api, reading.source.kustomization or {}, rollout_patch(None))
    where = f" ({view.summary()})" if view.revision else ""
    EventRecorder(api).emit(fk, "Normal", REASON_OFF, f"rollout turned off by {actor}{where}: {reason.strip()}; "
                                                      "every cluster follows git")
    record_action(api, action="rollout-off", actor=actor, reason=reason.strip(), project=project, source=name,
                  clusters=reading.state.names, objects=[f"waves {spec.names}"])
    return spec


def _check_approval(name: str, view: RolloutView | None, wave: str) -> int:
    """The index of the wave to approve; one sentence when it cannot be approved now."""
    if view is None:
        raise SourceActionError(f"source {name} has no rollout: nothing to approve")
    spec = view.spec
    index = spec.find(wave)
    if index is None:
        raise SourceActionError(f"{wave!r} is not a wave of the rollout of source {name} (its waves: {spec.names})")
    chosen = spec.waves[index]
    if not chosen.approve:
        needing = ", ".join(w.name for w in spec.waves if w.approve) or "none"
        raise SourceActionError(f"wave {chosen.name} of source {name} needs no approval (waves that do: {needing})")
    rev = short_revision(view.revision)
    if not view.revision:
        raise SourceActionError(f"source {name} has no revision fetched yet: nothing to approve")
    if view.progress.halted is not None:
        raise SourceActionError(
            f"the rollout of {rev} {view.progress.halted.reason}: an approval does not resume it; a fixed revision "
            f"starts again from the first wave (or turn the rollout off: gitops-tui rollout source {name} --off)")
    if view.progress.done or index < view.current:
        raise SourceActionError(f"wave {chosen.name} already has {rev} (rollout {view.state}): nothing to approve")
    given = view.approval(index)
    if given is not None:
        raise SourceActionError(f"wave {chosen.name} was approved for {rev} already, by {given.by}: {given.reason}")
    return index


def approve_wave(api: ApiClient, project: str, name: str, wave: str, reason: str, actor: str | None = None,
                 now: datetime | None = None, revision: str = "") -> Approval:
    """Approve one wave of the source's rollout for the revision rolling out now (it starts once the wave before it
    soaked); recorded on the Project only, so no project member can approve. ``revision``, when given, is the one the
    operator saw: an approval is refused when git moved since."""
    actor, when = actor or current_actor(), _now(now)
    if not reason.strip():
        raise SourceActionError("a reason is required to approve a wave")
    reading = read_source(api, project, name, when)
    view = reading.state.rollout
    index = _check_approval(name, view, wave)
    assert view is not None
    if revision and short_revision(revision) != short_revision(view.revision):
        raise SourceActionError(f"source {name} now rolls out {short_revision(view.revision)}, not "
                                f"{short_revision(revision)}: nothing approved; look again and approve that revision")
    chosen = view.spec.waves[index]
    approval = Approval(chosen.name, view.revision, actor, reason.strip(), stamp(when), _identity(api))
    kept = [a for a in _record(reading, name).get("approvals") or [] if isinstance(a, dict)]
    approvals = [*kept, approval.to_record()][-APPROVALS_LIMIT:]
    patch_project(api, project, record_patch(name, rollout={"approvals": approvals}))
    fk = _patch_source(api, reading.source.kustomization or {}, {})
    EventRecorder(api).emit(fk, "Normal", REASON_APPROVED,
                            f"wave {chosen.name} of the rollout of {short_revision(view.revision)} approved by "
                            f"{actor}: {approval.reason}", revision=view.revision)
    record_action(api, action="approve", actor=actor, reason=approval.reason, project=project, source=name,
                  clusters=[c for c in reading.state.names if c in chosen.clusters],
                  objects=[f"wave {chosen.name}", f"revision {view.revision}"])
    return approval
