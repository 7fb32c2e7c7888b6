"""Freeze operations of the static backend: the same patches as the management side, applied in memory."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from gitops_tui.api import freeze as fz
from gitops_tui.api import holds
from gitops_tui.backends.static_lookup import project_namespace, project_object, source_object
from gitops_tui.views import model
from gitops_tui.views.freeze import FreezeChoice
from gitops_tui.views.state import Change, ManagementState


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (what the management server does with the same patch), on a copy of ``target``."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


class StaticFreezeOperations:
    """Suspend, resume (all or some clusters), project freezes and break glass on the in-memory state."""

    state: ManagementState
    actor: str
    extras: dict[str, Any]
    calls: list[tuple[str, tuple[Any, ...]]]
    _now: datetime

    def _change(self, kind: str, obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        patched = merge_patch(obj, patch)
        self.state.apply(Change(kind, "MODIFIED", patched))
        return patched

    def _merge(self, current: fz.Freeze | None, reason: str, choice: FreezeChoice | None) -> fz.FreezeChange:
        choice = choice or FreezeChoice()
        for_, until = choice.for_until()
        return fz.merge(current, by=self.actor, reason=reason, now=self._now,
                        until=fz.parse_expiry(for_, until, self._now), then=fz.THEN_RESUME if choice.then_resume else "",
                        clusters=list(choice.clusters))

    def _own(self, project: str, name: str) -> fz.Freeze | None:
        """The source's own freeze: the operator's record on the Project, else the kustomization's."""
        record = holds.operator_record(project_object(self.state, project), name)
        return record.freeze or fz.source_freeze(source_object(self.state, project, name))

    def suspend_source(self, project: str, name: str, reason: str, choice: FreezeChoice | None = None) -> str:
        """Record the freeze on the Project (the operator's record), then on the kustomization."""
        self.calls.append(("suspend_source", (project, name, reason, *((choice,) if choice else ()))))
        obj = source_object(self.state, project, name)
        change = self._merge(self._own(project, name), reason, choice)
        self._change("projects", project_object(self.state, project),
                     holds.record_patch(name, freeze=fz.freeze_record(change)))
        self._change("kustomizations", obj, fz.source_patch(change))
        return f"{'Extended the freeze of' if change.extended else 'Suspended'} {name}."

    def resume_source(self, project: str, name: str, clusters: tuple[str, ...] = ()) -> str:
        """Clear the freeze, or lift it from ``clusters`` only."""
        self.calls.append(("resume_source", (project, name, *((clusters,) if clusters else ()))))
        project_freeze = fz.project_freeze(project_object(self.state, project))
        refusal = fz.project_hold_refusal(project, name, project_freeze, list(clusters), self._now)
        if refusal:
            raise ValueError(refusal)
        obj = source_object(self.state, project, name)
        current = self._own(project, name)
        view = model.source_index(self.state).get(f"{project_namespace(self.state, project)}/{name}")
        left = fz.remaining(current, view.clusters if view else [], list(clusters)) if current and clusters else []
        stamp = fz.stamp(self._now)
        record = holds.operator_record(project_object(self.state, project), name).freeze
        if record is not None:
            kept = fz.resumed_record(record, left, self.actor, stamp, list(clusters))
            self._change("projects", project_object(self.state, project), holds.record_patch(
                name, freeze=kept if kept is not None else holds.lifted_freeze_record(record, self.actor, stamp)))
        self._change("kustomizations", obj, fz.source_resume_patch(current, left, list(clusters), self.actor, stamp, stamp))
        return f"Resumed {name}{' on ' + ', '.join(clusters) if clusters and left else ''}."

    def suspend_project(self, project: str, reason: str, choice: FreezeChoice | None = None) -> str:
        """Record the freeze on the Project (spec.freeze)."""
        self.calls.append(("suspend_project", (project, reason, *((choice,) if choice else ()))))
        obj = project_object(self.state, project)
        change = self._merge(fz.project_freeze(obj), reason, choice)
        self._change("projects", obj, fz.project_patch(change))
        where = f" on {', '.join(change.clusters)}" if change.clusters else ""
        return f"Froze project {project}{where}: every source of it is held."

    def resume_project(self, project: str, clusters: tuple[str, ...] = ()) -> str:
        """Lift the project's freeze (all or ``clusters``) and resume its suspended sources there."""
        self.calls.append(("resume_project", (project, *((clusters,) if clusters else ()))))
        obj = project_object(self.state, project)
        current = fz.project_freeze(obj)
        if current is not None:
            placed = model.project_clusters(obj, self.state.items("clusters"))
            left = fz.remaining(current, placed, list(clusters)) if clusters else []
            self._change("projects", obj, fz.project_resume_patch(current, left, self.actor, fz.stamp(self._now),
                                                                  list(clusters)))
        for source in model.sources(self.state):
            if source.project == project and source.own_freeze is not None:
                self.resume_source(project, source.name, tuple(c for c in clusters if c in source.clusters))
        return f"Resumed project {project}."

    def break_glass(self, project: str, name: str, reason: str, revision: str = "",
                    clusters: tuple[str, ...] = ()) -> str:
        """Record a break-glass request of exactly ``revision`` on ``clusters`` (on the Project, then the kustomization)."""
        self.calls.append(("break_glass", (project, name, reason, revision, tuple(clusters))))
        obj = source_object(self.state, project, name)
        token = fz.stamp(self._now)
        request = holds.BreakGlassRequest(token, self.actor, reason, revision, tuple(clusters))
        self._change("projects", project_object(self.state, project),
                     holds.record_patch(name, break_glass=request.to_record()))
        self._change("kustomizations", obj, fz.break_glass_patch(self.actor, reason, token))
        return f"Break glass on {name}: {revision} is applied once on {', '.join(clusters) or 'its frozen clusters'}."

    def preview_project_resume(self, project: str) -> str:
        """The recorded preview of every source of the project ('nothing to revert' when none was recorded)."""
        self.calls.append(("preview_project_resume", (project,)))
        previews = self.extras.get("resumePreviews") or {}
        blocks = []
        for source in model.sources(self.state):
            if source.project == project:
                blocks.append(f"# {source.name}\n{previews.get(source.key) or 'nothing to revert'}")
        return "\n".join(blocks)
