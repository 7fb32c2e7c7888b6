"""The recorded demo with a staged rollout: podinfo rolls git's revision out dev → staging → prod (soak 10m, approval
before prod); staging soaked (from 11:30, the clock is 12:00), so prod awaits its approval and keeps its revision.
"""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.api import holds
from gitops_tui.api.rollout import RolloutSpec, Wave
from gitops_tui.views.state import Change

GIT = "main@sha1:9f2c41d7a3b05e6c8d1f2a3b4c5d6e7f80912345"
SPEC = RolloutSpec((Wave(("dev",)), Wave(("staging",)), Wave(("prod",), approve=True)), "10m", "alice",
                   "CHG-42 staged release", "2026-01-15T11:00:00Z")


def with_rollout(app: Any, soak_started: str = "2026-01-15T11:30:00Z", halted: dict[str, str] | None = None) -> Any:
    """Record the operator's rollout of podinfo (the Project's record, then its copy and the reconciler's progress)."""
    state = app.backend.state
    project = copy.deepcopy(state.get("projects", "", "demo"))
    project["spec"].setdefault(holds.FIELD_SOURCE_HOLDS, {})["podinfo"] = {"rollout": SPEC.to_spec()}
    state.apply(Change("projects", "MODIFIED", project))
    podinfo = copy.deepcopy(state.get("kustomizations", "demo", "podinfo"))
    podinfo["spec"]["template"]["spec"]["rollout"] = SPEC.to_spec()
    podinfo["status"]["rollout"] = {"revision": GIT, "waves": SPEC.names, "released": 2,
                                    "appliedAt": "2026-01-15T11:29:00Z", "soakStarted": soak_started,
                                    "startedAt": "2026-01-15T11:05:00Z", "halted": halted}
    state.apply(Change("kustomizations", "MODIFIED", podinfo))
    return app
