"""HelmRelease dependsOn as Flux: releases of a revision install dependencies first; an absent dependency holds them."""

from __future__ import annotations

from tests.gitserver import commit
from tests.helm.charts import write_chart
from tests.helm.test_helm_reconcile import helm_release, storage_secrets
from tests.world import CLUSTERS, World


def test_dependencies_install_first_and_a_missing_one_holds_the_revision(world: World) -> None:
    repo = world.repo("apps", {"deploy/zulu.yaml": helm_release("zulu", {"greeting": "z"}),
                               "deploy/alpha.yaml": helm_release("alpha", {"greeting": "a"},
                                                                 dependsOn=[{"name": "zulu"}])})
    write_chart(repo / "charts")
    commit(repo, {}, "chart")
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert len(storage_secrets(world, cluster, "alpha")) == 1 and len(storage_secrets(world, cluster, "zulu")) == 1
    for cluster in CLUSTERS:  # resourceVersions count every write of a cluster, in order
        written = {name: int(world.get(cluster, "configmaps", f"{name}-greeting")["metadata"]["resourceVersion"])
                   for name in ("alpha", "zulu")}
        assert written["zulu"] < written["alpha"], "the dependency installs first, whatever the names' order"

    commit(repo, {"deploy/alpha.yaml": helm_release("alpha", {"greeting": "b"}, dependsOn=[{"name": "gone"}])})
    world.reconcile("apps")
    ready = world.condition("apps", "Ready")
    assert ready["status"] == "False" and ready["reason"] == "DependencyNotReady", ready
    assert ready["message"] == f"HelmRelease/alpha: dependency HelmRelease {world.namespace}/gone does not exist"
    assert world.get("dev", "configmaps", "alpha-greeting")["data"] == {"greeting": "a"}, "nothing applied"

    commit(repo, {"deploy/alpha.yaml": helm_release("alpha", {"greeting": "c"}, dependsOn=[{"name": "zulu"}]),
                  "deploy/zulu.yaml": helm_release("zulu", {"greeting": "z"}, dependsOn=[{"name": "alpha"}])})
    world.reconcile("apps")
    assert "dependsOn makes a cycle" in world.condition("apps", "Ready")["message"]
