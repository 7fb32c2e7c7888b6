"""Per-source reconcile against the sandbox with real git: propagation to every cluster, status, prune, no-op writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitops_tui.actions import resources
from gitops_tui.actions import sources as actions
from gitops_tui.api import names
from gitops_tui.kube.client import json_request
from tests.gitserver import GitHttpServer, commit, git_http_server, make_bare, push  # noqa: F401
from tests.waiting import wait_until
from tests.world import CLUSTERS, HELM_RELEASE, World, assert_propagated, configmap, deployment


def _revision(repo: Path) -> str:
    return f"main@sha1:{World.head(repo)}"


def test_commits_reach_every_cluster_from_local_and_basic_auth_https(
    world: World, git_http_server: GitHttpServer  # noqa: F811
) -> None:
    local = world.repo("local", {"app/one.yaml": configmap("one"), "app/web.yaml": deployment("web")})
    work = world.repo("remote-work", {"deploy/cm.yaml": configmap("remote")})
    bare = make_bare(work, git_http_server.root / "remote.git")
    data = resources.secret_data(username=git_http_server.username, password=git_http_server.password)
    resources.create_secret(world.api, world.project, "git-auth", data)

    world.create("local", f"file://{local}", path="./app")
    world.create("remote", git_http_server.url("remote.git"), secret="git-auth")
    world.reconcile("local")
    world.reconcile("remote")
    assert_propagated(world, "local", _revision(local))
    assert_propagated(world, "remote", _revision(work))
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "one")["data"] == {"value": "v1"}
        assert world.get(cluster, "deployments", "web")["spec"]["replicas"] == 1
        remote = world.get(cluster, "configmaps", "remote")
        assert remote["metadata"]["labels"][names.LABEL_SOURCE] == "remote"
        assert remote["metadata"]["labels"][names.LABEL_PROJECT] == world.project
        managers = {m["manager"] for m in remote["metadata"]["managedFields"]}
        assert "gitops-tui" in managers
    repo_status = (world.source("remote").repository or {}).get("status") or {}
    assert repo_status["artifact"]["revision"] == _revision(work)
    inventory = {c["name"]: {i["id"] for i in c["inventory"]} for c in world.status("local")["clusters"]}
    ns = world.namespace
    assert inventory["prod"] == {f"{ns}_one__ConfigMap", f"{ns}_web_apps_Deployment"}

    # A new commit on each reaches all three clusters.
    commit(local, {"app/one.yaml": configmap("one", "v2")})
    commit(work, {"deploy/cm.yaml": configmap("remote", "v2")})
    push(work, bare)
    world.reconcile("local")
    world.reconcile("remote")
    assert_propagated(world, "local", _revision(local))
    assert_propagated(world, "remote", _revision(work))
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "one")["data"] == {"value": "v2"}
        assert world.get(cluster, "configmaps", "remote")["data"] == {"value": "v2"}
    reasons = [e["reason"] for e in world.events("local")]
    assert reasons.count("Applied") >= 6 and "NewArtifact" in reasons


def test_removed_file_is_pruned_unless_prune_is_off(world: World) -> None:
    pruned = world.repo("pruned", {"a.yaml": configmap("keep"), "b.yaml": configmap("gone")})
    kept = world.repo("kept", {"a.yaml": configmap("keep2"), "b.yaml": configmap("stays")})
    world.create("pruned", f"file://{pruned}")
    world.create("kept", f"file://{kept}", prune=False)
    world.reconcile("pruned")
    world.reconcile("kept")
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "gone") is not None
        assert world.get(cluster, "configmaps", "stays") is not None

    commit(pruned, {"b.yaml": None})
    commit(kept, {"b.yaml": None})
    world.reconcile("pruned")
    world.reconcile("kept")
    assert_propagated(world, "pruned", _revision(pruned))
    assert_propagated(world, "kept", _revision(kept))
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "gone") is None
        assert world.get(cluster, "configmaps", "keep") is not None
        assert world.get(cluster, "configmaps", "stays") is not None
    applied = [e["message"] for e in world.events("pruned") if e["reason"] == "Applied"]
    assert any("pruned ConfigMap" in m and "/gone" in m for m in applied)
    ids = {i["id"] for c in world.status("pruned")["clusters"] for i in c["inventory"]}
    assert ids == {f"{world.namespace}_keep__ConfigMap"}


def test_noop_reconcile_writes_nothing(world: World) -> None:
    repo = world.repo("noop", {f"cm{i}.yaml": configmap(f"cm{i}") for i in range(5)} | {"d.yaml": deployment("d")})
    world.create("noop", f"file://{repo}")
    world.reconcile("noop")
    assert world.writes.count() == 18

    def simulated(cluster: str) -> bool:  # the status simulator's write must come before the snapshot
        status = world.get(cluster, "deployments", "d").get("status") or {}
        return status.get("availableReplicas") == 1

    wait_until(lambda: all(simulated(c) for c in CLUSTERS), timeout=30,
               message="the status simulator never made the Deployment available")
    before = world.source("noop")
    # The sandbox's simulator writes the Deployment's status once, a moment after the apply: wait for it.
    wait_until(lambda: all((world.get(c, "deployments", "d").get("status") or {}).get("availableReplicas") == 1
                           for c in CLUSTERS), timeout=20, message="the simulator marks the Deployment available")
    versions = {c: world.get(c, "deployments", "d")["metadata"]["resourceVersion"] for c in CLUSTERS}
    result = world.reconcile("noop")
    assert result.requeue_after == 60.0
    after = world.source("noop")
    assert world.writes.count() == 18, "a no-op reconcile must not write to any cluster"
    assert after.kustomization["metadata"]["resourceVersion"] == before.kustomization["metadata"]["resourceVersion"]
    assert after.repository["metadata"]["resourceVersion"] == before.repository["metadata"]["resourceVersion"]
    assert {c: world.get(c, "deployments", "d")["metadata"]["resourceVersion"] for c in CLUSTERS} == versions

    # A requested reconcile is handled (one status write), then nothing again.
    token = actions.request_reconcile(world.api, world.project, "noop")
    world.reconcile("noop")
    assert world.status("noop")["lastHandledReconcileAt"] == token
    handled = world.source("noop").kustomization["metadata"]["resourceVersion"]
    world.reconcile("noop")
    assert world.source("noop").kustomization["metadata"]["resourceVersion"] == handled
    assert world.writes.count() == 18


def test_the_manager_reconciles_on_create_and_on_requested_reconcile(world: World, sandbox: Any) -> None:
    from gitops_tui.reconciler.manager import Reconciler
    from gitops_tui.reconciler.options import ReconcilerOptions

    repo = world.repo("managed", {"cm.yaml": configmap("managed")})
    reconciler = Reconciler(world.api, ReconcilerOptions(data_dir=world.tmp / "manager", elect=False, install=False,
                                                         workers=2))
    reconciler.start()
    try:
        assert reconciler.wait_synced(10)
        world.create("managed", f"file://{repo}", interval="10m")
        wait_until(lambda: all(world.get(c, "configmaps", "managed") for c in CLUSTERS), timeout=30,
                   message="the manager applies the new source")
        commit(repo, {"cm.yaml": configmap("managed", "v2")})
        token = actions.request_reconcile(world.api, world.project, "managed")
        wait_until(lambda: actions.reconcile_handled(world.api, world.project, "managed", token), timeout=30,
                   message="the requested reconcile is handled")
        assert_propagated(world, "managed", _revision(repo))
        assert all(world.get(c, "configmaps", "managed")["data"] == {"value": "v2"} for c in CLUSTERS)
    finally:
        reconciler.stop()


def test_cli_reconcile_wait_reports_failure_without_reconciler(world: World, sandbox: Any) -> None:
    repo = world.repo("cli", {"cm.yaml": configmap("cli")})
    world.create("cli", f"file://{repo}")
    proc = sandbox.cli("reconcile", "source", "cli", "-p", world.project, "--wait", "--timeout", "1", check=False)
    assert proc.returncode == 1
    assert "no reconciler handled the request" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert world.source("cli").requested_at


def test_helm_release_is_installed_on_every_cluster_and_uninstalled_on_delete(world: World) -> None:
    from tests.helm.charts import write_chart

    repo = world.repo("helm", {"deploy/hr.yaml": HELM_RELEASE % "hello"})
    write_chart(repo / "charts", version="0.1.0")
    commit(repo, {}, "chart")
    world.create("helm", f"file://{repo}", path="./deploy")
    world.reconcile("helm")
    assert_propagated(world, "helm", _revision(repo))
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "shop-greeting")["data"] == {"greeting": "hello"}
    commit(repo, {"deploy/hr.yaml": HELM_RELEASE % "bonjour"})
    world.reconcile("helm")
    assert all(world.get(c, "configmaps", "shop-greeting")["data"] == {"greeting": "bonjour"} for c in CLUSTERS)
    actions.delete_source(world.api, world.project, "helm")
    world.reconcile("helm")
    assert all(world.get(c, "configmaps", "shop-greeting") is None for c in CLUSTERS)


def test_a_cluster_leaving_the_placement_is_pruned_and_forgotten(world: World) -> None:
    repo = world.repo("placed", {"cm.yaml": configmap("placed")})
    world.create("placed", f"file://{repo}")
    world.reconcile("placed")
    assert all(world.get(c, "configmaps", "placed") for c in CLUSTERS)
    group, version, plural = names.RESOURCES[names.KIND_FEDERATED_KUSTOMIZATION]
    json_request(world.api, "PATCH", f"/apis/{group}/{version}/namespaces/{world.namespace}/{plural}/placed",
                 {"spec": {"placement": {"clusters": [{"name": "dev"}, {"name": "staging"}]}}},
                 content_type="application/merge-patch+json")
    world.reconcile("placed")
    assert world.get("prod", "configmaps", "placed") is None
    assert world.get("dev", "configmaps", "placed") is not None
    assert_propagated(world, "placed", _revision(repo), ["dev", "staging"])
    assert any(e["reason"] == "Withdrawn" and "prod left the placement" in e["message"] for e in world.events("placed"))
