"""Registers the sandbox's workload clusters as KubeFedClusters and seeds the demo project."""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.api import builders, names
from gitops_tui.api.crds import crd_manifests
from gitops_tui.sandbox.demo_repo import demo_repo_path, demo_work_path, make_demo_repo  # noqa: F401 - seed keeps its names

log = logging.getLogger(__name__)

SEED_MANAGER = "gitops-tui-sandbox"
DEMO_PROJECT = "demo"
DEMO_SOURCE = "podinfo"
DEMO_SECRET = "git-credentials"
SANDBOX_LABEL = "gitops-tui.io/sandbox"

@dataclass(frozen=True)
class ClusterAccess:
    """How to reach one workload cluster: name, URL, bearer token."""

    name: str
    url: str
    token: str


def cluster_kubeconfig(access: ClusterAccess, ca_cert: Path) -> str:
    """Return a self-contained kubeconfig (token and CA inline) for one workload cluster."""
    from gitops_tui.sandbox.kubeconfig import KubeconfigEntry, build_kubeconfig

    doc = build_kubeconfig([KubeconfigEntry(access.name, access.url, access.token)], ca_cert, access.name)
    return yaml.safe_dump(doc, sort_keys=False)


def _management(kubeconfig: Path) -> Any:
    from gitops_tui.kube.client import api_client_from_kubeconfig, dynamic_client

    return dynamic_client(api_client_from_kubeconfig(kubeconfig, "management"))


def is_subset(desired: Any, live: Any) -> bool:
    """True when every field of `desired` has the same value in `live` (server defaults ignored)."""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(is_subset(v, live.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        return (isinstance(live, list) and len(live) == len(desired)
                and all(is_subset(d, x) for d, x in zip(desired, live, strict=True)))
    return desired == live


def _apply(dynamic: Any, obj: dict[str, Any], timeout: float = 20.0) -> dict:
    """Server-side apply `obj` unless the live object already matches it (no write, no event).

    Waits (bounded) for a just-created CRD's kind to be served.
    """
    from gitops_tui.kube.apply import UnknownKind, apply_object, get_object

    deadline = time.monotonic() + timeout
    meta = obj["metadata"]
    while True:
        try:
            live = get_object(dynamic, obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
            if live is not None and is_subset(obj, live):
                return live
            return apply_object(dynamic, obj, field_manager=SEED_MANAGER)
        except UnknownKind:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _namespace(name: str, project: str = "") -> dict[str, Any]:
    labels = {"labels": {names.LABEL_PROJECT: project}} if project else {}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, **labels}}


def install_crds(dynamic: Any) -> None:
    """Apply the management CRDs and the system namespaces."""
    for crd in crd_manifests():
        _apply(dynamic, crd)
    for ns in (names.FEDERATION_NAMESPACE, names.SYSTEM_NAMESPACE):
        _apply(dynamic, _namespace(ns))


def reconciler_access(kubeconfig: Path, access: ClusterAccess) -> ClusterAccess:
    """The access stored for a workload cluster: a ServiceAccount token with the reconciler's rules there, made as
    ``attach cluster`` makes it (kube/join.py), never the cluster's admin token."""
    from gitops_tui.kube.client import api_client_from_kubeconfig
    from gitops_tui.kube.join import grant_service_account

    member = api_client_from_kubeconfig(kubeconfig, access.name)
    try:
        return ClusterAccess(access.name, access.url, grant_service_account(member, access.name))
    finally:
        member.close()


def register_clusters(kubeconfig: Path, clusters: list[ClusterAccess], ca_cert: Path) -> None:
    """Create or update a kubeconfig Secret (a ServiceAccount token of the reconciler) and a KubeFedCluster for each
    workload cluster."""
    dynamic = _management(kubeconfig)
    install_crds(dynamic)
    ca_bundle = base64.b64encode(Path(ca_cert).read_bytes()).decode("ascii")
    for access in clusters:
        secret_name = f"{access.name}-kubeconfig"
        text = cluster_kubeconfig(reconciler_access(kubeconfig, access), ca_cert)
        _apply(dynamic, {
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": secret_name, "namespace": names.FEDERATION_NAMESPACE,
                         "labels": {SANDBOX_LABEL: "true"}},
            "type": "Opaque",
            "data": {names.KUBECONFIG_SECRET_KEY: base64.b64encode(text.encode()).decode("ascii")},
        })
        cluster = builders.new_kubefed_cluster(access.name, access.url, secret_name,
                                               labels={SANDBOX_LABEL: "true"})
        cluster["spec"]["caBundle"] = ca_bundle
        _apply(dynamic, cluster)
    _forget_removed(dynamic, {c.name for c in clusters})
    log.info("registered clusters %s", ", ".join(c.name for c in clusters))


def _forget_removed(dynamic: Any, keep: set[str]) -> None:
    """Delete the sandbox's registrations of clusters it no longer serves (not attached ones)."""
    from gitops_tui.kube.apply import delete_object, resolver_for

    resource = resolver_for(dynamic).resource(names.KUBEFED_CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER)
    listing = resource.get(namespace=names.FEDERATION_NAMESPACE, label_selector=f"{SANDBOX_LABEL}=true")
    for item in listing.to_dict().get("items") or []:
        name = item["metadata"]["name"]
        if name in keep:
            continue
        delete_object(dynamic, names.KUBEFED_CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, name,
                      names.FEDERATION_NAMESPACE)
        delete_object(dynamic, "v1", "Secret", f"{name}-kubeconfig", names.FEDERATION_NAMESPACE)
        log.info("unregistered cluster %s (no longer in the sandbox)", name)


def demo_objects(repo_url: str, clusters: list[str]) -> list[dict[str, Any]]:
    """Return the management objects of the demo project, in apply order."""
    secret = builders.new_federated_secret(
        DEMO_SECRET, DEMO_PROJECT, {"username": b"demo", "password": b"demo-not-a-secret"},
        clusters=clusters)
    repository, kustomization = builders.new_source(
        DEMO_SOURCE, DEMO_PROJECT, repo_url, ref={"branch": "main"}, path="./apps",
        secret_ref=DEMO_SECRET, interval="1m", provider="generic", prune=True, clusters=clusters)
    return [
        builders.new_project(DEMO_PROJECT, clusters, display_name="Demo"),
        _namespace(DEMO_PROJECT, project=DEMO_PROJECT),
        secret,
        repository,
        kustomization,
    ]


def seed_demo(kubeconfig: Path, home: Path, clusters: list[str]) -> None:
    """Create the demo git repository and the demo Project, secret and source."""
    repo = make_demo_repo(home)
    dynamic = _management(kubeconfig)
    for obj in demo_objects(str(repo), clusters):
        _apply(dynamic, obj)
    log.info("seeded the demo project")
