"""The reconciler tests' world: one project on dev, staging and prod, with helpers to make sources, reconcile and look."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import resources
from gitops_tui.actions import sources as actions
from gitops_tui.api import names
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.client import ClusterConnections, json_request
from gitops_tui.kube.events import EventRecorder
from gitops_tui.kube.join import service_account_name
from gitops_tui.kube.workload_rbac import platform_account_manifests
from gitops_tui.reconciler import identity, propagate
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult
from gitops_tui.reconciler.projects import reconcile_project
from gitops_tui.reconciler.source import GitSource
from gitops_tui.reconciler.source_controller import reconcile_source
from gitops_tui.reconciler.status import load_source
from tests.gitserver import git, make_repo
from tests.waiting import wait_until

CLUSTERS = ["dev", "staging", "prod"]
_counter = itertools.count()


def get_or_none(api: Any, path: str) -> dict[str, Any] | None:
    """GET a path through the official client; None when the server answers 404 (any other refusal raises)."""
    try:
        return json_request(api, "GET", path)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


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

    def tenant(self, cluster: str) -> Any:
        """The reconciler's client of ``cluster`` acting as the project's ServiceAccount (as it applies)."""
        applier = identity.applier_for(self.ctx, self.namespace, self.project)
        api_client, dynamic = self.ctx.clusters.get(cluster)
        identity.ensure(self.ctx, cluster, api_client, applier)
        return identity.tenant_client(dynamic, applier)

    def make_platform(self, account: str = "platform-applier") -> None:
        """Make the project a platform project applying as ServiceAccount ``account``, which the operator makes on
        every cluster, binds to cluster-admin and lets the reconciler impersonate (docs/security.md)."""
        json_request(self.api, "PATCH", f"/apis/{names.PROJECT_GROUP}/v1alpha1/projects/{self.project}",
                     {"spec": {"platform": True, "serviceAccountName": account}},
                     content_type="application/merge-patch+json")
        for cluster in CLUSTERS:
            manifests = platform_account_manifests(self.namespace, account,
                                                   (names.FEDERATION_NAMESPACE, service_account_name(cluster)))
            self.sandbox.kubectl(cluster, "apply", "-f", "-", input=yaml.safe_dump_all(manifests))

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
        return get_or_none(self.client(cluster), f"{base}/namespaces/{self.namespace}/{kind}/{name}")

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


#: A child process that runs one reconcile of a source (argv: kubeconfig, namespace, name, data folder):
#: ``kill_mid_apply`` kills it with SIGKILL half-way; tests/reconciler/test_lazy_libraries.py lists what it loaded.
ONE_RECONCILE = """
import sys
from pathlib import Path
from gitops_tui.kube.client import ClusterConnections, api_client_from_kubeconfig
from gitops_tui.kube.events import EventRecorder
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.source import GitSource
from gitops_tui.reconciler.source_controller import reconcile_source

kubeconfig, namespace, name, data = sys.argv[1:5]
api = api_client_from_kubeconfig(kubeconfig, "management")
ctx = ReconcileContext(api_client=api, dynamic=None, clusters=ClusterConnections(api), recorder=EventRecorder(api),
                       git=GitSource(Path(data) / "git"), data_dir=Path(data))
reconcile_source(ctx, namespace, name)
"""


def kill_mid_apply(world: World, sandbox: Any, name: str, at_least: int = 40) -> int:
    """Reconcile ``name`` in a child process, kill -9 it once ``at_least`` of its ConfigMaps are on dev; its exit code.

    Fails when the apply finished before the kill.
    """
    proc = subprocess.Popen(
        [sys.executable, "-c", ONE_RECONCILE, str(sandbox.kubeconfig), world.namespace, name, str(world.tmp / "runner")],
        env=sandbox.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: len(world.labelled("dev", "configmaps", name)) >= at_least or proc.poll() is not None,
                   timeout=90, interval=0.02, message="the runner is in the middle of the apply")
        assert proc.poll() is None, "the apply finished before the kill"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    return proc.returncode


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
