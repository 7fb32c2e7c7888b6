"""Every failure is a condition: an empty tree, a crash in rendering, a vanished path; and the Event after a restart."""

from __future__ import annotations

from typing import Any

from gitops_tui.api import names
from tests.gitserver import commit, git
from tests.world import CLUSTERS, World, assert_propagated, configmap, kill_mid_apply


def assert_failed_on(world: World, name: str, revision: str, reason: str, *words: str) -> dict[str, Any]:
    """Ready False with ``reason``, a message holding ``words``, ``revision`` attempted, and a Warning Event."""
    ready = world.condition(name, names.READY)
    assert ready["status"] == "False" and ready["reason"] == reason, ready
    assert all(word in ready["message"] for word in words), ready["message"]
    status = world.status(name)
    assert status["lastAttemptedRevision"] == revision
    assert all(row["lastAttemptedRevision"] == revision for row in status["clusters"])
    warnings = [e for e in world.events(name) if e["type"] == "Warning" and e["reason"] == reason]
    assert warnings and all(word in warnings[-1]["message"] for word in words)
    return ready


def test_a_commit_that_removes_every_file_is_a_condition_and_keeps_the_objects(world: World) -> None:
    repo = world.repo("empty", {"apps/a.yaml": configmap("a"), "apps/b.yaml": configmap("b")})
    world.create("empty", f"file://{repo}", path="./apps")
    world.reconcile("empty")
    good = f"main@sha1:{world.head(repo)}"
    assert_propagated(world, "empty", good)

    git(repo, "rm", "-q", "-r", ".")
    commit(repo, {}, "remove everything")
    bad = f"main@sha1:{world.head(repo)}"
    world.reconcile("empty")
    assert_failed_on(world, "empty", bad, "ArtifactFailed", bad, "has no files")
    assert world.condition("empty", names.PROPAGATION)["status"] == "False"
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "a") is not None and world.get(cluster, "configmaps", "b") is not None
    assert all(row["lastAppliedRevision"] == good for row in world.status("empty")["clusters"])


def test_a_vanished_path_names_the_path_and_revision_and_keeps_the_objects(world: World) -> None:
    repo = world.repo("vanish", {"apps/a.yaml": configmap("a"), "README.md": "docs"})
    world.create("vanish", f"file://{repo}", path="./apps")
    world.reconcile("vanish")
    commit(repo, {"apps/a.yaml": None})
    bad = f"main@sha1:{world.head(repo)}"
    world.reconcile("vanish")
    assert_failed_on(world, "vanish", bad, "ArtifactFailed", f"path './apps' not found in revision {bad}")
    assert all(world.get(c, "configmaps", "a") is not None for c in CLUSTERS)

    commit(repo, {"apps/a.yaml": configmap("a", "back")})
    world.reconcile("vanish")
    assert_propagated(world, "vanish", f"main@sha1:{world.head(repo)}")


def test_a_crash_while_rendering_ends_as_a_condition_not_a_log_line(world: World) -> None:
    repo = world.repo("crash", {"a.yaml": configmap("a")})
    world.create("crash", f"file://{repo}")
    world.reconcile("crash")
    # Labels given as a list: no validation step foresees it; labelling the object raises a ValueError.
    commit(repo, {"b.yaml": configmap("b").replace("metadata:\n", "metadata:\n  labels: [oops]\n")})
    bad = f"main@sha1:{world.head(repo)}"
    result = world.reconcile("crash")
    assert result.requeue_after is not None and result.requeue_after <= 60
    assert_failed_on(world, "crash", bad, "ReconciliationFailed", bad, "ValueError")
    assert all(world.get(c, "configmaps", "b") is None for c in CLUSTERS)


def test_the_event_after_a_restart_counts_new_objects(world: World, sandbox: Any) -> None:
    """A run killed mid-apply recorded the union inventory; the next run still says how many objects it created."""
    repo = world.repo("restart", {"a.yaml": configmap("a")})
    world.create("restart", f"file://{repo}", clusters=["dev"])
    world.reconcile("restart")
    commit(repo, {f"b/{i:03d}.yaml": configmap(f"b-{i:03d}") for i in range(250)})
    kill_mid_apply(world, sandbox, "restart")
    before = len(world.labelled("dev", "configmaps", "restart"))
    world.reconcile("restart")
    assert_propagated(world, "restart", f"main@sha1:{world.head(repo)}", ["dev"])
    applied = [e["message"] for e in world.events("restart") if e["reason"] == "Applied"]
    assert applied[-1].endswith(f"to dev: 251 objects ({251 - before} new)"), applied[-1]
