"""The recorded demo with every kind of hold at once: frozen ‖, break glass ↯, pinned ◆, stale ◌ cells side by side.

frontend is frozen on dev and staging (by alice) and a break glass of git's revision is pending on staging; podinfo is
pinned on staging at an earlier revision it applied; prod stopped answering 10 minutes ago (the demo's own).
"""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.api import freeze as fz
from gitops_tui.api import holds
from gitops_tui.views.state import Change

GIT = "main@sha1:9f2c41d7a3b05e6c8d1f2a3b4c5d6e7f80912345"
GOOD = "main@sha1:4b1e0c9a7d6f5e4d3c2b1a09f8e7d6c5b4a39281"
TOKEN = "2026-01-15T11:55:00.000000Z"


def with_every_hold(app: Any) -> Any:
    """Record the holds on the app's static state (the Project's records first, as the management side writes them)."""
    state = app.backend.state
    project = copy.deepcopy(state.get("projects", "", "demo"))
    pin = {"revision": GOOD, "clusters": ["staging"], "by": "bob", "reason": "9f2c41d breaks staging",
           "at": "2026-01-15T11:30:00Z"}
    glass = holds.BreakGlassRequest(TOKEN, "carol", "hotfix 77 must ship", GIT, ("staging",), "carol")
    records = project["spec"].setdefault(holds.FIELD_SOURCE_HOLDS, {})
    records.setdefault("frontend", {})["breakGlass"] = glass.to_record()
    records["podinfo"] = {"pin": pin}
    state.apply(Change("projects", "MODIFIED", project))

    frontend = copy.deepcopy(state.get("kustomizations", "demo", "frontend"))
    frontend["metadata"]["annotations"].update(fz.break_glass_patch("carol", glass.reason, TOKEN)["metadata"]["annotations"])
    state.apply(Change("kustomizations", "MODIFIED", frontend))

    podinfo = copy.deepcopy(state.get("kustomizations", "demo", "podinfo"))
    podinfo["spec"]["template"]["spec"]["pin"] = pin
    for entry in podinfo["status"]["clusters"]:
        entry["history"] = [{"revision": GIT, "at": "2026-01-15T11:40:00Z", "by": "reconciler (git)"},
                            {"revision": GOOD, "at": "2026-01-14T09:12:00Z", "by": "reconciler (git)"}]
        if entry["name"] == "staging":
            entry.update(lastAppliedRevision=GOOD, lastAttemptedRevision=GOOD, pinnedRevision=GOOD)
    state.apply(Change("kustomizations", "MODIFIED", podinfo))
    return app
