"""Snapshots of the Journal pane, the pin and unpin dialogs, the pin preview and the tree, at 80x24 and 120x36."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitops_tui.api.journal_crd import JOURNAL_API_VERSION, KIND_JOURNAL_ENTRY
from gitops_tui.views.state import Change

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
GOOD = "main@sha1:4b1e0c9a7d6f5e4d3c2b1a09f8e7d6c5b4a39281"
BAD = "main@sha1:9f2c41d7a3b05e6c8d1f2a3b4c5d6e7f80912345"
TREE = """Source demo/podinfo  git main@9f2c41d  pinned at main@4b1e0c9 on staging by alice: bad config in 9f2c41d
├── Cluster dev  main@9f2c41d
│   ├── Deployment demo/podinfo-0  Current  in sync  managers: gitops-tui
│   └── Deployment demo/podinfo-1  InProgress  drift: modified: .spec.replicas  managers: gitops-tui, kubectl-scale
└── Cluster staging  main@4b1e0c9  (pinned)
    └── Deployment demo/podinfo-0  Current  in sync  managers: gitops-tui"""
PREVIEW = """@ staging: Deployment demo/podinfo-0 (changed by gitops-tui)
-   .spec.template.spec.containers[0].image: ghcr.io/stefanprodan/podinfo:6.5.0
+   .spec.template.spec.containers[0].image: ghcr.io/stefanprodan/podinfo:6.4.1"""

#: (minutes before the frozen clock, action, actor, reason, source, clusters, objects)
JOURNAL = [
    (42, "suspend", "alice@10.0.0.7", "incident 88: bad config", "podinfo", [], []),
    (30, "secret-change", "bob", "created secret git-token", "", [], ["FederatedSecret git-token key bearerToken"]),
    (21, "resume", "alice@10.0.0.7", "was suspended by alice@10.0.0.7: incident 88: bad config", "podinfo", [], []),
    (20, "pin", "alice@10.0.0.7", "bad config in 9f2c41d", "podinfo", ["staging"], [f"revision {GOOD}"]),
    (12, "drift-corrected", "reconciler", "drift on dev: Deployment demo/podinfo-1 fields .spec.replicas changed "
     "by kubectl-scale", "podinfo", ["dev"], ["Deployment demo/podinfo-1"]),
    (3, "reconcile", "carol", "", "redis", [], []),
]


#: Who the API server saw for each actor of JOURNAL (their credentials, beside what their session claims).
IDENTITIES = {"alice@10.0.0.7": "alice", "bob": "bob", "carol": "carol",
              "reconciler": "system:serviceaccount:gitops-tui-system:gitops-tui"}


def incident_app(app: Any, pinned: bool = True) -> Any:
    """The recorded demo with a revision history on podinfo, a pin on staging, journal entries, a preview and a tree."""
    from datetime import timedelta

    from gitops_tui.backends.static import FROZEN_NOW

    state = app.backend.state
    ks = copy.deepcopy(state.get("kustomizations", "demo", "podinfo"))
    for entry in ks["status"]["clusters"]:
        entry["history"] = [{"revision": BAD, "at": "2026-01-15T11:40:00Z", "by": "reconciler (git)"},
                            {"revision": GOOD, "at": "2026-01-14T09:12:00Z", "by": "reconciler (git)"}]
    if pinned:
        pin = {"revision": GOOD, "clusters": ["staging"], "by": "alice", "reason": "bad config in 9f2c41d",
               "at": "2026-01-15T11:40:00Z"}
        ks["spec"]["template"]["spec"]["pin"] = pin
        project = copy.deepcopy(state.get("projects", "", "demo"))  # the operator's record (issue 18 item 4)
        project["spec"]["sourceHolds"] = {**project["spec"].get("sourceHolds", {}), "podinfo": {"pin": pin}}
        state.apply(Change("projects", "MODIFIED", project))
        staging = next(e for e in ks["status"]["clusters"] if e["name"] == "staging")
        staging.update(lastAppliedRevision=GOOD, lastAttemptedRevision=GOOD, pinnedRevision=GOOD)
    state.apply(Change("kustomizations", "MODIFIED", ks))
    for index, (minutes, action, actor, reason, source, clusters, objects) in enumerate(JOURNAL):
        when = FROZEN_NOW - timedelta(minutes=minutes)
        spec = {"time": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "action": action, "actor": actor, "reason": reason,
                "project": "demo", "source": source, "clusters": clusters, "objects": objects,
                "identity": {"user": IDENTITIES[actor], "verified": True}}
        state.apply(Change("journal", "ADDED", {
            "apiVersion": JOURNAL_API_VERSION, "kind": KIND_JOURNAL_ENTRY,
            "metadata": {"name": f"j-{when.strftime('%Y%m%d-%H%M%S')}-{index}", "namespace": "gitops-tui-system"},
            "spec": spec}))
    app.backend.ops.extras["pinPreviews"] = {"demo/podinfo": PREVIEW}
    app.backend.ops.extras["trees"] = {"demo/podinfo": TREE}
    return app


#: name -> keys pressed from the first pane.
SCREENS = {
    "journal": ["8"],
    "sources-pinned": ["2", "down"],
    "propagation-pinned": ["3", "down"],
    "pin-dialog": ["2", "down", "p"],
    "pin-reason-required": ["2", "down", "p", "tab", "enter"],
    "pin-preview": ["2", "down", "p", "tab", *"bad config", "tab", *"staging", "enter"],
    "unpin-confirm": ["2", "down", "u"],
    "tree": ["2", "down", "t"],
    "tree-from-propagation": ["3", "down", "t"],
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(SCREENS))
def test_incident_screen(snap_compare, make_app, name: str, size: tuple[int, int]) -> None:
    """The incident tools' panes and dialogs look as recorded."""
    assert snap_compare(incident_app(make_app()), press=SCREENS[name], terminal_size=size)
