"""`window` and `override` on the command line against the sandbox, and what `get sources`, `diff` and `tree` show."""

from __future__ import annotations

import json
from typing import Any

from tests.world import World, configmap, deployment

ALWAYS = ("--schedule", "* * * * *", "--duration", "2h")  # opens every minute for two hours: open whenever asked


def _web(world: World, name: str) -> None:
    repo = world.repo(name, {"web.yaml": deployment("web"), "cm.yaml": configmap("cfg", "v1")})
    world.create(name, f"file://{repo}")
    world.reconcile(name)


def test_window_create_list_delete_and_every_surface_shows_the_hold(world: World, sandbox: Any) -> None:
    _web(world, "site")
    made = sandbox.cli("window", "create", "freeze", "-p", world.project, *ALWAYS, "--clusters", "prod",
                       "--timezone", "Europe/Berlin", "--reason", "quarter end")
    assert made.stdout.startswith(f"window freeze created on project {world.project}: * * * * * for 2h "
                                  "(Europe/Berlin) on prod; open until ")
    listed = json.loads(sandbox.cli("window", "list", "-p", world.project, "-o", "json").stdout)
    (row,) = listed["items"]
    assert (row["name"], row["clusters"], row["open"], row["reason"]) == ("freeze", ["prod"], True, "quarter end")
    table = sandbox.cli("window", "list", "-p", world.project).stdout
    assert table.splitlines()[0].split()[:3] == ["PROJECT", "WINDOW", "CLUSTERS"] and "open until" in table

    world.reconcile("site")
    sources = json.loads(sandbox.cli("get", "sources", "-p", world.project, "-o", "json").stdout)
    item = next(i for i in sources["items"] if i["name"] == "site")
    prod = next(c for c in item["clusters"] if c["name"] == "prod")
    assert prod["intent"] == "frozen" and prod["reason"] == "Frozen"
    assert {k: prod["hold"][k] for k in ("kind", "scope", "name", "reason")} == {
        "kind": "window", "scope": "window", "name": "freeze", "reason": "quarter end"}
    assert [w["name"] for w in item["windows"]] == ["freeze"] and item["held"] == ["prod"]
    table = sandbox.cli("get", "sources", "-p", world.project).stdout
    assert "prod(window freeze)" in table
    tree = sandbox.cli("tree", "source", "site", "-p", world.project).stdout
    assert "Cluster prod" in tree and "(window freeze)" in tree

    refused = sandbox.cli("window", "create", "bad", "-p", world.project, "--schedule", "0 25 * * *",
                          "--duration", "1h", "--reason", "x", check=False)
    assert refused.returncode == 1 and "is not a cron schedule" in refused.stderr and "Traceback" not in refused.stderr
    no_reason = sandbox.cli("window", "delete", "freeze", "-p", world.project, check=False)
    assert no_reason.returncode == 2
    gone = sandbox.cli("window", "delete", "freeze", "-p", world.project, "--reason", "quarter closed")
    assert "window freeze deleted" in gone.stdout
    journal = json.loads(sandbox.cli("journal", "-p", world.project, "-o", "json").stdout)
    actions = [(e["action"], e["reason"]) for e in journal["items"] if e["action"].startswith("window")]
    assert actions[-1] == ("window-delete", "quarter closed") and actions[0][0] == "window-create"


def test_override_on_the_command_line_diff_and_tree_show_it(world: World, sandbox: Any, tmp_path: Any) -> None:
    _web(world, "shop")
    patch = '[{"op": "replace", "path": "/spec/replicas", "value": 2}]'
    done = sandbox.cli("override", "source", "shop", "-p", world.project, "--cluster", "prod",
                       "--target", "Deployment/web", "--patch", patch, "--reason", "prod load")
    assert "override of Deployment/web on prod (/spec/replicas) by " in done.stdout
    world.reconcile("shop")
    assert world.get("prod", "deployments", "web")["spec"]["replicas"] == 2
    assert world.get("dev", "deployments", "web")["spec"]["replicas"] == 1

    listed = sandbox.cli("override", "source", "shop", "-p", world.project, "--list").stdout
    assert listed.splitlines()[0].split() == ["CLUSTER", "TARGET", "FIELDS", "BY", "REASON"]
    assert "prod" in listed and "/spec/replicas" in listed and "prod load" in listed
    diff = sandbox.cli("diff", "source", "shop", "-p", world.project, check=False)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert f"prod: overridden: Deployment {world.namespace}/web: /spec/replicas" in diff.stdout
    body = json.loads(sandbox.cli("diff", "source", "shop", "-p", world.project, "-o", "json").stdout)
    assert next(c for c in body["clusters"] if c["cluster"] == "prod")["overridden"] == {
        f"Deployment {world.namespace}/web": ["/spec/replicas"]}
    tree = sandbox.cli("tree", "source", "shop", "-p", world.project).stdout
    assert "overridden: /spec/replicas" in tree
    sources = json.loads(sandbox.cli("get", "sources", "-p", world.project, "-o", "json").stdout)
    prod = next(c for c in next(i for i in sources["items"] if i["name"] == "shop")["clusters"] if c["name"] == "prod")
    assert prod["overrides"][0]["target"] == "Deployment/web" and prod["overrides"][0]["verified"] is True

    bad = sandbox.cli("override", "source", "shop", "-p", world.project, "--cluster", "prod", "--target",
                      "Deployment/web", "--patch", "[{op: replace}]", "--reason", "x", check=False)
    assert bad.returncode == 1 and "--patch is not JSON" in bad.stderr
    values = tmp_path / "v.yaml"
    values.write_text("- not\n- a map\n")
    bad = sandbox.cli("override", "source", "shop", "-p", world.project, "--cluster", "prod", "--values",
                      str(values), "--reason", "x", check=False)
    assert bad.returncode == 1 and "must hold one YAML map" in bad.stderr
    removed = sandbox.cli("override", "source", "shop", "-p", world.project, "--cluster", "prod", "--remove",
                          "--reason", "load is down")
    assert "removed on prod: Deployment/web" in removed.stdout
    world.reconcile("shop")
    assert world.get("prod", "deployments", "web")["spec"]["replicas"] == 1
