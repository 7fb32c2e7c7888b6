"""Management-side controllers against the real sandbox: API install, cluster health, projects, federated secrets."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import resources
from gitops_tui.api import names
from gitops_tui.api.crds import crd_names
from gitops_tui.kube.client import api_client_from_kubeconfig, json_request
from gitops_tui.kube.management_api import ensure_management_api
from gitops_tui.kube.watch import ResourceWatch
from gitops_tui.reconciler.context import management_path
from gitops_tui.reconciler.manager import Reconciler
from gitops_tui.reconciler.options import ReconcilerOptions
from gitops_tui.util.workqueue import WorkQueue
from tests.waiting import wait_until
from tests.world import get_or_none as get  # also test_webhook*.py

LEASE = 4.0
#: Seconds between cluster health checks in these tests (the product's default is 5 s).
HEALTH_INTERVAL = 0.5


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def reconciler(sandbox: Any, mgmt: Any, tmp_path: Path) -> Iterator[Reconciler]:
    """A running, leading Reconciler (stopped and its lease released afterwards)."""
    rec = Reconciler(mgmt, ReconcilerOptions(data_dir=tmp_path / "reconciler", lease_duration=LEASE,
                                             health_interval=HEALTH_INTERVAL))
    rec.start()
    try:
        wait_until(rec.is_leader, timeout=3 * LEASE, message="the reconciler to lead")
        yield rec
    finally:
        rec.stop()


def secret_on(sandbox: Any, cluster: str, namespace: str, name: str) -> dict[str, Any] | None:
    """The Secret on a workload cluster, or None."""
    return get(api_client_from_kubeconfig(sandbox.kubeconfig, cluster), f"/api/v1/namespaces/{namespace}/secrets/{name}")


def decoded(secret: dict[str, Any] | None, key: str) -> str | None:
    """One decoded value of a Secret dict."""
    if not secret or key not in (secret.get("data") or {}):
        return None
    return base64.b64decode(secret["data"][key]).decode()


def fs_status(mgmt: Any, namespace: str, name: str) -> dict[str, dict[str, Any]]:
    """status.clusters of a FederatedSecret by cluster name."""
    obj = get(mgmt, management_path(names.KIND_FEDERATED_SECRET, namespace, name)) or {}
    return {c["name"]: c for c in (obj.get("status") or {}).get("clusters") or []}


def delete_project_and_wait(mgmt: Any, name: str) -> None:
    """Delete a project and wait until the reconciler finalized it."""
    try:
        resources.delete_project(mgmt, name)
    except Exception:  # noqa: BLE001 - already gone
        return
    wait_until(lambda: get(mgmt, management_path(names.KIND_PROJECT, None, name)) is None, timeout=30,
               message=f"project {name} to be finalized")


def test_management_api_install_is_idempotent(sandbox: Any, mgmt: Any) -> None:
    ensure_management_api(mgmt)

    def versions() -> dict[str, str]:
        return {crd: (get(mgmt, f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}") or {})
                .get("metadata", {}).get("resourceVersion", "") for crd in crd_names()}

    before = versions()
    ensure_management_api(mgmt)
    assert all(before.values()) and versions() == before, "a second install changes nothing"
    for namespace in (names.SYSTEM_NAMESPACE, names.FEDERATION_NAMESPACE):
        assert get(mgmt, f"/api/v1/namespaces/{namespace}") is not None


def test_registered_clusters_become_ready(reconciler: Reconciler, mgmt: Any) -> None:
    def all_ready() -> bool:
        items = json_request(mgmt, "GET", management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE))["items"]
        ready = {}
        for item in items:
            conds = {c["type"]: c for c in (item.get("status") or {}).get("conditions") or []}
            ready[item["metadata"]["name"]] = conds.get("Ready", {}).get("reason")
        return all(ready.get(c) == "ClusterReady" for c in ("dev", "staging", "prod"))

    wait_until(all_ready, timeout=15, message="dev, staging and prod to be Ready")


def test_project_namespaces_follow_names_and_label_selector(reconciler: Reconciler, sandbox: Any, mgmt: Any) -> None:
    by_name = unique("proj")
    by_label = unique("sel")
    label = f"test.gitops-tui.io/{unique('zone')}"
    resources.create_project(mgmt, by_name, ["dev", "staging"])
    kfc_path = management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE, "prod")
    json_request(mgmt, "PATCH", kfc_path, {"metadata": {"labels": {label: "yes"}}},
                 content_type="application/merge-patch+json")
    resources.create_project(mgmt, by_label, selector={label: "yes"})
    try:
        def namespaces(ns: str) -> set[str]:
            return {c for c in ("management", "dev", "staging", "prod")
                    if get(api_client_from_kubeconfig(sandbox.kubeconfig, c), f"/api/v1/namespaces/{ns}")}

        wait_until(lambda: namespaces(by_name) == {"management", "dev", "staging"}, timeout=15,
                   message="the project namespace on management, dev and staging")
        wait_until(lambda: namespaces(by_label) == {"management", "prod"}, timeout=15,
                   message="the selector project's namespace on prod only")
        project = get(mgmt, management_path(names.KIND_PROJECT, None, by_name)) or {}
        wait_until(lambda: [c["name"] for c in (get(mgmt, management_path(names.KIND_PROJECT, None, by_name)) or {})
                            .get("status", {}).get("clusters", [])] == ["dev", "staging"], timeout=10,
                   message="per-cluster project status")
        assert names.FINALIZER_PRUNE in project["metadata"]["finalizers"]
    finally:
        json_request(mgmt, "PATCH", kfc_path, {"metadata": {"labels": {label: None}}},
                     content_type="application/merge-patch+json")
        delete_project_and_wait(mgmt, by_name)
        delete_project_and_wait(mgmt, by_label)
    dev = api_client_from_kubeconfig(sandbox.kubeconfig, "dev")
    wait_until(lambda: get(dev, f"/api/v1/namespaces/{by_name}") is None
               or (get(dev, f"/api/v1/namespaces/{by_name}") or {}).get("metadata", {}).get("deletionTimestamp"),
               timeout=15, message="the project namespace to go from dev")


def test_federated_secret_is_created_updated_moved_and_deleted(reconciler: Reconciler, sandbox: Any,
                                                               mgmt: Any) -> None:
    project = unique("sec")
    token = f"tok-{uuid.uuid4().hex}"
    resources.create_project(mgmt, project, ["dev", "staging"])
    try:
        resources.create_secret(mgmt, project, "git-cred", resources.secret_data(token=token))
        for cluster in ("dev", "staging"):
            wait_until(lambda c=cluster: decoded(secret_on(sandbox, c, project, "git-cred"), "bearerToken") == token,
                       timeout=15, message=f"the Secret on {cluster}")
        wait_until(lambda: {k: v["status"] for k, v in fs_status(mgmt, project, "git-cred").items()}
                   == {"dev": "", "staging": ""}, timeout=10, message="status per cluster")
        live = secret_on(sandbox, "dev", project, "git-cred") or {}
        assert live["metadata"]["labels"][names.LABEL_PROJECT] == project

        path = management_path(names.KIND_FEDERATED_SECRET, project, "git-cred")
        new = base64.b64encode(b"rotated").decode()
        json_request(mgmt, "PATCH", path, {"spec": {"template": {"data": {"bearerToken": new}}}},
                     content_type="application/merge-patch+json")
        for cluster in ("dev", "staging"):
            wait_until(lambda c=cluster: decoded(secret_on(sandbox, c, project, "git-cred"), "bearerToken") == "rotated",
                       timeout=15, message=f"the rotated Secret on {cluster}")

        json_request(mgmt, "PATCH", path, {"spec": {"placement": {"clusters": [{"name": "dev"}]}}},
                     content_type="application/merge-patch+json")
        wait_until(lambda: secret_on(sandbox, "staging", project, "git-cred") is None, timeout=15,
                   message="the Secret to leave staging")
        assert secret_on(sandbox, "dev", project, "git-cred") is not None
        wait_until(lambda: set(fs_status(mgmt, project, "git-cred")) == {"dev"}, timeout=10,
                   message="status to list dev only")

        events = json_request(mgmt, "GET", f"/api/v1/namespaces/{project}/events")["items"]
        ours = [e for e in events if e["involvedObject"].get("kind") == names.KIND_FEDERATED_SECRET]
        assert {e["reason"] for e in ours} >= {"SecretCreated", "SecretUpdated", "SecretDeleted"}
        created = [e for e in ours if e["reason"] == "SecretCreated"]
        assert {e["metadata"]["annotations"]["gitops-tui.io/cluster"] for e in created} == {"dev", "staging"}
        assert all(e["reportingComponent"] == "gitops-tui" and e["type"] == "Normal" for e in ours)
        assert token not in json.dumps(events) and "rotated" not in json.dumps(events)

        resources.delete_secret(mgmt, project, "git-cred")
        wait_until(lambda: secret_on(sandbox, "dev", project, "git-cred") is None, timeout=15,
                   message="the Secret to be removed from dev")
        wait_until(lambda: get(mgmt, path) is None, timeout=10, message="the finalizer to be released")
    finally:
        delete_project_and_wait(mgmt, project)


def test_watch_relists_after_expired_resource_version(tmp_path: Path) -> None:
    from gitops_tui.sandbox.serving.server import ClusterServer
    from gitops_tui.sandbox.serving.tls import ensure_tls

    tls = ensure_tls(tmp_path / "tls")
    server = ClusterServer("watchy", tmp_path / "w.db", "t0k", tls, 0, keep_revisions=5)
    server.start()
    try:
        kubeconfig = _kubeconfig(tmp_path, "watchy", server.url, "t0k", tls.ca_cert)
        api = api_client_from_kubeconfig(kubeconfig, "watchy")
        path = "/api/v1/namespaces/default/configmaps"
        json_request(api, "POST", "/api/v1/namespaces", {"metadata": {"name": "default"}}) if not get(
            api, "/api/v1/namespaces/default") else None
        json_request(api, "POST", path, {"metadata": {"name": "first"}, "data": {"a": "1"}})
        old_rv = json_request(api, "GET", path)["metadata"]["resourceVersion"]
        for index in range(20):
            json_request(api, "POST", path, {"metadata": {"name": f"cm{index}"}, "data": {"i": str(index)}})
        seen: list[tuple[str, str]] = []
        watch = ResourceWatch(api, path, lambda kind, obj, old: seen.append((kind, obj["metadata"]["name"])))
        watch.resource_version = old_rv
        watch.synced.set()
        watch.start()
        try:
            wait_until(lambda: len(watch.items()) == 21, timeout=10, message="the relist after 410")
            json_request(api, "DELETE", f"{path}/cm3")
            wait_until(lambda: ("DELETED", "cm3") in seen, timeout=10, message="the watch to resume after relisting")
            assert watch.get("default", "cm3") is None and watch.get("default", "cm4") is not None
        finally:
            watch.stop()
    finally:
        server.stop()


def _kubeconfig(directory: Path, context: str, url: str, token: str, ca: Path) -> Path:
    from gitops_tui.sandbox.kubeconfig import KubeconfigEntry, write_kubeconfig

    return write_kubeconfig(directory / f"{context}.kubeconfig", [KubeconfigEntry(context, url, token)], ca, context)


def test_workqueue_dedups_delays_and_holds_keys() -> None:
    queue = WorkQueue()
    queue.add("a", 30.0)
    queue.add("a", 0.0)
    queue.add("b", 30.0)
    assert queue.get(timeout=0.2) == "a"
    queue.add("a", 0.0)
    assert queue.get(timeout=0.1) is None, "a held key is not handed out twice"
    queue.done("a")
    assert queue.get(timeout=0.2) == "a", "a change seen while held is queued again"
    queue.done("a", requeue_after=30.0)
    assert queue.get(timeout=0.1) is None
    assert sorted(queue.pending()) == ["a", "b"]
    queue.close()
    assert queue.get(timeout=1.0) is None


def kfc_reason(mgmt: Any, name: str) -> str | None:
    """The reason of a KubeFedCluster's Ready condition."""
    obj = get(mgmt, management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE, name)) or {}
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == "Ready":
            return cond.get("reason")
    return None


CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  release: "{value}"
"""


def configmap_release(api: Any, namespace: str) -> str | None:
    """data.release of the source's ConfigMap on a cluster."""
    obj = get(api, f"/api/v1/namespaces/{namespace}/configmaps/app-config")
    return ((obj or {}).get("data") or {}).get("release")


def ks_cluster(mgmt: Any, namespace: str, name: str, cluster: str) -> dict[str, Any]:
    """One status.clusters entry of a FederatedKustomization."""
    obj = get(mgmt, management_path(names.KIND_FEDERATED_KUSTOMIZATION, namespace, name)) or {}
    return next((c for c in (obj.get("status") or {}).get("clusters") or [] if c["name"] == cluster), {})


def test_cluster_down_others_continue_and_it_catches_up(reconciler: Reconciler, sandbox: Any, mgmt: Any,
                                                        tmp_path: Path) -> None:
    from gitops_tui.actions import sources
    from gitops_tui.sandbox.controllers.tokens import TokenController
    from gitops_tui.sandbox.serving.server import ClusterServer
    from gitops_tui.sandbox.serving.tls import ensure_tls
    from tests.gitserver import commit, make_repo

    edge = unique("edge")
    project = unique("down")
    tls = ensure_tls(tmp_path / "tls")
    server = ClusterServer(edge, tmp_path / "edge.db", "edge-token", tls, 0)
    server.start()
    port = server.port
    kubeconfig = _kubeconfig(tmp_path, edge, server.url, "edge-token", tls.ca_cert)
    edge_api = api_client_from_kubeconfig(kubeconfig, edge)
    dev_api = api_client_from_kubeconfig(sandbox.kubeconfig, "dev")
    kfc_path = management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE, edge)
    repo = make_repo(tmp_path / "app", {"config.yaml": CONFIGMAP.format(value="one")})
    try:
        tokens = TokenController.for_server(server, str(tls.ca_cert)).start()  # fills the joined SA's token
        resources.attach_cluster(mgmt, edge, kubeconfig)
        tokens.stop()
        wait_until(lambda: kfc_reason(mgmt, edge) == "ClusterReady", timeout=15, message="edge to be Ready")
        resources.create_project(mgmt, project, ["dev", edge])
        resources.create_secret(mgmt, project, "cfg", {"v": b"one"})
        sources.create_source(mgmt, project, "app", str(repo), ref={"branch": "main"}, interval="2s")
        wait_until(lambda: decoded(get(edge_api, f"/api/v1/namespaces/{project}/secrets/cfg"), "v") == "one",
                   timeout=15, message="the Secret on edge")
        wait_until(lambda: configmap_release(edge_api, project) == "one", timeout=20,
                   message="the first commit on edge")

        server.stop()
        path = management_path(names.KIND_FEDERATED_SECRET, project, "cfg")
        json_request(mgmt, "PATCH", path, {"spec": {"template": {"data": {"v": base64.b64encode(b"two").decode()}}}},
                     content_type="application/merge-patch+json")
        for value in ("two", "three"):
            sha = commit(repo, {"config.yaml": CONFIGMAP.format(value=value)})
            wait_until(lambda v=value: configmap_release(dev_api, project) == v, timeout=20,
                       message=f"dev to get commit {value} while edge is down")
            wait_until(lambda s=sha: ks_cluster(mgmt, project, "app", "dev").get("lastAppliedRevision", "")
                       .endswith(s), timeout=10, message="dev's lastAppliedRevision")
        wait_until(lambda: decoded(secret_on(sandbox, "dev", project, "cfg"), "v") == "two", timeout=15,
                   message="dev to get the secret change while edge is down")
        wait_until(lambda: fs_status(mgmt, project, "cfg").get(edge, {}).get("status") == "ClusterNotReachable",
                   timeout=15, message="the FederatedSecret status to say ClusterNotReachable for edge")
        wait_until(lambda: ks_cluster(mgmt, project, "app", edge).get("status") == "ClusterNotReachable",
                   timeout=15, message="the source status to say ClusterNotReachable for edge")
        assert fs_status(mgmt, project, "cfg")["dev"]["status"] == ""
        assert ks_cluster(mgmt, project, "app", "dev").get("status") == ""
        wait_until(lambda: kfc_reason(mgmt, edge) == "ClusterNotReachable", timeout=15,
                   message="the KubeFedCluster to be Offline")

        server = ClusterServer(edge, tmp_path / "edge.db", "edge-token", tls, port)
        server.start()
        wait_until(lambda: decoded(get(edge_api, f"/api/v1/namespaces/{project}/secrets/cfg"), "v") == "two",
                   timeout=30, message="edge to catch up with the secret by itself")
        wait_until(lambda: configmap_release(edge_api, project) == "three", timeout=30,
                   message="edge to catch up with the last commit by itself")
        wait_until(lambda: fs_status(mgmt, project, "cfg").get(edge, {}).get("status") == "", timeout=15,
                   message="the edge secret status to clear")
        wait_until(lambda: ks_cluster(mgmt, project, "app", edge).get("status") == "", timeout=15,
                   message="the edge source status to clear")
        wait_until(lambda: kfc_reason(mgmt, edge) == "ClusterReady", timeout=15, message="edge Ready again")
    finally:
        try:
            sources.delete_source(mgmt, project, "app")
        except Exception:  # noqa: BLE001 - cleanup
            pass
        delete_project_and_wait(mgmt, project)
        for p in (kfc_path, f"/api/v1/namespaces/{names.FEDERATION_NAMESPACE}/secrets/{edge}-kubeconfig"):
            try:
                json_request(mgmt, "DELETE", p)
            except ApiException:
                pass
        server.stop()


def test_cluster_connections_rebuild_when_the_kubeconfig_secret_changes(sandbox: Any, mgmt: Any) -> None:
    from gitops_tui.kube.client import ClusterConnections, ClusterUnreachable

    name = unique("moving")
    connections = ClusterConnections(mgmt, recheck_seconds=0.0)
    urls = {c: api_client_from_kubeconfig(sandbox.kubeconfig, c).configuration.host for c in ("staging", "prod")}
    try:
        with pytest.raises(ClusterUnreachable) as missing:
            connections.get(name)
        assert missing.value.reason == "ClusterNotFound"
        resources.attach_cluster(mgmt, name, sandbox.kubeconfig, "staging")
        client, dynamic = connections.get(name)
        assert client.configuration.host == urls["staging"]
        assert connections.get(name)[0] is client, "an unchanged Secret keeps the cached client"
        resources.attach_cluster(mgmt, name, sandbox.kubeconfig, "prod")
        assert connections.api_client(name).configuration.host == urls["prod"]
    finally:
        connections.close()
        for p in (management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE, name),
                  f"/api/v1/namespaces/{names.FEDERATION_NAMESPACE}/secrets/{name}-kubeconfig"):
            try:
                json_request(mgmt, "DELETE", p)
            except ApiException:
                pass


def test_secret_type_change_and_orphan_delete(reconciler: Reconciler, sandbox: Any, mgmt: Any) -> None:
    project = unique("orph")
    resources.create_project(mgmt, project, ["dev"])
    try:
        resources.create_secret(mgmt, project, "kept", {"username": b"u", "password": b"p"})
        wait_until(lambda: decoded(secret_on(sandbox, "dev", project, "kept"), "username") == "u", timeout=15,
                   message="the Secret on dev")
        path = management_path(names.KIND_FEDERATED_SECRET, project, "kept")
        json_request(mgmt, "PATCH", path, {"spec": {"template": {"type": "kubernetes.io/basic-auth"}}},
                     content_type="application/merge-patch+json")
        wait_until(lambda: (secret_on(sandbox, "dev", project, "kept") or {}).get("type") == "kubernetes.io/basic-auth",
                   timeout=15, message="the Secret type to change on dev")
        json_request(mgmt, "PATCH", path, {"metadata": {"annotations": {names.ANNOTATION_ORPHAN: "true"}}},
                     content_type="application/merge-patch+json")
        resources.delete_secret(mgmt, project, "kept")
        wait_until(lambda: get(mgmt, path) is None, timeout=15, message="the orphaned FederatedSecret to go")
        assert decoded(secret_on(sandbox, "dev", project, "kept"), "password") == "p", "orphan keeps the Secret"
    finally:
        delete_project_and_wait(mgmt, project)
