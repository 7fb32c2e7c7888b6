"""Per-source reconcile against the sandbox with real git: propagation to every cluster, status, prune, no-op writes.

This module also holds the `World` helper the other source-controller test modules import.
"""

from __future__ import annotations

import itertools
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import resources
from gitops_tui.actions import sources as actions
from gitops_tui.api import names
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.client import ClusterConnections, json_request
from gitops_tui.kube.events import EventRecorder
from gitops_tui.reconciler import propagate
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult
from gitops_tui.reconciler.manager import ensure_management_api
from gitops_tui.reconciler.projects import reconcile_project
from gitops_tui.reconciler.source import GitSource
from gitops_tui.reconciler.source_controller import reconcile_source
from gitops_tui.reconciler.status import load_source
from tests.gitserver import GitHttpServer, commit, git, git_http_server, make_bare, make_repo, push  # noqa: F401
from tests.waiting import wait_until

CLUSTERS = ["dev", "staging", "prod"]
_counter = itertools.count()


def configmap(name: str, value: str = "v1") -> str:
    """A ConfigMap manifest (no namespace: tenancy sets the project's)."""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"{value}\"\n"


def deployment(name: str, replicas: int = 1, image: str = "nginx:1.25") -> str:
    """A Deployment manifest."""
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        f"  name: {name}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: {name}}}\n"
        f"  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n"
        f"      - name: main\n        image: {image}\n"
    )


class WriteLog:
    """Collects every write the source controller makes to workload clusters (through propagate's hook)."""

    def __init__(self) -> None:
        self.records: list[propagate.WriteRecord] = []
        self._lock = threading.Lock()

    def __call__(self, record: propagate.WriteRecord) -> None:
        with self._lock:
            self.records.append(record)

    def count(self) -> int:
        """Number of writes so far."""
        with self._lock:
            return len(self.records)


class World:
    """One project on dev, staging and prod with helpers to make sources, reconcile and look at clusters."""

    def __init__(self, sandbox: Any, tmp_path: Path, connections: ClusterConnections) -> None:
        self.sandbox = sandbox
        self.tmp = tmp_path
        self.api = sandbox.api_client("management")
        self.project = f"p{next(_counter)}-{uuid.uuid4().hex[:6]}"
        self.namespace = self.project
        self.ctx = ReconcileContext(
            api_client=self.api, dynamic=None, clusters=connections,  # type: ignore[arg-type]
            recorder=EventRecorder(self.api), git=GitSource(tmp_path / "git-cache"), data_dir=tmp_path,
        )
        resources.create_project(self.api, self.project, CLUSTERS)
        reconcile_project(self.ctx, "", self.project)
        self.writes = WriteLog()
        self._remove_hook = propagate.add_write_hook(self.writes)

    def close(self) -> None:
        """Remove the write hook, forget the project on management (objects on clusters stay), close connections."""
        self._remove_hook()
        group, version, _ = names.RESOURCES[names.KIND_PROJECT]
        paths = [f"/apis/{names.TYPES_GROUP}/{names.TYPES_VERSION}/namespaces/{self.namespace}/{plural}/{item}"
                 for plural in ("federatedkustomizations", "federatedgitrepositories", "federatedsecrets")
                 for item in self._names(plural)]
        for path in [*paths, f"/apis/{group}/{version}/projects/{self.project}"]:
            for method, body in (("PATCH", {"metadata": {"finalizers": None}}), ("DELETE", None)):
                try:
                    json_request(self.api, method, path, body, content_type="application/merge-patch+json")
                except ApiException:
                    pass

    def _names(self, plural: str) -> list[str]:
        listed = json_request(self.api, "GET", f"/apis/{names.TYPES_GROUP}/{names.TYPES_VERSION}/namespaces/"
                                               f"{self.namespace}/{plural}")
        return [i["metadata"]["name"] for i in listed.get("items") or []]

    # -- git --------------------------------------------------------------------------------
    def repo(self, name: str, files: dict[str, str | None]) -> Path:
        """A local git repository with one commit of ``files``."""
        return make_repo(self.tmp / name, files)

    @staticmethod
    def head(repo: Path) -> str:
        """The HEAD commit of a repository."""
        return git(repo, "rev-parse", "HEAD")

    # -- sources ----------------------------------------------------------------------------
    def create(self, name: str, url: str, **kwargs: Any) -> GitOpsSource:
        """Create a source in the project."""
        kwargs.setdefault("ref", {"branch": "main"})
        return actions.create_source(self.api, self.project, name, url, **kwargs)

    def reconcile(self, name: str) -> ReconcileResult:
        """Run one reconcile of the source directly."""
        return reconcile_source(self.ctx, self.namespace, name)

    def source(self, name: str) -> GitOpsSource:
        """Read the source's two objects."""
        return load_source(self.api, self.namespace, name)

    def status(self, name: str) -> dict[str, Any]:
        """The FederatedKustomization status."""
        return (self.source(name).kustomization or {}).get("status") or {}

    def condition(self, name: str, type_: str) -> dict[str, Any]:
        """One condition of the FederatedKustomization ({} when absent)."""
        for cond in self.status(name).get("conditions") or []:
            if cond.get("type") == type_:
                return cond
        return {}

    def patch_spec(self, kind: str, name: str, spec: dict[str, Any]) -> None:
        """Merge-patch spec.template.spec of one of the source's objects."""
        group, version, plural = names.RESOURCES[kind]
        json_request(self.api, "PATCH", f"/apis/{group}/{version}/namespaces/{self.namespace}/{plural}/{name}",
                     {"spec": {"template": {"spec": spec}}}, content_type="application/merge-patch+json")

    def events(self, name: str) -> list[dict[str, Any]]:
        """Events about the source (either object), oldest first."""
        listed = json_request(self.api, "GET", f"/api/v1/namespaces/{self.namespace}/events")
        items = [e for e in listed.get("items") or [] if (e.get("involvedObject") or {}).get("name") == name]
        return sorted(items, key=lambda e: (e.get("lastTimestamp") or "", e["metadata"]["name"]))

    # -- clusters ---------------------------------------------------------------------------
    def client(self, cluster: str) -> Any:
        """An ApiClient of a workload cluster."""
        return self.sandbox.api_client(cluster)

    def get(self, cluster: str, kind: str, name: str) -> dict[str, Any] | None:
        """A live ConfigMap or Deployment in the project namespace (None when absent)."""
        base = "/api/v1" if kind == "configmaps" else "/apis/apps/v1"
        try:
            return json_request(self.client(cluster), "GET", f"{base}/namespaces/{self.namespace}/{kind}/{name}")
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def labelled(self, cluster: str, kind: str, source: str) -> set[str]:
        """Names of objects of ``kind`` on a cluster carrying the source label."""
        base = "/api/v1" if kind == "configmaps" else "/apis/apps/v1"
        listed = json_request(self.client(cluster), "GET", f"{base}/namespaces/{self.namespace}/{kind}",
                              query={"labelSelector": f"{names.LABEL_SOURCE}={source}"})
        return {i["metadata"]["name"] for i in listed.get("items") or []}

    def kubectl_edit(self, cluster: str, resource: str, sed: str) -> None:
        """Run real `kubectl edit` with a sed script as the editor."""
        env = {**self.sandbox.env, "KUBE_EDITOR": f"sed -i -e '{sed}'", "EDITOR": f"sed -i -e '{sed}'"}
        cmd = ["kubectl", "--kubeconfig", str(self.sandbox.kubeconfig), "--context", cluster, "-n", self.namespace,
               "edit", resource]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="session")
def cluster_connections(sandbox: Any) -> Iterator[ClusterConnections]:
    """Workload-cluster connections shared by the session (discovery runs once per cluster)."""
    api = sandbox.api_client("management")
    ensure_management_api(api)
    connections = ClusterConnections(api)
    try:
        yield connections
    finally:
        connections.close()


@pytest.fixture
def world(sandbox: Any, tmp_path: Path, cluster_connections: ClusterConnections) -> Iterator[World]:
    """A fresh project on dev, staging and prod in the shared sandbox."""
    w = World(sandbox, tmp_path, cluster_connections)
    try:
        yield w
    finally:
        w.close()


def _revision(repo: Path) -> str:
    return f"main@sha1:{World.head(repo)}"


def assert_propagated(world: World, name: str, revision: str, clusters: list[str] = CLUSTERS) -> None:
    """Every cluster shows ``revision`` applied, and Propagation/Ready are True for the current generation."""
    source = world.source(name)
    status = (source.kustomization or {}).get("status") or {}
    assert status.get("observedGeneration") == source.generation
    rows = {c["name"]: c for c in status.get("clusters") or []}
    assert sorted(rows) == sorted(clusters)
    for cluster in clusters:
        assert rows[cluster]["lastAppliedRevision"] == revision, rows[cluster]
        assert rows[cluster]["status"] == "", rows[cluster]
    propagation = world.condition(name, names.PROPAGATION)
    assert propagation.get("status") == "True" and propagation.get("observedGeneration") == source.generation
    assert world.condition(name, names.READY).get("status") == "True"
    assert world.condition(name, names.RECONCILING).get("status") == "False"
    assert world.condition(name, names.STALLED).get("status") == "False"


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

    repo = world.repo("managed", {"cm.yaml": configmap("managed")})
    reconciler = Reconciler(world.api, data_dir=world.tmp / "manager", elect=False, install=False, workers=2)
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


HELM_RELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: shop
spec:
  chart:
    spec:
      chart: ./charts/web
      sourceRef: {kind: GitRepository, name: helm}
  values:
    greeting: %s
"""


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
