"""Freezes in the journal: suspend, extend, break glass (asked and applied), expiry and resume, in order, with actors."""

from __future__ import annotations

from gitops_tui import journal
from gitops_tui.actions import freeze as actions
from gitops_tui.journal.corrections import RECONCILER_ACTOR
from gitops_tui.reconciler.freeze import EXPIRY_ACTOR
from tests.clock import FakeClock
from tests.gitserver import commit
from tests.world import CLUSTERS, World, configmap

#: The journal's actions a freeze makes (a source's create and the reconciler's corrections are left out).
FREEZE_ACTIONS = {"suspend", "extend", "break-glass", "expiry", "resume"}


def test_a_freeze_and_everything_it_went_through_is_journaled_in_order(world: World) -> None:
    clock = FakeClock()
    world.ctx.now = clock
    repo = world.repo("jfreeze", {"cm.yaml": configmap("cfg", "v1")})
    world.create("jfreeze", f"file://{repo}", interval="1h")
    world.reconcile("jfreeze")
    api, project = world.api, world.project

    actions.freeze_source(api, project, "jfreeze", actions.FreezeRequest("incident 21", for_="30m"), actor="alice",
                          now=clock())
    actions.freeze_source(api, project, "jfreeze", actions.FreezeRequest("still on it", for_="1h"), actor="bob",
                          now=clock())
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    actions.break_glass(api, project, "jfreeze", "hotfix 21 must ship", actor="carol")
    world.reconcile("jfreeze")
    clock.advance(hours=2)
    world.reconcile("jfreeze")
    actions.resume_source(api, project, "jfreeze", actor="dave", now=clock())

    entries = [e for e in journal.list_entries(api, project=project)
               if e.source == "jfreeze" and e.action in FREEZE_ACTIONS]
    assert [(e.action, e.actor) for e in entries] == [
        ("suspend", "alice"), ("extend", "bob"), ("break-glass", "carol"), ("break-glass", RECONCILER_ACTOR),
        ("expiry", EXPIRY_ACTOR), ("resume", "dave")]
    suspend, extend, asked, applied, expiry, resume = entries
    assert suspend.reason.startswith("incident 21 (until ") and extend.reason.startswith("still on it (until ")
    assert asked.reason == "hotfix 21 must ship"
    assert "carol" in applied.reason and "main@sha1:" in applied.reason
    assert "still suspended" in expiry.reason and "bob" in expiry.reason
    assert resume.reason == "was suspended by bob: still on it"
    assert all(e.project == project for e in entries)
    assert all(world.get(c, "configmaps", "cfg")["data"]["value"] == "v2" for c in CLUSTERS), "the glass applied v2"
