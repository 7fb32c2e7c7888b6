"""The freeze verbs on the command line: suspend with --for/--until/--then/--clusters, resume --clusters, break glass."""

from __future__ import annotations

import json
from typing import Any

from gitops_tui.api import freeze as fz
from gitops_tui.api import names
from tests.gitserver import commit
from tests.world import CLUSTERS, World, configmap


def _source(world: World, name: str) -> None:
    repo = world.repo(name, {"cm.yaml": configmap("cfg", "v1")})
    world.create(name, f"file://{repo}")
    world.reconcile(name)
    return repo  # type: ignore[return-value]


def test_suspend_a_source_on_prod_for_2h_then_resume_it_there(world: World, sandbox: Any) -> None:
    _source(world, "web")
    proc = sandbox.cli("suspend", "source", "web", "-p", world.project, "--reason", "INC-1 prod only",
                       "--for", "2h", "--then", "resume", "--clusters", "prod")
    assert proc.stdout.startswith("source web suspended on prod by ") and "then resume: INC-1 prod only" in proc.stdout
    frozen = fz.source_freeze(world.source("web").kustomization)
    assert frozen is not None and frozen.clusters == ("prod",) and frozen.then == "resume" and frozen.until
    listed = json.loads(sandbox.cli("get", "sources", "-p", world.project, "-o", "json").stdout)
    row = next(i for i in listed["items"] if i["name"] == "web")
    assert row["freeze"]["clusters"] == ["prod"] and row["freeze"]["expired"] is False
    table = sandbox.cli("get", "sources", "-p", world.project).stdout
    assert "on prod by " in table and "INC-1 prod only" in table

    again = sandbox.cli("suspend", "source", "web", "-p", world.project, "--reason", "longer", "--for", "4h")
    assert "freeze extended on prod" in again.stdout, "suspending again extends the freeze, keeping its history"
    assert len(fz.source_freeze(world.source("web").kustomization).history) == 2

    back = sandbox.cli("resume", "source", "web", "-p", world.project, "--clusters", "prod", check=False)
    assert back.returncode in (0, 1) and "source web resumed" in back.stdout, back.stderr
    assert fz.source_freeze(world.source("web").kustomization) is None


def test_suspend_a_project_on_prod_shows_in_get_projects_and_resumes_per_cluster(world: World, sandbox: Any) -> None:
    _source(world, "api")
    proc = sandbox.cli("suspend", "project", world.project, "--reason", "prod freeze", "--clusters", "prod")
    assert f"project {world.project} frozen on prod by " in proc.stdout and "1 source(s) held: api" in proc.stdout
    table = sandbox.cli("get", "projects", "-p", world.project).stdout
    assert "FROZEN" in table.splitlines()[0] and "on prod by " in table and "prod freeze" in table
    listed = json.loads(sandbox.cli("get", "projects", "-p", world.project, "-o", "json").stdout)
    assert listed["items"][0]["freeze"]["clusters"] == ["prod"]
    back = sandbox.cli("resume", "project", world.project, "--clusters", "prod", check=False)
    assert f"project {world.project} resumed" in back.stdout, back.stderr
    project = world.ctx.get(names.KIND_PROJECT, None, world.project)
    assert fz.project_freeze(project) is None


def test_break_glass_on_the_command_line(world: World, sandbox: Any) -> None:
    repo = _source(world, "hot")
    refused = sandbox.cli("reconcile", "source", "hot", "-p", world.project, "--once-while-suspended", check=False)
    assert refused.returncode == 1 and "needs --reason" in refused.stderr and "Traceback" not in refused.stderr
    open_ = sandbox.cli("reconcile", "source", "hot", "-p", world.project, "--once-while-suspended",
                        "--reason", "why", check=False)
    assert open_.returncode == 1 and "not suspended" in open_.stderr
    stray = sandbox.cli("reconcile", "source", "hot", "-p", world.project, "--reason", "why", check=False)
    assert stray.returncode == 1 and "--once-while-suspended" in stray.stderr
    sandbox.cli("suspend", "source", "hot", "-p", world.project, "--reason", "INC-2")
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    done = sandbox.cli("reconcile", "source", "hot", "-p", world.project, "--once-while-suspended",
                       "--reason", "ship the fix", check=False)
    assert "break glass on source hot requested" in done.stdout, done.stderr
    world.reconcile("hot")
    assert all(world.get(c, "configmaps", "cfg")["data"]["value"] == "v2" for c in CLUSTERS)
    assert world.source("hot").suspend


def test_bad_freeze_options_are_one_sentence(world: World, sandbox: Any) -> None:
    _source(world, "bad")
    soon = sandbox.cli("suspend", "source", "bad", "-p", world.project, "--reason", "r", "--for", "soon", check=False)
    assert soon.returncode == 1 and "not a positive duration" in soon.stderr and "Traceback" not in soon.stderr
    both = sandbox.cli("suspend", "source", "bad", "-p", world.project, "--reason", "r", "--for", "1h",
                       "--until", "2099-01-01T00:00:00Z", check=False)
    assert both.returncode == 2 and "not allowed with" in both.stderr
    mars = sandbox.cli("suspend", "project", world.project, "--reason", "r", "--clusters", "mars", check=False)
    assert mars.returncode == 1 and "not placed on mars" in mars.stderr
    assert fz.source_freeze(world.source("bad").kustomization) is None
