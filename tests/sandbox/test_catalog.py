"""The sandbox resource catalog: built-in kinds, CRD registration and discovery, unit and through kubectl."""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import pytest

from gitops_tui.sandbox.schema.catalog import BUILTINS, Catalog, version_priority_key
from gitops_tui.sandbox.schema.discovery import aggregated_discovery, discovery

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"],
                  "categories": ["all"]},
        "versions": [
            {"name": "v1beta1", "served": True, "storage": False,
             "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}},
            {"name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
             "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                 "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                 "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}},
            {"name": "v1alpha1", "served": False, "storage": False,
             "schema": {"openAPIV3Schema": {"type": "object"}}},
        ],
    },
}


def test_builtins_cover_the_issue_kinds() -> None:
    catalog = Catalog()
    wanted = {("", "Namespace"), ("", "ConfigMap"), ("", "Secret"), ("", "Service"), ("", "ServiceAccount"),
              ("", "Event"), ("events.k8s.io", "Event"), ("", "Pod"), ("apps", "Deployment"),
              ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("apps", "ReplicaSet"), ("batch", "Job"),
              ("batch", "CronJob"), ("networking.k8s.io", "Ingress"), ("networking.k8s.io", "NetworkPolicy"),
              ("", "PersistentVolumeClaim"), ("autoscaling", "HorizontalPodAutoscaler"),
              ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "RoleBinding"),
              ("rbac.authorization.k8s.io", "ClusterRole"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
              ("coordination.k8s.io", "Lease"), ("apiextensions.k8s.io", "CustomResourceDefinition"),
              ("", "Node"), ("", "ReplicationController"), ("", "Endpoints"), ("discovery.k8s.io", "EndpointSlice"),
              ("policy", "PodDisruptionBudget"), ("apiregistration.k8s.io", "APIService"), ("", "LimitRange"),
              ("", "ResourceQuota"), ("", "PersistentVolume")}
    assert wanted <= {(rt.group, rt.kind) for rt in catalog.all()}
    hpa = catalog.for_kind("autoscaling/v2", "HorizontalPodAutoscaler")
    assert hpa is not None and hpa.plural == "horizontalpodautoscalers"


def test_resource_type_properties() -> None:
    catalog = Catalog()
    deploy = catalog.resolve("apps", "v1", "deployments")
    assert deploy is not None
    assert (deploy.group_version, deploy.list_kind, deploy.storage_key) == ("apps/v1", "DeploymentList",
                                                                            ("apps", "deployments"))
    ns = catalog.resolve("", "v1", "namespaces")
    assert ns is not None and ns.group_version == "v1" and not ns.namespaced and ns.short_names == ("ns",)
    events_v1 = catalog.resolve("events.k8s.io", "v1", "events")
    assert events_v1 is not None and events_v1.storage_key == ("", "events")
    assert catalog.resolve("apps", "v1", "nothings") is None
    assert catalog.for_kind("v1", "Deployment") is None


@pytest.mark.parametrize("group,plural,has_status", [
    ("", "namespaces", True), ("", "pods", True), ("", "services", True), ("apps", "deployments", True),
    ("batch", "cronjobs", True), ("", "persistentvolumeclaims", True), ("apiextensions.k8s.io",
                                                                        "customresourcedefinitions", True),
    ("", "configmaps", False), ("", "secrets", False), ("", "events", False),
    ("rbac.authorization.k8s.io", "roles", False), ("coordination.k8s.io", "leases", False),
    ("", "serviceaccounts", False),
])
def test_status_subresource_follows_kubernetes(group: str, plural: str, has_status: bool) -> None:
    rt = next(r for r in BUILTINS if r.group == group and r.plural == plural)
    assert ("status" in rt.subresources) is has_status


def test_legacy_discovery_documents() -> None:
    catalog = Catalog()
    assert discovery(catalog, "/api") == {"kind": "APIVersions", "versions": ["v1"],
                                         "serverAddressByClientCIDRs": []}
    core = discovery(catalog, "/api/v1")
    assert core is not None and core["kind"] == "APIResourceList" and core["groupVersion"] == "v1"
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["pods"]["shortNames"] == ["po"] and by_name["pods"]["categories"] == ["all"]
    assert by_name["pods/status"] == {"name": "pods/status", "singularName": "", "namespaced": True,
                                      "kind": "Pod", "verbs": ["get", "patch", "update"]}
    assert "configmaps/status" not in by_name
    assert by_name["namespaces"]["namespaced"] is False
    assert set(by_name["secrets"]["verbs"]) >= {"create", "delete", "get", "list", "patch", "update", "watch"}
    apps = discovery(catalog, "/apis/apps/v1")
    assert apps is not None
    names = {r["name"]: r for r in apps["resources"]}
    assert "deployments/status" in names
    assert names["deployments/scale"]["kind"] == "Scale" and names["deployments/scale"]["group"] == "autoscaling"
    groups = discovery(catalog, "/apis")
    assert groups is not None and groups["kind"] == "APIGroupList"
    rbac = next(g for g in groups["groups"] if g["name"] == "rbac.authorization.k8s.io")
    assert rbac["preferredVersion"] == {"groupVersion": "rbac.authorization.k8s.io/v1", "version": "v1"}
    group = discovery(catalog, "/apis/batch")
    assert group is not None and group["kind"] == "APIGroup" and group["versions"][0]["version"] == "v1"
    for missing in ("/apis/example.com", "/apis/apps/v2", "/api/v2", "/apis/apps/v1/deployments", "/foo"):
        assert discovery(catalog, missing) is None, missing


def test_version_priority_order() -> None:
    versions = ["v1alpha1", "foo", "v2", "v1beta2", "v1", "v10", "v1beta1", "v2alpha3"]
    assert sorted(versions, key=version_priority_key) == [
        "v10", "v2", "v1", "v1beta2", "v1beta1", "v2alpha3", "v1alpha1", "foo"]


def test_crd_registration_replacement_and_removal() -> None:
    catalog = Catalog()
    generation = catalog.generation
    registered = catalog.apply_crd(WIDGET_CRD)
    assert {rt.version for rt in registered} == {"v1", "v1beta1"}
    assert catalog.generation > generation
    v1 = catalog.resolve("example.com", "v1", "widgets")
    assert v1 is not None and v1.is_crd and v1.subresources == frozenset({"status"}) and v1.short_names == ("wd",)
    assert catalog.resolve("example.com", "v1alpha1", "widgets") is None
    assert discovery(catalog, "/apis/example.com")["preferredVersion"]["version"] == "v1"
    listed = discovery(catalog, "/apis/example.com/v1")
    assert [r["name"] for r in listed["resources"]] == ["widgets", "widgets/status"]
    assert listed["resources"][0]["categories"] == ["all"]
    # CRD groups (priority 1000) come after the built-in groups and before metrics-server's (priority 100)
    assert [g["name"] for g in discovery(catalog, "/apis")["groups"]][-2:] == ["example.com", "metrics.k8s.io"]

    changed = copy.deepcopy(WIDGET_CRD)
    changed["spec"]["versions"] = [v for v in changed["spec"]["versions"] if v["name"] == "v1"]
    changed["spec"]["scope"] = "Cluster"
    catalog.apply_crd(changed)
    assert catalog.resolve("example.com", "v1beta1", "widgets") is None
    assert catalog.resolve("example.com", "v1", "widgets").namespaced is False

    catalog.remove_crd(changed)
    assert catalog.resolve("example.com", "v1", "widgets") is None
    assert discovery(catalog, "/apis/example.com") is None
    assert "example.com" not in [g["name"] for g in discovery(catalog, "/apis")["groups"]]


def test_crd_never_shadows_a_builtin() -> None:
    catalog = Catalog()
    rogue = copy.deepcopy(WIDGET_CRD)
    rogue["metadata"]["name"] = "deployments.apps"
    rogue["spec"].update(group="apps", names={"plural": "deployments", "kind": "Deployment"})
    catalog.apply_crd(rogue)
    assert not catalog.resolve("apps", "v1", "deployments").is_crd
    catalog.remove_crd(rogue)
    assert catalog.resolve("apps", "v1", "deployments") is not None


def test_catalog_is_thread_safe() -> None:
    catalog = Catalog()
    errors: list[BaseException] = []

    def churn(index: int) -> None:
        crd = copy.deepcopy(WIDGET_CRD)
        crd["metadata"]["name"] = f"widgets{index}.example.com"
        crd["spec"]["names"]["plural"] = f"widgets{index}"
        try:
            for _ in range(50):
                catalog.apply_crd(crd)
                discovery(catalog, "/apis")
                discovery(catalog, "/apis/example.com/v1")
                catalog.remove_crd(crd)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=churn, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert discovery(catalog, "/apis/example.com") is None


# ---- through kubectl against the real sandbox server --------------------------------------------

def test_kubectl_api_resources_lists_builtins(kubectl: Any) -> None:
    out = kubectl("api-resources", "-o", "wide").stdout
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    for plural in ("deployments", "horizontalpodautoscalers", "leases", "customresourcedefinitions",
                   "clusterrolebindings", "networkpolicies"):
        assert plural in lines, out
    assert " deploy " in lines["deployments"] and "apps/v1" in lines["deployments"]
    assert "crd,crds" in lines["customresourcedefinitions"]
    namespaced = kubectl("api-resources", "--namespaced=false", "-o", "name").stdout.split()
    assert "namespaces" in namespaced and "clusterroles.rbac.authorization.k8s.io" in namespaced
    assert "pods" not in namespaced


def test_kubectl_sees_crd_kinds_come_and_go(kubectl: Any) -> None:
    crd = copy.deepcopy(WIDGET_CRD)
    crd["metadata"]["name"] = "gadgets.example.org"
    crd["spec"]["group"] = "example.org"
    crd["spec"]["names"] = {"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "shortNames": ["gd"]}
    kubectl("apply", "-f", "-", input=json.dumps(crd))
    kubectl("create", "namespace", "catalog-crd")
    gadget = {"apiVersion": "example.org/v1", "kind": "Gadget",
              "metadata": {"name": "g1", "namespace": "catalog-crd"}, "spec": {"size": 2}}
    kubectl("apply", "-f", "-", input=json.dumps(gadget))
    assert "gadgets" in kubectl("api-resources", "--api-group=example.org").stdout
    listed = kubectl("get", "gd", "-A").stdout
    assert "catalog-crd" in listed and "g1" in listed
    kubectl("delete", "crd", "gadgets.example.org")
    assert "gadgets" not in kubectl("api-resources").stdout
    gone = kubectl("get", "gadgets.example.org", "-A", check=False)
    assert gone.returncode != 0 and "doesn't have a resource type" in gone.stderr


def test_aggregated_discovery_documents() -> None:
    catalog = Catalog()
    catalog.apply_crd(WIDGET_CRD)
    core = aggregated_discovery(catalog, "/api")
    assert core["kind"] == "APIGroupDiscoveryList" and core["apiVersion"] == "apidiscovery.k8s.io/v2"
    assert [item["metadata"]["name"] for item in core["items"]] == [""]
    pods = next(r for r in core["items"][0]["versions"][0]["resources"] if r["resource"] == "pods")
    assert pods["scope"] == "Namespaced" and pods["shortNames"] == ["po"]
    assert {s["subresource"]: (s["verbs"], s["responseKind"]["kind"]) for s in pods["subresources"]} == {
        "binding": (["create"], "Binding"), "exec": (["create", "get"], "PodExecOptions"),
        "log": (["get"], "Pod"), "status": (["get", "patch", "update"], "Pod")}
    groups = aggregated_discovery(catalog, "/apis")
    widget_group = next(item for item in groups["items"] if item["metadata"]["name"] == "example.com")
    assert [v["version"] for v in widget_group["versions"]] == ["v1", "v1beta1"]
    apps = next(item for item in groups["items"] if item["metadata"]["name"] == "apps")
    deploy = next(r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments")
    scale = next(s for s in deploy["subresources"] if s["subresource"] == "scale")
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    assert aggregated_discovery(catalog, "/apis/apps") is None
