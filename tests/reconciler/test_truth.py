"""Issue 19 items 1-3 and the cluster order of item 6, the way an operator meets them: the CLI against the sandbox.

A freeze is not a failure; every surface tells the same intent and hold per cluster; pins and break glass tell the
truth; clusters come in the project's placement order (dev, staging, prod: not the alphabet's dev, prod, staging).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from gitops_tui import journal
from gitops_tui.api import holds, names
from gitops_tui.api.pin import pin_of
from tests.gitserver import commit, git
from tests.waiting import wait_until
from tests.world import CLUSTERS, World, configmap


@pytest.fixture
def running(world: World) -> Iterator[Any]:
    """A reconciler in this process (no shard election), as `gitops-tui run` would act."""
    from gitops_tui.reconciler.manager import Reconciler
    from gitops_tui.reconciler.options import ReconcilerOptions

    reconciler = Reconciler(world.api, ReconcilerOptions(data_dir=world.tmp / "manager", elect=False, install=False,
                                                         workers=2))
    reconciler.start()
    try:
        assert reconciler.wait_synced(10)
        yield reconciler
    finally:
        reconciler.stop()


def _values(world: World) -> list[str | None]:
    return [(world.get(c, "configmaps", "cfg") or {}).get("data", {}).get("value") for c in CLUSTERS]


def _sources(sandbox: Any, world: World) -> dict[str, Any]:
    listed = json.loads(sandbox.cli("get", "sources", "-p", world.project, "-o", "json").stdout)
    return {item["name"]: item for item in listed["items"]}


def _start(world: World, name: str) -> Any:
    repo = world.repo(name, {"cm.yaml": configmap("cfg", "v1")})
    world.create(name, f"file://{repo}", interval="1h")
    world.reconcile(name)
    assert _values(world) == ["v1"] * 3
    return repo


def test_a_freeze_on_prod_is_not_a_failure_and_reconcile_wait_names_it(world: World, sandbox: Any,
                                                                       running: Any) -> None:
    repo = world.repo("web", {"cm.yaml": configmap("cfg", "v1")})
    world.create("web", f"file://{repo}", interval="1h")
    wait_until(lambda: _values(world) == ["v1"] * 3, timeout=60, message="v1 applied everywhere")
    sandbox.cli("suspend", "source", "web", "-p", world.project, "--reason", "INC-1 prod", "--clusters", "prod")
    second = commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    done = sandbox.cli("reconcile", "source", "web", "-p", world.project, "--wait", "--timeout", "90", check=False)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert f"applied main@{second[:7]} on dev, staging" in done.stdout, done.stdout
    assert "held: prod (frozen on prod by " in done.stdout and "INC-1 prod" in done.stdout
    assert _values(world) == ["v2", "v2", "v1"]

    ready, propagation = world.condition("web", names.READY), world.condition("web", names.PROPAGATION)
    assert ready["status"] == "True" and "held: prod" in ready["message"], ready
    assert (propagation["status"], propagation["reason"]) == ("True", "Frozen"), propagation
    item = _sources(sandbox, world)["web"]
    assert [c["name"] for c in item["clusters"]] == CLUSTERS, "the project's placement order"
    prod = item["clusters"][2]
    assert (prod["intent"], prod["outcome"], prod["reason"]) == ("frozen", "held", "Frozen")
    assert prod["hold"]["reason"] == "INC-1 prod" and prod["hold"]["verified"] is True
    assert prod["lastAppliedRevision"] != f"main@sha1:{second}" and prod["target"] == "", "prod keeps v1"
    assert [c["outcome"] for c in item["clusters"][:2]] == ["applied", "applied"] and item["outcome"] == "applied"
    table = sandbox.cli("get", "sources", "-p", world.project).stdout
    assert "dev,staging,prod(frozen)" in table and "INC-1 prod" in table


def test_a_project_freeze_shows_on_its_sources_and_resume_source_refuses(world: World, sandbox: Any) -> None:
    _start(world, "api")
    sandbox.cli("suspend", "project", world.project, "--reason", "change freeze", "--clusters", "prod")
    item = _sources(sandbox, world)["api"]
    assert item["freeze"]["scope"] == "project" and item["freeze"]["reason"] == "change freeze"
    assert item["held"] == ["prod"] and item["suspended"] is False, "held on prod only"
    refused = sandbox.cli("resume", "source", "api", "-p", world.project, check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"held by the freeze of project {world.project} on prod" in refused.stderr
    assert f"gitops-tui resume project {world.project} --clusters prod" in refused.stderr

    sandbox.cli("suspend", "project", world.project, "--reason", "everything", "--clusters", "dev,staging")
    item = _sources(sandbox, world)["api"]
    assert item["suspended"] is True and item["suspendReason"] == "everything" and item["held"] == CLUSTERS
    table = sandbox.cli("get", "sources", "-p", world.project).stdout
    assert "project freeze on dev,staging,prod by " in table, table


def test_diff_on_a_pinned_cluster_compares_with_the_pin(world: World, sandbox: Any) -> None:
    repo = _start(world, "pinned")
    first = world.head(repo)
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.reconcile("pinned")
    sandbox.cli("pin", "source", "pinned", "-p", world.project, "--revision", first, "--reason", "v2 breaks prod",
                "--clusters", "prod")
    world.reconcile("pinned")
    assert _values(world) == ["v2", "v2", "v1"]
    clean = sandbox.cli("diff", "source", "pinned", "-p", world.project, check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert f"prod: compared with its pin main@sha1:{first}" in clean.stdout and "prod: no drift" in clean.stdout
    world.kubectl_edit("prod", "configmap/cfg", "s/value: v1/value: hand/")
    drifted = sandbox.cli("diff", "source", "pinned", "-p", world.project, "-o", "json", check=False)
    assert drifted.returncode == 1
    body = json.loads(drifted.stdout)
    prod = next(c for c in body["clusters"] if c["cluster"] == "prod")
    assert prod["pinned"] is True and prod["revision"] == f"main@sha1:{first}" and prod["objects"]
    assert [c["cluster"] for c in body["clusters"]] == CLUSTERS


def test_attack_i_pins_refuse_other_branches_and_commits_that_do_not_exist(world: World, sandbox: Any) -> None:
    repo = _start(world, "branchy")
    git(repo, "checkout", "-q", "-b", "other")
    elsewhere = commit(repo, {"cm.yaml": configmap("cfg", "other-branch")})
    git(repo, "checkout", "-q", "main")
    for revision in (elsewhere, "0" * 40):
        refused = sandbox.cli("pin", "source", "branchy", "-p", world.project, "--revision", revision,
                              "--reason", "x", check=False)
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        assert f"revision {revision[:12]} is not in the history of branch main" in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, "one sentence"
    assert pin_of(world.source("branchy")) is None
    project = world.ctx.get(names.KIND_PROJECT, None, world.project)
    assert holds.operator_record(project, "branchy").pin is None, "nothing recorded"

    # The same pin written straight on the source (a member's kubectl) is refused by the reconciler: nothing applied.
    world.patch_spec(names.KIND_FEDERATED_KUSTOMIZATION, "branchy",
                     {"pin": {"revision": f"main@sha1:{elsewhere}", "by": "mallory", "reason": "x"}})
    writes = world.writes.count()
    world.reconcile("branchy")
    assert _values(world) == ["v1"] * 3 and world.writes.count() == writes
    rows = {c["name"]: c for c in world.status("branchy")["clusters"]}
    assert rows["prod"]["status"] == "PinRefused" and "is not in the history of branch main" in rows["prod"]["message"]


def test_break_glass_on_a_pinned_source_applies_exactly_the_revision_it_names(world: World, sandbox: Any) -> None:
    repo = _start(world, "hot")
    first = world.head(repo)
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.reconcile("hot")
    sandbox.cli("pin", "source", "hot", "-p", world.project, "--revision", first, "--reason", "v2 breaks prod",
                "--clusters", "prod")
    world.reconcile("hot")
    sandbox.cli("suspend", "source", "hot", "-p", world.project, "--reason", "INC-3")
    third = commit(repo, {"cm.yaml": configmap("cfg", "v3")})
    asked = sandbox.cli("reconcile", "source", "hot", "-p", world.project, "--once-while-suspended",
                        "--reason", "hotfix v3 everywhere", check=False)
    revision = f"main@sha1:{third}"
    assert f"applies {revision} once on dev, staging, prod" in asked.stdout, asked.stdout + asked.stderr
    world.reconcile("hot")
    assert _values(world) == ["v3", "v3", "v3"], "the revision it named, on the pinned cluster too"
    applied = [e for e in world.events("hot") if e["reason"] == "BreakGlassApplied"]
    assert len(applied) == 1 and f"applied {revision} once on dev, staging, prod" in applied[0]["message"]
    entries = [e for e in journal.list_entries(world.api, project=world.project) if e.action == "break-glass"]
    assert [e.objects for e in entries] == [[f"revision {revision}"]] * 2
    assert [e.clusters for e in entries] == [CLUSTERS, CLUSTERS]
    commit(repo, {"cm.yaml": configmap("cfg", "v4")})
    world.reconcile("hot")
    assert _values(world) == ["v3", "v3", "v3"], "once: it stays frozen"


def test_clusters_come_in_the_projects_placement_order_everywhere(world: World, sandbox: Any) -> None:
    repo = _start(world, "order")
    status = [c["name"] for c in world.status("order")["clusters"]]
    assert status == CLUSTERS, "the status itself"
    sandbox.cli("suspend", "source", "order", "-p", world.project, "--reason", "r", "--clusters", "prod,staging")
    frozen = holds.operator_record(world.ctx.get(names.KIND_PROJECT, None, world.project), "order").freeze
    assert frozen is not None and frozen.clusters == ("staging", "prod")
    sandbox.cli("resume", "source", "order", "-p", world.project, check=False)
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.reconcile("order")
    sandbox.cli("pin", "source", "order", "-p", world.project, "--revision", world.head(repo), "--reason", "r",
                "--clusters", "prod,dev")
    entries = journal.list_entries(world.api, project=world.project)
    assert next(e for e in entries if e.action == "pin").clusters == ["dev", "prod"]
    assert next(e for e in entries if e.action == "suspend").clusters == ["staging", "prod"]
    history = sandbox.cli("history", "source", "order", "-p", world.project).stdout.splitlines()[1:]
    assert list(dict.fromkeys(line.split()[0] for line in history)) == CLUSTERS
    tree = sandbox.cli("tree", "source", "order", "-p", world.project).stdout
    assert [line.split()[2] for line in tree.splitlines() if "Cluster " in line] == CLUSTERS
    assert "dev(pinned),staging,prod(pinned)" in sandbox.cli("get", "sources", "-p", world.project).stdout
