"""`rollout source` and `approve source` on the command line against the sandbox; `get sources`, `journal` and the
Events say the same; a running Reconciler moves the waves by itself (requeued at the soak's end, no trigger)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitops_tui.api.rollout import progress_of
from gitops_tui.cli import main
from gitops_tui.reconciler.manager import Reconciler
from gitops_tui.reconciler.options import ReconcilerOptions
from tests.clock import FakeClock
from tests.gitserver import commit
from tests.waiting import wait_until
from tests.world import CLUSTERS, World, configmap


def _values(world: World) -> list[Any]:
    return [(world.get(c, "configmaps", "cfg") or {}).get("data", {}).get("value") for c in CLUSTERS]


def _row(sandbox: Any, world: World, name: str) -> dict[str, Any]:
    listed = json.loads(sandbox.cli("get", "sources", "-p", world.project, "-o", "json").stdout)
    return next(i for i in listed["items"] if i["name"] == name)


def test_a_three_wave_rollout_with_soak_and_approval_from_the_command_line(world: World, sandbox: Any) -> None:
    clock = FakeClock()
    world.ctx.now = clock
    repo = world.repo("web", {"cm.yaml": configmap("cfg", "v1")})
    world.create("web", f"file://{repo}", interval="1h")
    world.reconcile("web")
    done = sandbox.cli("rollout", "source", "web", "-p", world.project, "--waves", "dev/staging/prod", "--soak", "10m",
                       "--approve", "prod", "--reason", "release 42 in waves")
    assert done.stdout.startswith("source web rolls out dev → staging → prod (soak 10m; approval before prod)")
    world.reconcile("web")
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.reconcile("web")
    assert _values(world) == ["v2", "v1", "v1"]

    row = _row(sandbox, world, "web")
    rollout = row["rollout"]
    assert rollout["revision"] == row["revision"] and rollout["currentWave"] == "dev"
    assert rollout["state"] == "soaking 10m left", rollout["state"]
    assert [(w["name"], w["state"]) for w in rollout["waves"]] == [
        ("dev", "soaking"), ("staging", "awaiting wave"), ("prod", "awaiting wave")]
    prod = next(c for c in row["clusters"] if c["name"] == "prod")
    assert prod["intent"] == "frozen" and prod["hold"]["scope"] == "rollout" and prod["outcome"] == "held"
    assert prod["wave"] == {"number": 3, "of": 3, "name": "prod", "state": "awaiting wave"}
    assert row["suspended"] is False and row["outcome"] != "failed"
    table = sandbox.cli("get", "sources", "-p", world.project).stdout
    assert "ROLLOUT" in table.splitlines()[0] and "at dev (1 of 3), soaking 10m left" in table
    assert "prod(awaiting wave)" in table
    shown = sandbox.cli("rollout", "source", "web", "-p", world.project).stdout
    assert "3. prod" in shown and "(waits for approval)" in shown

    clock.advance(minutes=10, seconds=1)
    world.reconcile("web")
    clock.advance(minutes=10, seconds=1)
    world.reconcile("web")
    assert _values(world) == ["v2", "v2", "v1"]
    assert _row(sandbox, world, "web")["rollout"]["state"] == "awaiting approval"
    approved = sandbox.cli("approve", "source", "web", "-p", world.project, "--wave", "prod", "--reason", "CAB-12")
    assert "wave prod of source web approved for main@" in approved.stdout and "it starts now" in approved.stdout
    world.reconcile("web")
    assert _values(world) == ["v2", "v2", "v2"]
    journal = json.loads(sandbox.cli("journal", "-p", world.project, "-o", "json").stdout)
    entries = journal["items"] if isinstance(journal, dict) else journal
    approval = next(e for e in entries if e["action"] == "approve" and e["source"] == "web")
    assert approval["reason"] == "CAB-12" and approval["clusters"] == ["prod"] and approval["identity"]["verified"]
    assert any(o.startswith("revision main@sha1:") for o in approval["objects"])
    events = json.loads(sandbox.cli("get", "events", "-p", world.project, "-o", "json").stdout)["items"]
    assert any(e["reason"] == "RolloutApproved" and "CAB-12" in e["message"] for e in events)

    off = sandbox.cli("rollout", "source", "web", "-p", world.project, "--off", "--reason", "all at once again")
    assert "turned off" in off.stdout
    world.reconcile("web")
    assert _row(sandbox, world, "web")["rollout"] is None and progress_of(world.source("web").kustomization) is None


def test_bad_rollout_requests_are_one_sentence(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Each mistake is one sentence on stderr and a non-zero exit, nothing recorded (the CLI run in-process)."""
    repo = world.repo("bad", {"cm.yaml": configmap("cfg", "v1")})
    world.create("bad", f"file://{repo}", interval="1h")
    world.reconcile("bad")

    def refused(*args: str, code: int = 1) -> str:
        capsys.readouterr()
        returned = main(list(args))
        err = capsys.readouterr().err
        assert returned == code and "Traceback" not in err, (returned, err)
        assert err.startswith("gitops-tui: ") and err.count("\n") == 1, err
        return err

    p = ("-p", world.project)
    assert "--reason is required" in refused("rollout", "source", "bad", *p, "--waves", "dev/staging/prod", code=2)
    assert "leaves out prod" in refused("rollout", "source", "bad", *p, "--waves", "dev/staging", "--reason", "r")
    assert "not placed on mars" in refused("rollout", "source", "bad", *p, "--waves", "dev/staging/prod/mars",
                                           "--reason", "r")
    assert "more than one wave" in refused("rollout", "source", "bad", *p, "--waves", "dev/dev,staging/prod",
                                           "--reason", "r")
    assert "names no wave" in refused("rollout", "source", "bad", *p, "--waves", "dev/staging/prod", "--approve",
                                      "qa", "--reason", "r")
    assert "invalid duration" in refused("rollout", "source", "bad", *p, "--waves", "dev/staging/prod", "--soak",
                                         "soon", "--reason", "r")
    assert "has no rollout" in refused("approve", "source", "bad", *p, "--wave", "prod", "--reason", "r")
    assert "has no rollout" in refused("rollout", "source", "bad", *p, "--off", "--reason", "r")
    assert world.source("bad").kustomization["spec"]["template"]["spec"].get("rollout") is None, "nothing recorded"
    assert main(["rollout", "source", "bad", *p, "--waves", "dev/staging,prod", "--approve", "prod", "--reason",
                 "r"]) == 0
    assert "needs no approval" in refused("approve", "source", "bad", *p, "--wave", "dev", "--reason", "r")
    assert "is not a wave" in refused("approve", "source", "bad", *p, "--wave", "qa", "--reason", "r")
    assert "--off turns the rollout off" in refused("rollout", "source", "bad", *p, "--off", "--waves", "dev",
                                                    "--reason", "r", code=2)


def test_a_running_reconciler_moves_the_waves_at_the_soaks_end(world: World, sandbox: Any) -> None:
    repo = world.repo("auto", {"cm.yaml": configmap("cfg", "v1")})
    world.create("auto", f"file://{repo}", interval="1h")
    world.reconcile("auto")
    sandbox.cli("rollout", "source", "auto", "-p", world.project, "--waves", "dev/staging/prod", "--soak", "2s",
                "--reason", "quick waves")
    world.reconcile("auto")
    reconciler = Reconciler(world.api, ReconcilerOptions(data_dir=world.tmp / "mgr", elect=False, install=False,
                                                         workers=2, health_interval=600.0))
    reconciler.start()
    try:
        commit(repo, {"cm.yaml": configmap("cfg", "v2")})
        sandbox.cli("reconcile", "source", "auto", "-p", world.project)
        seen: list[list[Any]] = []

        def moved() -> bool:
            values = _values(world)
            if not seen or seen[-1] != values:
                seen.append(values)
            return values == ["v2", "v2", "v2"]

        wait_until(moved, timeout=90, interval=0.1, message="the three waves applied v2, one after the other")
        wait_until(lambda: progress_of(world.source("auto").kustomization).done, timeout=60,
                   message="prod soaked: the rollout is done")
    finally:
        reconciler.stop()
    assert all(s in (["v1", "v1", "v1"], ["v2", "v1", "v1"], ["v2", "v2", "v1"], ["v2", "v2", "v2"]) for s in seen), \
        f"never a later wave before an earlier one: {seen}"
    assert ["v2", "v2", "v1"] in seen, "staging waited for dev's soak before prod"
