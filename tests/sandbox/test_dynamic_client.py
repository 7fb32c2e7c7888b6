"""The official Python client's DynamicClient against a sandbox cluster: REST semantics end to end."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import ConflictError, NotFoundError, ResourceNotFoundError

from tests.waiting import wait_until


def _ns(dynamic_client, name: str) -> None:
    ns = dynamic_client.resources.get(api_version="v1", kind="Namespace")
    ns.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def _deployment(name: str, replicas: int = 1, image: str = "nginx:1.25") -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "main", "image": image}]}}},
    }


@pytest.fixture(scope="module")
def deployments(dynamic_client):
    return dynamic_client.resources.get(api_version="apps/v1", kind="Deployment")


@pytest.fixture(scope="module")
def configmaps(dynamic_client):
    return dynamic_client.resources.get(api_version="v1", kind="ConfigMap")


def test_create_get_replace_delete(dynamic_client, configmaps) -> None:
    _ns(dynamic_client, "dc-crud")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}
    created = configmaps.create(body=body, namespace="dc-crud")
    assert created.metadata.uid and created.metadata.creationTimestamp
    got = configmaps.get(name="c", namespace="dc-crud")
    assert got.metadata.resourceVersion == created.metadata.resourceVersion
    body["metadata"]["resourceVersion"] = created.metadata.resourceVersion
    body["data"] = {"a": "2"}
    replaced = configmaps.replace(body=body, namespace="dc-crud")
    assert int(replaced.metadata.resourceVersion) > int(created.metadata.resourceVersion)
    with pytest.raises(ConflictError) as stale:
        configmaps.replace(body=body, namespace="dc-crud")  # the old resourceVersion again
    assert stale.value.status == 409
    configmaps.delete(name="c", namespace="dc-crud")
    with pytest.raises(NotFoundError):
        configmaps.get(name="c", namespace="dc-crud")


def test_missing_namespace_is_404(configmaps) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    with pytest.raises(NotFoundError) as err:
        configmaps.create(body=body, namespace="no-such-namespace")
    status = json.loads(err.value.body)
    assert status["message"] == 'namespaces "no-such-namespace" not found'
    assert status["reason"] == "NotFound" and status["code"] == 404


def test_generation_and_status_subresource(dynamic_client, deployments) -> None:
    _ns(dynamic_client, "dc-gen")
    created = deployments.create(body=_deployment("web"), namespace="dc-gen")
    assert created.metadata.generation == 1
    labelled = deployments.patch(name="web", namespace="dc-gen", content_type="application/merge-patch+json",
                                 body={"metadata": {"labels": {"extra": "yes"}}})
    assert labelled.metadata.generation == 1, "metadata changes do not bump generation"
    status = deployments.status.patch(name="web", namespace="dc-gen",
                                      content_type="application/merge-patch+json",
                                      body={"status": {"replicas": 1, "readyReplicas": 1},
                                            "spec": {"replicas": 9}})
    assert status.metadata.generation == 1 and status.status.readyReplicas == 1
    assert status.spec.replicas == 1, "a /status write keeps the live spec"
    scaled = deployments.patch(name="web", namespace="dc-gen", content_type="application/merge-patch+json",
                               body={"spec": {"replicas": 3}, "status": {"readyReplicas": 0}})
    assert scaled.metadata.generation == 2
    assert scaled.status.readyReplicas == 1, "a main-resource write keeps the live status"


def test_patch_types(dynamic_client, deployments) -> None:
    _ns(dynamic_client, "dc-patch")
    deployments.create(body=_deployment("web"), namespace="dc-patch")
    smp = {"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "busybox"}]}}}}
    merged = deployments.patch(name="web", namespace="dc-patch", body=smp,
                               content_type="application/strategic-merge-patch+json")
    assert [c.name for c in merged.spec.template.spec.containers] == ["main", "side"]
    ops = [{"op": "replace", "path": "/spec/replicas", "value": 4},
           {"op": "add", "path": "/metadata/labels/tier", "value": "front"}]
    patched = deployments.patch(name="web", namespace="dc-patch", body=ops,
                                content_type="application/json-patch+json")
    assert patched.spec.replicas == 4 and patched.metadata.labels["tier"] == "front"
    with pytest.raises(ApiException) as bad:
        deployments.patch(name="web", namespace="dc-patch", content_type="application/json-patch+json",
                          body=[{"op": "test", "path": "/spec/replicas", "value": 99}])
    assert bad.value.status == 422


def test_server_side_apply_managers_conflicts_force_and_dry_run(dynamic_client, deployments) -> None:
    _ns(dynamic_client, "dc-ssa")
    body = _deployment("api", replicas=2)
    created = deployments.server_side_apply(body=body, namespace="dc-ssa", field_manager="alice")
    assert created.spec.replicas == 2
    with pytest.raises(ConflictError) as err:
        deployments.server_side_apply(body=_deployment("api", replicas=5), namespace="dc-ssa",
                                      field_manager="bob")
    assert "FieldManagerConflict" in err.value.body and ".spec.replicas" in err.value.body
    forced = deployments.server_side_apply(body=_deployment("api", replicas=5), namespace="dc-ssa",
                                           field_manager="bob", force_conflicts=True)
    assert forced.spec.replicas == 5
    managers = {m.manager for m in forced.metadata.managedFields}
    assert managers == {"alice", "bob"}

    labelled = _deployment("api", replicas=2)
    labelled["metadata"]["labels"]["team"] = "a"
    del labelled["spec"]["replicas"]
    deployments.server_side_apply(body=labelled, namespace="dc-ssa", field_manager="alice")
    unlabelled = _deployment("api", replicas=2)
    del unlabelled["spec"]["replicas"]
    dropped = deployments.server_side_apply(body=unlabelled, namespace="dc-ssa", field_manager="alice")
    assert "team" not in dropped.metadata.labels, "a dropped field only alice owned is removed"
    assert dropped.spec.replicas == 5, "bob still owns replicas"

    dry = deployments.server_side_apply(body=_deployment("ghost"), namespace="dc-ssa",
                                        field_manager="alice", dry_run="All")
    assert dry.metadata.name == "ghost"
    with pytest.raises(NotFoundError):
        deployments.get(name="ghost", namespace="dc-ssa")


def test_label_and_field_selectors(dynamic_client, configmaps) -> None:
    _ns(dynamic_client, "dc-sel")
    for name, tier in (("a", "front"), ("b", "back"), ("c", "front")):
        configmaps.create(namespace="dc-sel", body={"apiVersion": "v1", "kind": "ConfigMap",
                                                    "metadata": {"name": name, "labels": {"tier": tier}}})
    front = configmaps.get(namespace="dc-sel", label_selector="tier=front")
    assert [i.metadata.name for i in front.items] == ["a", "c"]
    not_front = configmaps.get(namespace="dc-sel", label_selector="tier notin (front)")
    assert [i.metadata.name for i in not_front.items] == ["b"]
    named = configmaps.get(field_selector="metadata.name=b,metadata.namespace=dc-sel")
    assert [i.metadata.name for i in named.items] == ["b"]
    page = configmaps.get(namespace="dc-sel", limit=2)
    assert len(page.items) == 2 and page.metadata["continue"]
    rest = configmaps.get(namespace="dc-sel", limit=2, _continue=page.metadata["continue"])
    assert [i.metadata.name for i in rest.items] == ["c"]


def test_finalizers_hold_deletion(dynamic_client, configmaps) -> None:
    _ns(dynamic_client, "dc-fin")
    configmaps.create(namespace="dc-fin", body={"apiVersion": "v1", "kind": "ConfigMap",
                                                "metadata": {"name": "held", "finalizers": ["example.com/hold"]}})
    configmaps.delete(name="held", namespace="dc-fin")
    held = configmaps.get(name="held", namespace="dc-fin")
    assert held.metadata.deletionTimestamp
    configmaps.patch(name="held", namespace="dc-fin", content_type="application/merge-patch+json",
                     body={"metadata": {"finalizers": None}})
    with pytest.raises(NotFoundError):
        configmaps.get(name="held", namespace="dc-fin")


def test_namespace_deletion_cascades(dynamic_client, configmaps) -> None:
    namespaces = dynamic_client.resources.get(api_version="v1", kind="Namespace")
    _ns(dynamic_client, "dc-cascade")
    configmaps.create(namespace="dc-cascade", body={"apiVersion": "v1", "kind": "ConfigMap",
                                                    "metadata": {"name": "x"}})
    namespaces.delete(name="dc-cascade")
    wait_until(lambda: not configmaps.get(namespace="dc-cascade").items, timeout=10,
               message="contents of the deleted namespace are gone")
    with pytest.raises(NotFoundError):
        namespaces.get(name="dc-cascade")


def test_crd_served_on_create_and_gone_on_delete(dynamic_client) -> None:
    crds = dynamic_client.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    crds.create(body={
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "sprockets.example.org"},
        "spec": {"group": "example.org", "scope": "Cluster",
                 "names": {"plural": "sprockets", "singular": "sprocket", "kind": "Sprocket"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object",
                                                              "x-kubernetes-preserve-unknown-fields": True}}}]},
    })
    dynamic_client.resources.invalidate_cache()
    sprockets = dynamic_client.resources.get(api_version="example.org/v1", kind="Sprocket")
    sprockets.create(body={"apiVersion": "example.org/v1", "kind": "Sprocket",
                           "metadata": {"name": "s1"}, "spec": {"teeth": 12}})
    assert [i.metadata.name for i in sprockets.get().items] == ["s1"]
    crds.delete(name="sprockets.example.org")
    dynamic_client.resources.invalidate_cache()
    with pytest.raises(ResourceNotFoundError):
        dynamic_client.resources.get(api_version="example.org/v1", kind="Sprocket")


def test_no_op_writes_keep_the_resource_version(dynamic_client, configmaps) -> None:
    _ns(dynamic_client, "dc-noop")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "same"}, "data": {"a": "1"}}
    created = configmaps.create(namespace="dc-noop", body=body)
    patched = configmaps.patch(name="same", namespace="dc-noop", body={"data": {"a": "1"}},
                               content_type="application/merge-patch+json")
    assert patched.metadata.resourceVersion == created.metadata.resourceVersion
    applied = configmaps.server_side_apply(namespace="dc-noop", body=body, field_manager="me")
    again = configmaps.server_side_apply(namespace="dc-noop", body=body, field_manager="me")
    assert again.metadata.resourceVersion == applied.metadata.resourceVersion


def test_core_and_events_api_share_event_storage(dynamic_client) -> None:
    _ns(dynamic_client, "dc-events")
    core = dynamic_client.resources.get(api_version="v1", kind="Event")
    modern = dynamic_client.resources.get(api_version="events.k8s.io/v1", kind="Event")
    core.create(namespace="dc-events", body={
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"},
        "involvedObject": {"kind": "ConfigMap", "name": "cfg", "namespace": "dc-events"},
        "reason": "Tested", "message": "hello", "type": "Normal"})
    seen = modern.get(name="e1", namespace="dc-events")
    assert seen.apiVersion == "events.k8s.io/v1"
    assert seen.regarding.name == "cfg" and seen.note == "hello"
    by_object = core.get(namespace="dc-events", field_selector="involvedObject.name=cfg")
    assert [e.metadata.name for e in by_object.items] == ["e1"]


def test_service_gets_a_stable_cluster_ip(dynamic_client) -> None:
    _ns(dynamic_client, "dc-svc")
    services = dynamic_client.resources.get(api_version="v1", kind="Service")
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    created = services.create(namespace="dc-svc", body=body)
    ip = created.spec.clusterIP
    assert ip.startswith("10.") and created.spec.type == "ClusterIP"
    assert created.spec.ports[0].targetPort == 80 and created.spec.ports[0].protocol == "TCP"
    body["metadata"]["resourceVersion"] = created.metadata.resourceVersion
    body["spec"]["ports"] = [{"port": 8080}]
    replaced = services.replace(namespace="dc-svc", body=body)
    assert replaced.spec.clusterIP == ip and replaced.spec.ports[0].port == 8080
