"""Pin a known-good revision: held on the pinned clusters while git moves on, the others follow; unpin."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui.actions import pin as pins
from gitops_tui.actions.sources import SourceActionError
from gitops_tui.api import names
from gitops_tui.api.pin import HISTORY_LIMIT, history_of, pin_of
from tests.gitserver import commit, git
from tests.world import CLUSTERS, World, assert_propagated, configmap


def _applied(world: World, name: str) -> dict[str, str]:
    return {c["name"]: c["lastAppliedRevision"] for c in world.status(name)["clusters"]}


def _value(world: World, cluster: str) -> str:
    return world.get(cluster, "configmaps", "cfg")["data"]["value"]


def test_pin_on_prod_holds_while_git_moves_two_commits_then_unpin(world: World) -> None:
    repo = world.repo("pin", {"cm.yaml": configmap("cfg", "good")})
    world.create("pin", f"file://{repo}")
    world.reconcile("pin")
    good = f"main@sha1:{world.head(repo)}"
    bad = f"main@sha1:{commit(repo, {'cm.yaml': configmap('cfg', 'bad')})}"
    world.reconcile("pin")
    assert_propagated(world, "pin", bad)
    history = history_of(world.source("pin"))
    assert [h.revision for h in history.clusters["prod"]] == [bad, good]
    assert history.clusters["prod"][0].by == "reconciler (git)" and history.clusters["prod"][0].at

    preview = pins.preview_pin(world.api, world.project, "pin",
                               pins.plan_pin(world.api, world.project, "pin", good[-40:][:8], "bad config", ["prod"]),
                               data_dir=world.tmp / "preview")
    assert [c.cluster for c in preview.clusters] == ["prod"], "the preview covers the pinned clusters only"
    assert [d.ref.name for d in preview.clusters[0].objects] == ["cfg"]
    assert _value(world, "prod") == "bad", "a preview writes nothing"

    pin = pins.pin_source(world.api, world.project, "pin", good[-40:][:8], "bad config in 2", ["prod"],
                          actor="alice@10.0.0.7")
    assert pin.revision == good, "a prefix from the history names the full revision"
    recorded = pin_of(world.source("pin"))
    assert recorded is not None and recorded.by == "alice@10.0.0.7" and recorded.reason == "bad config in 2"
    world.reconcile("pin")
    assert _value(world, "prod") == "good", "applied at once"
    assert _value(world, "dev") == "bad"

    third = f"main@sha1:{commit(repo, {'cm.yaml': configmap('cfg', 'third')})}"
    fourth = f"main@sha1:{commit(repo, {'cm.yaml': configmap('cfg', 'fourth')})}"
    world.reconcile("pin")
    assert _applied(world, "pin") == {"dev": fourth, "prod": good, "staging": fourth}
    assert third != fourth and _value(world, "prod") == "good" and _value(world, "staging") == "fourth"
    assert world.condition("pin", names.READY).get("status") == "True", "a pinned cluster at its pin is fine"
    assert world.source("pin").artifact_revision == fourth, "the artifact stays git's revision"
    artifacts = [e for e in world.events("pin") if e["reason"] == "NewArtifact"]
    world.reconcile("pin")
    assert [e for e in world.events("pin") if e["reason"] == "NewArtifact"] == artifacts, "no new artifact each pass"
    prod = {c["name"]: c for c in world.status("pin")["clusters"]}["prod"]
    assert prod["pinnedRevision"] == good and prod["history"][0] == {**prod["history"][0], "revision": good,
                                                                     "by": "pin by alice@10.0.0.7"}
    world.kubectl_edit("prod", "configmap/cfg", "s/value: good/value: edited/")
    world.reconcile("pin")
    assert _value(world, "prod") == "good", "drift on a pinned cluster is corrected to the pin"
    assert any(e["reason"] == "Pinned" and "alice@10.0.0.7" in e["message"] for e in world.events("pin"))

    pins.unpin_source(world.api, world.project, "pin", actor="bob")
    assert pin_of(world.source("pin")) is None
    world.reconcile("pin")
    assert_propagated(world, "pin", fourth)
    assert all(_value(world, c) == "fourth" for c in CLUSTERS)
    assert "pinnedRevision" not in {c["name"]: c for c in world.status("pin")["clusters"]}["prod"]


def test_pin_until_contains_releases_itself_when_git_reaches_the_fix(world: World) -> None:
    repo = world.repo("fix", {"cm.yaml": configmap("cfg", "good")})
    world.create("fix", f"file://{repo}")
    world.reconcile("fix")
    good = world.head(repo)
    commit(repo, {"cm.yaml": configmap("cfg", "bad")})
    world.reconcile("fix")
    git(repo, "checkout", "-q", "-b", "hotfix")
    fix = commit(repo, {"cm.yaml": configmap("cfg", "fixed")})
    git(repo, "checkout", "-q", "main")
    pins.pin_source(world.api, world.project, "fix", good, "bad config", until_contains=fix, actor="carol")
    world.reconcile("fix")
    assert all(_value(world, c) == "good" for c in CLUSTERS), "every cluster pinned when none is named"
    commit(repo, {"other.yaml": configmap("other")})
    world.reconcile("fix")
    assert pin_of(world.source("fix")) is not None, "git does not contain the fix yet"
    assert all(_value(world, c) == "good" for c in CLUSTERS)
    git(repo, "merge", "-q", "--no-edit", "hotfix")
    world.reconcile("fix")
    assert pin_of(world.source("fix")) is None
    assert all(_value(world, c) == "fixed" for c in CLUSTERS)
    assert any(e["reason"] == "PinReleased" for e in world.events("fix"))


def test_bad_pins_are_refused_with_one_sentence(world: World) -> None:
    repo = world.repo("badpin", {"cm.yaml": configmap("cfg")})
    world.create("badpin", f"file://{repo}")
    world.reconcile("badpin")
    head = world.head(repo)
    cases = [
        (dict(revision="not-a-sha", reason="x"), "is not a commit"),
        (dict(revision="abcdef12", reason="x"), "was never applied"),
        (dict(revision=head, reason="  "), "a reason is required"),
        (dict(revision=head, reason="x", clusters=["qa"]), "'qa' is not one of the clusters"),
        (dict(revision=head, reason="x", until_contains="zz; rm -rf /"), "is not a commit SHA"),
    ]
    for kwargs, message in cases:
        with pytest.raises(SourceActionError, match=message):
            pins.pin_source(world.api, world.project, "badpin", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(SourceActionError, match="is not pinned"):
        pins.unpin_source(world.api, world.project, "badpin")
    assert pin_of(world.source("badpin")) is None


def test_history_is_bounded_per_cluster(world: World) -> None:
    repo = world.repo("hist", {"cm.yaml": configmap("cfg", "0")})
    world.create("hist", f"file://{repo}", clusters=["dev"])
    world.reconcile("hist")
    for index in range(HISTORY_LIMIT + 2):
        commit(repo, {"cm.yaml": configmap("cfg", str(index + 1))})
        world.reconcile("hist")
    rows = history_of(world.source("hist")).clusters["dev"]
    assert len(rows) == HISTORY_LIMIT
    assert rows[0].revision == f"main@sha1:{world.head(repo)}"


def test_pin_cli_dry_run_then_pin_and_unpin(world: World, sandbox: Any) -> None:
    repo = world.repo("clipin", {"cm.yaml": configmap("cfg", "good")})
    world.create("clipin", f"file://{repo}")
    world.reconcile("clipin")
    good = world.head(repo)
    commit(repo, {"cm.yaml": configmap("cfg", "bad")})
    world.reconcile("clipin")
    args = ("pin", "source", "clipin", "-p", world.project, "--revision", good[:10], "--reason", "rollback",
            "--clusters", "prod")
    proc = sandbox.cli(*args, "--dry-run", check=False)
    assert proc.returncode == 1, proc.stderr
    assert "would pin: pinned at main@" in proc.stdout and "prod: ConfigMap" in proc.stdout
    assert ".data.value: live bad -> git good" in proc.stdout
    assert pin_of(world.source("clipin")) is None, "--dry-run changes nothing"
    proc = sandbox.cli(*args)
    assert "pinned at main@" in proc.stdout and "on prod" in proc.stdout
    listed = sandbox.cli("get", "sources", "-p", world.project, "-o", "json").stdout
    assert "rollback" in listed
    proc = sandbox.cli("history", "source", "clipin", "-p", world.project)
    assert good in proc.stdout and "reconciler (git)" in proc.stdout
    sandbox.cli("unpin", "source", "clipin", "-p", world.project)
    assert pin_of(world.source("clipin")) is None
    proc = sandbox.cli("unpin", "source", "clipin", "-p", world.project, check=False)
    assert proc.returncode == 1 and "is not pinned" in proc.stderr and "Traceback" not in proc.stderr
