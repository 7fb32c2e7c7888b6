"""Flux children are bounded and named like Flux's (issue 18, attack D), reproduced as the attacker would.

Before the fix, two Flux Kustomizations whose ``path`` includes their own folder multiplied without bound (a
child was named ``<parent>-<name>``, so each level made new names): 1,045 sources within minutes, and deleting
the parent did not stop it. Now a child keeps its own name, a Kustomization that includes itself is refused as
a cycle naming its path, a project holds at most ``spec.limits.maxFluxChildren`` children, and a child whose
parent is being deleted writes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from gitops_tui.actions.sources import delete_source
from gitops_tui.api import names
from gitops_tui.cli import main
from gitops_tui.kube.client import json_request
from gitops_tui.views.details import describe_object
from tests.gitserver import commit
from tests.waiting import wait_until
from tests.world import World, configmap


def kustomization(name: str, path: str) -> str:
    """A Flux Kustomization of the repository itself (sourceRef flux-system)."""
    return yaml.safe_dump({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                           "metadata": {"name": name, "namespace": "flux-system"},
                           "spec": {"interval": "5m", "path": path, "prune": True,
                                    "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}})


def sources(world: World) -> list[str]:
    """Names of every source (FederatedKustomization) of the project namespace."""
    listed = json_request(world.api, "GET", f"/apis/{names.TYPES_GROUP}/{names.TYPES_VERSION}/namespaces/"
                                            f"{world.namespace}/federatedkustomizations")
    return sorted(i["metadata"]["name"] for i in listed.get("items") or [])


def reconcile_everything(world: World, rounds: int) -> list[int]:
    """Reconcile every source of the namespace ``rounds`` times (as a reconciler would); the count after each."""
    counts = []
    for _ in range(rounds):
        for name in sources(world):
            world.reconcile(name)
        counts.append(len(sources(world)))
    return counts


def ready(world: World, name: str) -> dict[str, Any]:
    """The Ready condition of a source."""
    return world.condition(name, names.READY)


def test_kustomizations_that_include_their_own_folder_do_not_multiply(world: World) -> None:
    repo = world.repo("flux", {"clusters/a.yaml": kustomization("a", "./clusters"),
                               "clusters/b.yaml": kustomization("b", "./clusters"),
                               "clusters/cm.yaml": configmap("shared")})
    world.create("root", f"file://{repo}", path="./clusters")
    counts = reconcile_everything(world, rounds=4)
    assert counts == [3, 3, 3, 3], counts
    assert sources(world) == ["a", "b", "root"], "children keep their Flux names"
    for child in ("a", "b"):
        cond = ready(world, child)
        assert cond["status"] == "False" and cond["reason"] == "ValidationFailed", cond
        assert f"cycle: {child} -> {child}; a Kustomization may not include itself" in cond["message"], cond
        assert "\n" not in cond["message"]

    delete_source(world.api, world.project, "root")
    assert reconcile_everything(world, rounds=3)[-1] == 0, sources(world)


def test_a_cycle_through_others_names_its_path(world: World) -> None:
    repo = world.repo("flux", {"clusters/apps.yaml": kustomization("apps", "./apps"),
                               "apps/infra.yaml": kustomization("infra", "./infra"),
                               "apps/cm.yaml": configmap("apps-config"),
                               "infra/apps.yaml": kustomization("apps", "./apps"),
                               "infra/cm.yaml": configmap("infra-config")})
    world.create("root", f"file://{repo}", path="./clusters")
    reconcile_everything(world, rounds=3)
    assert sources(world) == ["apps", "infra", "root"]
    cond = ready(world, "infra")
    assert cond["reason"] == "ValidationFailed" and cond["message"] == (
        "Kustomization/apps in infra/apps.yaml: cycle: apps -> infra -> apps; a Kustomization may not include itself, "
        "directly or through others"), cond
    assert world.get("dev", "configmaps", "infra-config") is None, "a refused revision applies nothing"
    assert world.get("dev", "configmaps", "apps-config") is not None, "the rest of the layout runs"


def test_the_projects_cap_refuses_the_rest_with_one_condition(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    json_request(world.api, "PATCH", f"/apis/{names.PROJECT_GROUP}/{names.PROJECT_VERSION}/projects/{world.project}",
                 {"spec": {"limits": {"maxFluxChildren": 3}}}, content_type="application/merge-patch+json")
    files = {f"clusters/k{i}.yaml": kustomization(f"k{i}", "./app") for i in range(5)}
    repo = world.repo("flux", {**files, "app/cm.yaml": configmap("app"), "clusters/cm.yaml": configmap("root-cm")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    cond = ready(world, "root")
    assert cond["status"] == "False" and cond["reason"] == "LimitExceeded", cond
    assert cond["message"] == (
        "this revision declares 5 Flux Kustomization(s) and the project's other sources have 0 child source(s): "
        f"project {world.project} holds at most 3 (Project spec.limits.maxFluxChildren); no child of this "
        "revision is created or changed"), cond
    assert sources(world) == ["root"]
    assert world.get("dev", "configmaps", "root-cm") is None, "a refused revision applies nothing"

    assert main(["get", "projects", "-p", world.project, "-o", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    item = shown["items"][0] if "items" in shown else shown
    assert item["limits"] == {"maxFluxChildren": 3}
    project = json_request(world.api, "GET", f"/apis/{names.PROJECT_GROUP}/{names.PROJECT_VERSION}/projects/"
                                             f"{world.project}")
    assert "Limits:     3 Flux child sources" in describe_object(project)

    commit(repo, {"clusters/k3.yaml": None, "clusters/k4.yaml": None})
    world.reconcile("root")
    assert ready(world, "root")["status"] == "True"
    assert sources(world) == ["k0", "k1", "k2", "root"]


def test_deleting_the_parent_stops_its_children_at_once(world: World) -> None:
    repo = world.repo("flux", {"clusters/apps.yaml": kustomization("apps", "./apps"),
                               "apps/infra.yaml": kustomization("infra", "./infra"),
                               "apps/cm.yaml": configmap("apps-config"), "infra/cm.yaml": configmap("infra-config")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    world.reconcile("apps")
    assert sources(world) == ["apps", "infra", "root"]
    commit(repo, {"apps/more.yaml": kustomization("more", "./infra"), "apps/cm.yaml": configmap("apps-config", "v2")})

    delete_source(world.api, world.project, "root")  # its finalizer holds it: deletionTimestamp set
    writes = world.writes.count()
    world.reconcile("apps")
    assert world.writes.count() == writes, "a child of a parent being deleted writes nothing"
    assert "more" not in sources(world), "nor makes children"
    assert world.get("dev", "configmaps", "apps-config")["data"] == {"value": "v1"}

    world.reconcile("root")

    def gone() -> bool:
        reconcile_everything(world, rounds=1)
        return sources(world) == []

    wait_until(gone, timeout=60, message="the parent and every child deleted")
    for name in ("apps-config", "infra-config"):
        assert world.get("dev", "configmaps", name) is None, name
