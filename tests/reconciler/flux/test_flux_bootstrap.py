"""A repository laid out as `flux bootstrap` writes it: its flux-system GitRepository and Kustomization are the source.

Before issue 20 the bootstrap Kustomization (gotk-sync.yaml: the very repository and path being reconciled) was a
child of the source, refused as ``cycle: flux-system -> flux-system`` (and, before issue 18, nested five levels
deep). Now it is the source itself; gotk-components.yaml (Flux's own controllers) is left out unless the operator
runs with ``--flux-components apply``; a real cycle is still refused with its path. Real git, real `kubectl
kustomize` (the fixture's own flux-system/kustomization.yaml with its regular-expression patch target), the
sandbox's dev, staging and prod.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from gitops_tui.api import names
from gitops_tui.api.flux_role import flux_role
from gitops_tui.cli import main
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.flux.children import LABEL_PARENT
from tests.flux_example import BOOTSTRAP_URL, bootstrapped, example_files
from tests.world import CLUSTERS, World, configmap, get_or_none

FLUX_KS = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"


def kustomization(name: str, path: str, depends: str = "") -> str:
    """A Flux Kustomization of the bootstrap repository (the example's previous layout: sourceRef flux-system)."""
    return (f"{FLUX_KS}metadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 1h\n"
            f"  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  path: {path}\n  prune: true\n"
            + (f"  dependsOn:\n    - name: {depends}\n" if depends else ""))


def bootstrap_repository() -> dict[str, str]:
    """clusters/staging as `flux bootstrap --path=clusters/staging` leaves it, with two Kustomizations of its own."""
    example = example_files()
    files = {"clusters/staging/flux-system/kustomization.yaml": example["clusters/staging/flux-system/kustomization.yaml"],
             "clusters/staging/infrastructure.yaml": kustomization("infra", "./infrastructure"),
             "clusters/staging/apps.yaml": kustomization("apps", "./apps", depends="infra"),
             "infrastructure/settings.yaml": configmap("infra-settings"),
             "apps/app.yaml": configmap("app-settings")}
    return bootstrapped(files, "staging")


def sources(world: World) -> dict[str, dict[str, Any]]:
    """Every FederatedKustomization of the project namespace, by name."""
    listed = json_request(world.api, "GET", f"/apis/{names.TYPES_GROUP}/{names.TYPES_VERSION}/namespaces/"
                                            f"{world.namespace}/federatedkustomizations")
    return {i["metadata"]["name"]: i for i in listed.get("items") or []}


def repository(world: World, name: str) -> dict[str, Any]:
    """A FederatedGitRepository of the project namespace."""
    return json_request(world.api, "GET", f"/apis/{names.TYPES_GROUP}/{names.TYPES_VERSION}/namespaces/"
                                          f"{world.namespace}/federatedgitrepositories/{name}")


def live(world: World, cluster: str, path: str) -> dict[str, Any] | None:
    """A live object by its API path (None when absent)."""
    return get_or_none(world.client(cluster), path)


def test_a_bootstrapped_repository_makes_exactly_the_sources_its_kustomizations_declare(world: World) -> None:
    repo = world.repo("fleet", bootstrap_repository())
    world.create("staging", f"file://{repo}", path="./clusters/staging")
    for _ in range(3):  # the parent, then its children, then the parent again: nothing new appears
        for name in sorted(sources(world)):
            world.reconcile(name)
    found = sources(world)
    assert sorted(found) == ["apps", "infra", "staging"], "no flux-system child, nothing nested"
    assert {n: (found[n]["metadata"].get("labels") or {}).get(LABEL_PARENT) for n in ("apps", "infra")} == {
        "apps": "staging", "infra": "staging"}
    head = world.head(repo)
    for child in ("apps", "infra"):  # GitRepository flux-system is this repository, read at the parent's commit
        spec = repository(world, child)["spec"]["template"]["spec"]
        assert spec["url"] == f"file://{repo}" and spec["ref"] == {"commit": head}, spec
        assert BOOTSTRAP_URL not in json.dumps(spec)
        assert world.condition(child, names.READY)["status"] == "True", world.condition(child, names.READY)

    ready = world.condition("staging", names.READY)
    assert ready["status"] == "True", ready
    assert ready["message"] == (
        f"applied revision main@sha1:{head}; Flux's own components (24 objects of gotk-components) are not applied: "
        "this reconciler does their work (run --flux-components apply applies them)"), ready
    assert world.status("staging")["flux"] == {"bootstrap": ["Kustomization/flux-system"],
                                              "components": {"mode": "skip", "objects": 24}}
    events = [e for e in world.events("staging") if e["reason"] == "FluxBootstrap"]
    assert len(events) == 1 and events[0]["count"] == 1, events  # said once, over three reconciles
    assert events[0]["message"].startswith("Kustomization/flux-system (Flux bootstrap, gotk-sync) is this source "
                                           "itself, not a child; Flux's own components (24 objects")
    for cluster in CLUSTERS:
        assert live(world, cluster, "/api/v1/namespaces/flux-system") is None
        assert live(world, cluster, "/apis/apps/v1/namespaces/flux-system/deployments/kustomize-controller") is None
        assert world.get(cluster, "configmaps", "app-settings") is not None
        inventory = {e["id"] for row in world.status("staging")["clusters"] if row["name"] == cluster
                     for e in row["inventory"]}
        assert inventory == set(), "the parent's revision applies nothing of its own (only instructions)"


def test_every_surface_names_the_bootstrap_source_alike(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    from gitops_tui.actions.state import read_source
    from gitops_tui.views import rows
    from gitops_tui.views.details import describe_source
    from gitops_tui.views.model import sources as source_views
    from gitops_tui.views.state import ManagementState
    from gitops_tui.views.tree import SourceTree, tree_lines

    repo = world.repo("fleet", bootstrap_repository())
    world.create("staging", f"file://{repo}", path="./clusters/staging")
    world.reconcile("staging")
    role = flux_role(world.source("staging").kustomization)
    sentence = ("bootstrap: Kustomization/flux-system (gotk-sync) is this source itself; Flux's own components "
                "(24 objects of gotk-components) are not applied: this reconciler does their work (run "
                "--flux-components apply applies them)")
    assert role.sentence() == sentence

    assert main(["get", "sources", "-p", world.project, "-o", "json"]) == 0
    items = {i["name"]: i for i in json.loads(capsys.readouterr().out)["items"]}
    assert items["staging"]["flux"] == {"parent": "", "fluxName": "", "bootstrap": ["Kustomization/flux-system"],
                                        "components": "skip", "componentObjects": 24}
    assert items["apps"]["flux"]["parent"] == "staging" and items["apps"]["flux"]["bootstrap"] == []
    assert main(["get", "sources", "-p", world.project]) == 0
    names_column = [line.split(None, 1)[1].split("  ")[0] for line in capsys.readouterr().out.strip().splitlines()[1:]]
    assert names_column == ["staging (flux-system)", "└ apps", "└ infra"]

    group = f"/apis/{names.TYPES_GROUP}/{names.TYPES_VERSION}/namespaces/{world.namespace}"
    state = ManagementState({
        "gitrepositories": json_request(world.api, "GET", f"{group}/federatedgitrepositories")["items"],
        "kustomizations": json_request(world.api, "GET", f"{group}/federatedkustomizations")["items"],
        "projects": [json_request(world.api, "GET", f"/apis/{names.PROJECT_GROUP}/v1alpha1/projects/{world.project}")],
    })
    now = datetime.now(UTC)
    shown = [r.cells[0].split(" ", 1)[1] for r in rows.sources_table(state, now).rows]
    assert shown == ["staging (flux-system)", "└ apps", "└ infra"]
    views = {v.name: v for v in source_views(state)}
    assert f"Flux:       {sentence}" in describe_source(views["staging"], state, now).splitlines()
    assert "Flux:       child of source staging (Flux Kustomization apps)" in describe_source(views["apps"], state, now)

    tree = SourceTree(world.project, "staging", read_source(world.api, world.project, "staging").source.artifact_revision,
                      flux=role)
    lines = tree_lines(tree)
    assert lines[0].startswith(f"Source {world.project}/staging (flux-system)") and lines[1] == f"│   Flux: {sentence}"
    assert tree.to_dict()["flux"]["bootstrap"] == ["Kustomization/flux-system"]


def test_flux_components_apply_when_the_operator_says_so(world: World) -> None:
    """`run --flux-components apply` (a platform project): Flux's controllers are applied, kustomize-patched as in git."""
    world.make_platform()
    world.ctx = dataclasses.replace(world.ctx, flux_components="apply")
    repo = world.repo("fleet", bootstrap_repository())
    world.create("staging", f"file://{repo}", path="./clusters/staging")
    world.reconcile("staging")
    ready = world.condition("staging", names.READY)
    assert ready["status"] == "True" and ready["message"].endswith(
        "Flux's own components (24 objects) are applied (--flux-components apply)"), ready
    assert sorted(sources(world)) == ["apps", "infra", "staging"]
    for cluster in CLUSTERS:
        assert live(world, cluster, "/api/v1/namespaces/flux-system") is not None
        for controller in ("kustomize-controller", "helm-controller", "source-controller"):
            deployment = live(world, cluster, f"/apis/apps/v1/namespaces/flux-system/deployments/{controller}")
            args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
            assert args[-2:] == ["--concurrent=20", "--requeue-dependency=5s"], (controller, args)  # the regex patch
            assert deployment["metadata"]["labels"]["toolkit.fluxcd.io/tenant"] == "sre-team"
        untouched = live(world, cluster, "/apis/apps/v1/namespaces/flux-system/deployments/notification-controller")
        assert "--concurrent=20" not in untouched["spec"]["template"]["spec"]["containers"][0]["args"]
    # Back to the default: the components leave the revision, and prune removes them.
    world.ctx = dataclasses.replace(world.ctx, flux_components="skip")
    world.reconcile("staging")
    for cluster in CLUSTERS:
        assert live(world, cluster, "/apis/apps/v1/namespaces/flux-system/deployments/kustomize-controller") is None


def test_a_real_cycle_is_still_refused_with_its_path(world: World) -> None:
    files = bootstrap_repository()
    files["infrastructure/loop.yaml"] = kustomization("staging-again", "./loop")
    files["loop/back.yaml"] = kustomization("infra", "./infrastructure")
    repo = world.repo("fleet", files)
    world.create("staging", f"file://{repo}", path="./clusters/staging")
    for _ in range(3):
        for name in sorted(sources(world)):
            world.reconcile(name)
    assert sorted(sources(world)) == ["apps", "infra", "staging", "staging-again"]
    cond = world.condition("staging-again", names.READY)
    assert cond["status"] == "False" and cond["reason"] == "ValidationFailed", cond
    assert cond["message"] == ("Kustomization/infra in loop/back.yaml: cycle: infra -> staging-again -> infra; a "
                               "Kustomization may not include itself, directly or through others"), cond
    assert world.condition("staging", names.READY)["status"] == "True"
