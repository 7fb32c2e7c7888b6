"""Bad revisions: each gives Ready False with a reason and a message naming the file or object; nothing of it is applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitops_tui.actions import resources
from gitops_tui.api import names
from tests.gitserver import GitHttpServer, commit, git_http_server, make_bare, push  # noqa: F401
from tests.world import CLUSTERS, World, assert_propagated, configmap

GOOD = {"app/base.yaml": configmap("base", "v1")}


def _bad_yaml(world: World, repo: Path) -> str:
    commit(repo, {"app/added.yaml": configmap("added"), "app/broken.yaml": "kind: ConfigMap\nmetadata: [unclosed\n"})
    return "app/broken.yaml"


def _other_namespace(world: World, repo: Path) -> str:
    other = configmap("elsewhere").replace("metadata:\n", "metadata:\n  namespace: kube-system\n")
    commit(repo, {"app/added.yaml": configmap("added"), "app/other.yaml": other})
    return "ConfigMap/elsewhere"


def _cluster_scoped(world: World, repo: Path) -> str:
    ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: sneaky\n"
    commit(repo, {"app/added.yaml": configmap("added"), "app/ns.yaml": ns})
    return "Namespace/sneaky"


def _missing_path(world: World, repo: Path) -> str:
    commit(repo, {"app/added.yaml": configmap("added")})
    world.patch_spec(names.KIND_FEDERATED_KUSTOMIZATION, "src", {"path": "./nowhere"})
    return "nowhere"


def _missing_branch(world: World, repo: Path) -> str:
    commit(repo, {"app/added.yaml": configmap("added")})
    world.patch_spec(names.KIND_FEDERATED_GIT_REPOSITORY, "src", {"ref": {"branch": "no-such-branch"}})
    return "no-such-branch"


def _bad_kustomization(world: World, repo: Path) -> str:
    kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- missing.yaml\n"
    commit(repo, {"app/added.yaml": configmap("added"), "app/kustomization.yaml": kustomization})
    return "missing.yaml"


def _invalid_name(world: World, repo: Path) -> str:
    commit(repo, {"app/added.yaml": configmap("added"), "app/zz.yaml": configmap("Bad_Name")})
    return "Bad_Name"


CASES = {
    "invalid-name": (_invalid_name, "ValidationFailed"),
    "invalid-yaml": (_bad_yaml, "ValidationFailed"),
    "other-namespace": (_other_namespace, "TenancyViolation"),
    "cluster-scoped": (_cluster_scoped, "TenancyViolation"),
    "missing-path": (_missing_path, "ArtifactFailed"),
    "missing-branch": (_missing_branch, "GitOperationFailed"),
    "kustomize-build": (_bad_kustomization, "BuildFailed"),
}


def _assert_previous_stays(world: World, revision: str) -> None:
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "base")["data"] == {"value": "v1"}
        assert world.get(cluster, "configmaps", "added") is None, "nothing of the bad revision is applied"
    rows = {c["name"]: c for c in world.status("src")["clusters"]}
    assert all(rows[c]["lastAppliedRevision"] == revision for c in CLUSTERS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_revision_is_refused_whole(world: World, case: str) -> None:
    make_bad, reason = CASES[case]
    repo = world.repo("bad", GOOD)
    other = world.repo("other", {"cm.yaml": configmap("other", "v1")})
    world.create("src", f"file://{repo}", path="./app")
    world.create("fine", f"file://{other}")
    world.reconcile("src")
    good = f"main@sha1:{world.head(repo)}"
    assert_propagated(world, "src", good)

    named = make_bad(world, repo)
    commit(other, {"cm.yaml": configmap("other", "v2")})
    writes = world.writes.count()
    world.reconcile("src")
    assert world.writes.count() == writes
    ready = world.condition("src", names.READY)
    assert ready["status"] == "False" and ready["reason"] == reason, ready
    assert named in ready["message"], ready["message"]
    assert world.condition("src", names.PROPAGATION)["status"] == "False"
    _assert_previous_stays(world, good)
    warnings = [e for e in world.events("src") if e["type"] == "Warning"]
    assert warnings and warnings[-1]["reason"] == reason and named in warnings[-1]["message"]

    world.reconcile("fine")
    assert_propagated(world, "fine", f"main@sha1:{world.head(other)}")
    assert all(world.get(c, "configmaps", "other")["data"] == {"value": "v2"} for c in CLUSTERS)


def test_wrong_credentials_are_refused_and_nothing_changes(world: World, git_http_server: GitHttpServer) -> None:  # noqa: F811
    work = world.repo("work", GOOD)
    bare = make_bare(work, git_http_server.root / "app.git")
    right = resources.secret_data(username=git_http_server.username, password=git_http_server.password)
    wrong = resources.secret_data(username=git_http_server.username, password="not-the-password")
    resources.create_secret(world.api, world.project, "right", right)
    resources.create_secret(world.api, world.project, "wrong", wrong)
    world.create("src", git_http_server.url("app.git"), secret="right", path="./app")
    world.reconcile("src")
    good = f"main@sha1:{world.head(work)}"
    assert_propagated(world, "src", good)

    commit(work, {"app/added.yaml": configmap("added")})
    push(work, bare)
    world.patch_spec(names.KIND_FEDERATED_GIT_REPOSITORY, "src", {"secretRef": {"name": "wrong"}})
    world.reconcile("src")
    ready = world.condition("src", names.READY)
    assert ready["status"] == "False" and ready["reason"] == "GitOperationFailed", ready
    assert git_http_server.url("app.git") in ready["message"] or "app.git" in ready["message"]
    assert "not-the-password" not in str(world.status("src"))
    assert all("not-the-password" not in e["message"] for e in world.events("src"))
    _assert_previous_stays(world, good)


def test_wait_reports_health_per_cluster(world: World) -> None:
    from tests.world import deployment

    repo = world.repo("health", {"web.yaml": deployment("web")})
    world.create("health", f"file://{repo}", clusters=["dev"])
    world.patch_spec(names.KIND_FEDERATED_KUSTOMIZATION, "health", {"wait": True, "timeout": "20s"})
    world.reconcile("health")
    assert_propagated(world, "health", f"main@sha1:{world.head(repo)}", ["dev"])

    commit(repo, {"web.yaml": deployment("web", image="nginx:fail")})
    world.patch_spec(names.KIND_FEDERATED_KUSTOMIZATION, "health", {"timeout": "1s"})
    world.reconcile("health")
    ready = world.condition("health", names.READY)
    assert ready["status"] == "False" and ready["reason"] == "PropagationFailed"
    assert "HealthCheckFailed" in str(world.status("health")["clusters"])
    assert f"Deployment {world.namespace}/web" in ready["message"]


def test_an_unreachable_cluster_does_not_stop_the_others(world: World, sandbox: Any, tmp_path: Path) -> None:
    import yaml

    from gitops_tui.kube.client import json_request

    config = yaml.safe_load(sandbox.kubeconfig.read_text())
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = "https://127.0.0.1:1"
    config["current-context"] = "dev"
    resources.register_cluster(world.api, "ghost", yaml.safe_dump(config), "https://127.0.0.1:1")
    try:
        repo = world.repo("reach", GOOD)
        world.create("reach", f"file://{repo}", path="./app", clusters=["dev", "ghost"])
        json_request(world.api, "PATCH", f"/apis/gitops-tui.io/v1alpha1/projects/{world.project}",
                     {"spec": {"placement": {"clusters": [{"name": c} for c in [*CLUSTERS, "ghost"]]}}},
                     content_type="application/merge-patch+json")
        world.reconcile("reach")
        rows = {c["name"]: c for c in world.status("reach")["clusters"]}
        assert rows["dev"]["status"] == "" and rows["dev"]["lastAppliedRevision"] == f"main@sha1:{world.head(repo)}"
        assert world.get("dev", "configmaps", "base") is not None
        assert rows["ghost"]["status"] == names.REASON_CLUSTER_NOT_REACHABLE and rows["ghost"]["lastAppliedRevision"] == ""
        ready = world.condition("reach", names.READY)
        assert ready["status"] == "False" and "ghost" in ready["message"]
        assert world.condition("reach", names.PROPAGATION)["status"] == "False"
    finally:
        ns = names.FEDERATION_NAMESPACE
        for path in (f"/apis/core.kubefed.io/v1beta1/namespaces/{ns}/kubefedclusters/ghost",
                     f"/api/v1/namespaces/{ns}/secrets/ghost-kubeconfig"):
            json_request(world.api, "DELETE", path)
