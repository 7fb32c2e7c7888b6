"""Server-side apply and managedFields bookkeeping of the sandbox, without a server."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from gitops_tui.sandbox.apply.fieldmanager import (
    ApplyConflict,
    ApplyError,
    Conflict,
    apply,
    record_update,
)
from gitops_tui.sandbox.apply.fieldpaths import decode_fields_v1, encode_fields_v1, path_string


def deployment(containers: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    """An apply configuration of Deployment apps/web."""
    body: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "Deployment",
                            "metadata": {"name": "web", "namespace": "apps"}, "spec": dict(spec)}
    if containers is not None:
        body["spec"]["template"] = {"spec": {"containers": containers}}
    return body


def entry(obj: dict[str, Any], manager: str, operation: str = "Apply") -> dict[str, Any]:
    """The managedFields entry of ``manager``."""
    found = [e for e in obj["metadata"].get("managedFields", [])
             if e["manager"] == manager and e["operation"] == operation]
    assert len(found) == 1, f"no single {operation} entry for {manager}: {obj['metadata']}"
    return found[0]


def managers(obj: dict[str, Any]) -> list[str]:
    """Managers named in managedFields, in order."""
    return [e["manager"] for e in obj["metadata"].get("managedFields", [])]


def containers(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The pod template containers by name."""
    return {c["name"]: c for c in obj["spec"]["template"]["spec"]["containers"]}


FULL = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "apps", "labels": {"app": "web"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "main", "image": "nginx:1.27",
                                     "ports": [{"containerPort": 80}]}]},
        },
    },
}


def test_apply_creates_with_fields_v1_exactly_as_kubernetes_writes_it() -> None:
    obj = apply(None, FULL, "kubectl", force=False, now="2026-01-01T00:00:00Z")
    assert obj["spec"] == FULL["spec"]
    assert obj["metadata"]["managedFields"] == [{
        "manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1",
        "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
        "fieldsV1": {
            "f:metadata": {"f:labels": {"f:app": {}}},
            "f:spec": {
                "f:replicas": {},
                "f:selector": {},
                "f:template": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {"f:containers": {'k:{"name":"main"}': {
                        ".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {
                            ".": {}, "f:containerPort": {}}},
                    }}},
                },
            },
        },
    }]
    # the JSON text of the field set keys is Kubernetes' compact form
    assert '"k:{\\"name\\":\\"main\\"}"' in json.dumps(obj["metadata"]["managedFields"])


def test_server_owned_metadata_and_status_are_never_in_a_field_set() -> None:
    config = copy.deepcopy(FULL)
    config["metadata"].update(uid="u1", resourceVersion="7", generation=3,
                              creationTimestamp="2026-01-01T00:00:00Z", selfLink="/x",
                              managedFields=[{"manager": "evil", "operation": "Apply"}])
    config["status"] = {"replicas": 2}
    obj = apply(None, config, "m", force=False, now="t", ignore_status=True)
    fields = entry(obj, "m")["fieldsV1"]
    assert set(fields["f:metadata"]) == {"f:labels"}
    assert "f:status" not in fields and "status" not in obj
    assert managers(obj) == ["m"]
    with_status = apply(None, config, "m", force=False, now="t")
    assert "f:status" in entry(with_status, "m")["fieldsV1"]


def test_two_managers_own_different_fields_and_a_third_conflicts_unless_forced() -> None:
    obj = apply(None, deployment(replicas=2), "alice", force=False, now="t1")
    obj = apply(obj, deployment([{"name": "main", "image": "nginx:1"}]), "bob",
                force=False, now="t2")
    assert obj["spec"]["replicas"] == 2 and containers(obj)["main"]["image"] == "nginx:1"
    assert entry(obj, "alice")["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:template" in entry(obj, "bob")["fieldsV1"]["f:spec"]

    third = deployment([{"name": "main", "image": "nginx:2"}], replicas=5)
    with pytest.raises(ApplyConflict) as raised:
        apply(obj, third, "carol", force=False, now="t3")
    assert raised.value.conflicts == [
        Conflict("alice", ".spec.replicas"),
        Conflict("bob", '.spec.template.spec.containers[name="main"].image'),
    ]
    assert str(raised.value) == (
        'Apply failed with 2 conflicts: conflicts with "alice":\n- .spec.replicas\n'
        'conflicts with "bob":\n- .spec.template.spec.containers[name="main"].image'
    )
    assert raised.value.causes()[0] == {"reason": "FieldManagerConflict",
                                        "message": 'conflict with "alice"',
                                        "field": ".spec.replicas"}

    forced = apply(obj, third, "carol", force=True, now="t3")
    assert forced["spec"]["replicas"] == 5
    assert containers(forced)["main"]["image"] == "nginx:2"
    assert "alice" not in managers(forced)  # its only field moved to carol
    bob = decode_fields_v1(entry(forced, "bob")["fieldsV1"])
    assert ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"main"}',
            "f:image") not in bob
    assert ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"main"}',
            "f:name") in bob
    carol = decode_fields_v1(entry(forced, "carol")["fieldsV1"])
    assert ("f:spec", "f:replicas") in carol


def test_one_conflict_message_is_worded_like_kube_apiserver() -> None:
    obj = apply(None, deployment(replicas=2), "alice", force=False, now="t1")
    with pytest.raises(ApplyConflict) as raised:
        apply(obj, deployment(replicas=3), "bob", force=False, now="t2")
    assert str(raised.value) == 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas'


def test_same_value_is_shared_ownership_without_conflict() -> None:
    obj = apply(None, deployment(replicas=2), "alice", force=False, now="t1")
    obj = apply(obj, deployment(replicas=2), "bob", force=False, now="t2")
    assert managers(obj) == ["alice", "bob"]
    # alice drops replicas: bob still owns it, so it stays
    obj = apply(obj, deployment(paused=False), "alice", force=False, now="t3")
    assert obj["spec"]["replicas"] == 2
    # bob drops it too: now nobody owns it and it disappears
    obj = apply(obj, deployment(minReadySeconds=1), "bob", force=False, now="t4")
    assert "replicas" not in obj["spec"]
    assert obj["spec"] == {"paused": False, "minReadySeconds": 1}


def test_field_dropped_by_its_only_owner_disappears() -> None:
    config = copy.deepcopy(FULL)
    config["metadata"]["annotations"] = {"team": "blue"}
    obj = apply(None, config, "alice", force=False, now="t1")
    assert obj["metadata"]["annotations"] == {"team": "blue"}
    again = apply(obj, FULL, "alice", force=False, now="t2")
    assert "annotations" not in again["metadata"]
    assert again["metadata"]["labels"] == {"app": "web"}
    assert again["metadata"]["name"] == "web"


def test_field_owned_by_an_update_manager_survives_the_appliers_drop() -> None:
    obj = apply(None, deployment(replicas=2, paused=True), "alice", force=False, now="t1")
    edited = copy.deepcopy(obj)
    edited["spec"]["paused"] = False
    edited = record_update(obj, edited, "kubectl-edit", now="t2")
    assert decode_fields_v1(entry(edited, "kubectl-edit", "Update")["fieldsV1"]) == {
        ("f:spec", "f:paused")}
    assert ("f:spec", "f:paused") not in decode_fields_v1(entry(edited, "alice")["fieldsV1"])
    after = apply(edited, deployment(replicas=2), "alice", force=False, now="t3")
    assert after["spec"]["paused"] is False


def test_sidecar_added_by_another_manager_survives_an_apply_listing_only_main() -> None:
    main = {"name": "main", "image": "nginx:1", "env": [{"name": "A", "value": "1"}]}
    obj = apply(None, deployment([main]), "gitops", force=False, now="t1")
    sidecar = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": {"containers": [
                   {"name": "envoy", "image": "envoy:1"}]}}}}
    obj = apply(obj, sidecar, "mesh-injector", force=False, now="t2")
    assert list(containers(obj)) == ["main", "envoy"]
    again = apply(obj, deployment([dict(main, image="nginx:2")]), "gitops", force=False, now="t3")
    assert list(containers(again)) == ["main", "envoy"]
    assert containers(again)["main"]["image"] == "nginx:2"
    assert containers(again)["envoy"] == {"name": "envoy", "image": "envoy:1"}
    # a container gitops drops is removed, env items merge by name
    two = apply(again, deployment([dict(main, env=[{"name": "B", "value": "2"}])]), "gitops",
                force=False, now="t4")
    assert containers(two)["main"]["env"] == [{"name": "B", "value": "2"}]


def test_container_dropped_by_its_applier_is_removed_but_others_stay() -> None:
    obj = apply(None, deployment([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]),
                "gitops", force=False, now="t1")
    obj = apply(obj, deployment([{"name": "a", "image": "x"}]), "gitops", force=False, now="t2")
    assert list(containers(obj)) == ["a"]
    fields = entry(obj, "gitops")["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert list(fields) == ['k:{"name":"a"}']


def test_ports_and_service_ports_are_keyed_with_default_protocol() -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"ports": [{"port": 80, "targetPort": 8080},
                              {"port": 53, "protocol": "UDP"}]}}
    obj = apply(None, svc, "a", force=False, now="t")
    keys = list(entry(obj, "a")["fieldsV1"]["f:spec"]["f:ports"])
    assert keys == ['k:{"port":53,"protocol":"UDP"}', 'k:{"port":80,"protocol":"TCP"}']
    other = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
             "spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 9090}]}}
    with pytest.raises(ApplyConflict) as raised:
        apply(obj, other, "b", force=False, now="t")
    assert raised.value.conflicts == [
        Conflict("a", '.spec.ports[port=80,protocol="TCP"].targetPort')]


def test_finalizers_are_a_set_with_value_elements() -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "c", "finalizers": ["example.com/x"]}, "data": {"k": "v"}}
    obj = apply(None, config, "a", force=False, now="t")
    assert entry(obj, "a")["fieldsV1"]["f:metadata"] == {
        "f:finalizers": {'v:"example.com/x"': {}}}
    config2 = copy.deepcopy(config)
    config2["metadata"]["finalizers"] = ["example.com/y"]
    obj = apply(obj, config2, "b", force=False, now="t")
    assert obj["metadata"]["finalizers"] == ["example.com/x", "example.com/y"]


def test_atomic_lists_conflict_as_a_whole() -> None:
    base = deployment([{"name": "main", "image": "x", "args": ["--a"]}])
    obj = apply(None, base, "a", force=False, now="t")
    with pytest.raises(ApplyConflict) as raised:
        apply(obj, deployment([{"name": "main", "args": ["--b"]}]), "b", force=False, now="t")
    assert [c.field for c in raised.value.conflicts] == [
        '.spec.template.spec.containers[name="main"].args']


def test_record_update_gives_ownership_and_takes_it_from_others() -> None:
    obj = apply(None, FULL, "gitops", force=False, now="t1")
    scaled = copy.deepcopy(obj)
    scaled["spec"]["replicas"] = 4
    scaled["metadata"]["labels"]["tier"] = "front"
    scaled = record_update(obj, scaled, "kubectl-scale", now="t2")
    update = entry(scaled, "kubectl-scale", "Update")
    assert update["apiVersion"] == "apps/v1" and update["time"] == "t2"
    assert update["fieldsV1"] == {"f:metadata": {"f:labels": {"f:tier": {}}},
                                  "f:spec": {"f:replicas": {}}}
    assert ("f:spec", "f:replicas") not in decode_fields_v1(entry(scaled, "gitops")["fieldsV1"])
    assert [e["operation"] for e in scaled["metadata"]["managedFields"]] == ["Apply", "Update"]
    # the applier now conflicts with the Update manager, worded with its apiVersion
    with pytest.raises(ApplyConflict) as raised:
        apply(scaled, FULL, "gitops", force=False, now="t3")
    assert str(raised.value) == (
        'Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas')
    # an update that changes nothing leaves managedFields alone
    same = record_update(scaled, copy.deepcopy(scaled), "other", now="t9")
    assert same["metadata"]["managedFields"] == scaled["metadata"]["managedFields"]


def test_record_update_on_create_owns_everything_it_set() -> None:
    new = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "c", "namespace": "d", "labels": {"a": "b"}, "uid": "x"},
           "data": {"k": "v"}}
    obj = record_update(None, new, "kubectl-create", now="t")
    assert obj["metadata"]["managedFields"] == [{
        "manager": "kubectl-create", "operation": "Update", "apiVersion": "v1", "time": "t",
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {".": {}, "f:k": {}}, "f:metadata": {"f:labels": {".": {}, "f:a": {}}}},
    }]
    assert "managedFields" not in new["metadata"]  # input untouched


def test_record_update_removal_takes_fields_from_owners_and_reset_clears() -> None:
    obj = apply(None, deployment(replicas=2, paused=True), "a", force=False, now="t")
    removed = copy.deepcopy(obj)
    del removed["spec"]["paused"]
    removed = record_update(obj, removed, "editor", now="t2")
    assert decode_fields_v1(entry(removed, "a")["fieldsV1"]) == {("f:spec", "f:replicas")}
    assert "editor" not in managers(removed)
    reset = copy.deepcopy(removed)
    reset["metadata"]["managedFields"] = [{}]
    assert "managedFields" not in record_update(removed, reset, "x", now="t3")["metadata"]


def test_status_subresource_updates_own_status_only() -> None:
    obj = apply(None, FULL, "gitops", force=False, now="t", ignore_status=True)
    new = copy.deepcopy(obj)
    new["status"] = {"replicas": 2, "conditions": [{"type": "Available", "status": "True"}]}
    out = record_update(obj, new, "simulator", now="t2", subresource="status")
    e = entry(out, "simulator", "Update")
    assert e["subresource"] == "status"
    assert e["fieldsV1"] == {"f:status": {"f:conditions": {
        ".": {}, 'k:{"type":"Available"}': {".": {}, "f:status": {}, "f:type": {}}},
        "f:replicas": {}}}
    # a main-resource update of a kind with a status subresource ignores status
    main = record_update(obj, new, "x", now="t3", ignore_status=True)
    assert "x" not in managers(main)


def test_apply_to_object_without_managed_fields_conflicts_with_before_first_apply() -> None:
    live = copy.deepcopy(FULL)
    with pytest.raises(ApplyConflict) as raised:
        apply(live, deployment(replicas=9), "a", force=False, now="t")
    assert raised.value.conflicts == [Conflict("before-first-apply", ".spec.replicas", "Update",
                                               "apps/v1")]
    obj = apply(live, deployment(replicas=2), "a", force=False, now="t")
    assert managers(obj) == ["a", "before-first-apply"]


def test_invalid_apply_configurations_are_rejected() -> None:
    with pytest.raises(ApplyError, match="omits key field 'name'"):
        apply(None, deployment([{"image": "x"}]), "a", force=False, now="t")
    with pytest.raises(ApplyError, match=r'duplicate entries for key \[name="x"\]'):
        apply(None, deployment([{"name": "x"}, {"name": "x"}]), "a", force=False, now="t")
    with pytest.raises(ApplyError, match="fieldManager is required"):
        apply(None, deployment(), "", force=False, now="t")


def test_inputs_are_never_mutated_and_time_kept_when_nothing_changes() -> None:
    obj = apply(None, FULL, "a", force=False, now="t1")
    live, config = copy.deepcopy(obj), copy.deepcopy(FULL)
    again = apply(live, config, "a", force=False, now="t2")
    assert live == obj and config == FULL
    assert again == obj  # same object, same managedFields, same time
    again["metadata"]["labels"]["x"] = "y"
    assert "x" not in obj["metadata"]["labels"]


def test_shared_order_and_new_items_follow_the_config() -> None:
    obj = apply(None, deployment([{"name": "a"}, {"name": "b"}]), "m", force=False, now="t")
    obj = apply(obj, deployment([{"name": "b"}, {"name": "c"}, {"name": "a"}]), "m",
                force=False, now="t")
    assert list(containers(obj)) == ["b", "c", "a"]


def test_paths_print_and_encode_like_structured_merge_diff() -> None:
    path = ("f:spec", "f:ports", 'k:{"port":80,"protocol":"TCP"}', "f:name")
    assert path_string(path) == '.spec.ports[port=80,protocol="TCP"].name'
    assert path_string(("f:metadata", "f:finalizers", 'v:"a"')) == '.metadata.finalizers[="a"]'
    fields = {("f:a",), ("f:b", "k:{\"x\":1}"), ("f:b", "k:{\"x\":1}", "f:y")}
    encoded = encode_fields_v1(fields)
    assert encoded == {"f:a": {}, "f:b": {'k:{"x":1}': {".": {}, "f:y": {}}}}
    assert decode_fields_v1(encoded) == fields


def test_resent_managed_fields_with_other_time_format_still_record_the_update() -> None:
    obj = apply(None, deployment(replicas=2), "a", force=False, now="2026-01-01T00:00:00Z")
    new = copy.deepcopy(obj)
    new["metadata"]["managedFields"][0]["time"] = "2026-01-01T00:00:00+00:00"  # typed client
    new["spec"]["replicas"] = 3
    out = record_update(obj, new, "typed-client", now="t2")
    assert entry(out, "typed-client", "Update")["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "a" not in managers(out)


def test_item_partly_owned_by_another_manager_keeps_its_key_when_dropped() -> None:
    obj = apply(None, deployment([{"name": "main", "image": "a"}, {"name": "side", "image": "s"}]),
                "gitops", force=False, now="t1")
    edited = copy.deepcopy(obj)
    edited["spec"]["template"]["spec"]["containers"][1]["image"] = "s2"
    edited = record_update(obj, edited, "kubectl-edit", now="t2")
    after = apply(edited, deployment([{"name": "main", "image": "a"}]), "gitops",
                  force=False, now="t3")
    assert containers(after)["side"] == {"name": "side", "image": "s2"}


def test_null_in_an_apply_config_removes_the_field_and_owns_it() -> None:
    obj = apply(None, deployment(replicas=2, paused=True), "a", force=False, now="t")
    out = apply(obj, deployment(replicas=2, paused=None), "a", force=False, now="t2")
    assert "paused" not in out["spec"]
    assert ("f:spec", "f:paused") in decode_fields_v1(entry(out, "a")["fieldsV1"])


def test_malformed_live_keyed_list_is_treated_as_atomic() -> None:
    live = record_update(None, deployment([{"image": "no-name"}]), "legacy", now="t")
    fields = decode_fields_v1(entry(live, "legacy", "Update")["fieldsV1"])
    assert ("f:spec", "f:template", "f:spec", "f:containers") in fields
    out = apply(live, deployment([{"name": "main", "image": "x"}]), "a", force=True, now="t2")
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "main", "image": "x"}]
    assert "legacy" not in managers(out)
