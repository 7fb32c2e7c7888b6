"""Merge patch, JSON patch, strategic merge patch and list merge keys of the sandbox."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gitops_tui.sandbox.apply.merge_keys import is_set, list_keys, patch_merge_key
from gitops_tui.sandbox.apply.patch import PatchError, json_patch, merge_patch, strategic_merge_patch

# ------------------------------------------------------------------ RFC 7386


@pytest.mark.parametrize(("target", "patch", "result"), [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
])
def test_merge_patch_follows_rfc_7386_examples(target: dict, patch: dict, result: dict) -> None:
    before = copy.deepcopy((target, patch))
    assert merge_patch(target, patch) == result
    assert (target, patch) == before


def test_merge_patch_rejects_a_non_object() -> None:
    with pytest.raises(PatchError):
        merge_patch({}, ["x"])  # type: ignore[arg-type]


# ------------------------------------------------------------------ RFC 6902


DOC = {"metadata": {"labels": {"a/b": "1"}}, "spec": {"list": [1, 2, 3], "x": {"y": True}}}


def test_json_patch_operations() -> None:
    before = copy.deepcopy(DOC)
    out = json_patch(DOC, [
        {"op": "add", "path": "/spec/list/1", "value": 9},
        {"op": "add", "path": "/spec/list/-", "value": 4},
        {"op": "remove", "path": "/spec/list/0"},
        {"op": "replace", "path": "/spec/x/y", "value": False},
        {"op": "copy", "from": "/spec/x", "path": "/spec/z"},
        {"op": "move", "from": "/metadata/labels/a~1b", "path": "/metadata/labels/c~0d"},
        {"op": "test", "path": "/spec/list", "value": [9, 2, 3, 4]},
        {"op": "test", "path": "/metadata/labels/c~0d", "value": "1"},
    ])
    assert out == {"metadata": {"labels": {"c~d": "1"}},
                   "spec": {"list": [9, 2, 3, 4], "x": {"y": False}, "z": {"y": False}}}
    assert DOC == before


@pytest.mark.parametrize(("operations", "message"), [
    ([{"op": "remove", "path": "/spec/missing"}], "does not exist"),
    ([{"op": "replace", "path": "/nope/x", "value": 1}], "does not exist"),
    ([{"op": "add", "path": "/spec/list/7", "value": 1}], "out of range"),
    ([{"op": "add", "path": "/spec/list/01", "value": 1}], "invalid array index"),
    ([{"op": "test", "path": "/spec/x/y", "value": 1}], "test operation failed"),
    ([{"op": "move", "from": "/spec", "path": "/spec/inner"}], "own child"),
    ([{"op": "frobnicate", "path": "/a"}], "unknown JSON patch operation"),
    ([{"path": "/a"}], "has no 'op'"),
    ([{"op": "add", "path": "/a"}], "has no 'value'"),
    ([{"op": "add", "path": "a", "value": 1}], "must start with '/'"),
])
def test_json_patch_errors_are_clear(operations: list, message: str) -> None:
    with pytest.raises(PatchError, match=message):
        json_patch(DOC, operations)


def test_json_patch_must_be_a_list() -> None:
    with pytest.raises(PatchError, match="JSON array"):
        json_patch(DOC, {"op": "add"})  # type: ignore[arg-type]


# ------------------------------------------------------------------ strategic merge patch


def deployment(containers: list[dict[str, Any]], **pod: Any) -> dict[str, Any]:
    """A Deployment with the given containers and pod spec fields."""
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "finalizers": ["a"]},
            "spec": {"replicas": 1,
                     "template": {"spec": {"containers": containers, **pod}}}}


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a Deployment."""
    return obj["spec"]["template"]["spec"]


MAIN = {"name": "main", "image": "nginx:1", "args": ["--a", "--b"],
        "ports": [{"containerPort": 80, "name": "http"}],
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
LIVE = deployment([MAIN, {"name": "sidecar", "image": "envoy"}],
                  volumes=[{"name": "data", "emptyDir": {}}],
                  tolerations=[{"key": "a", "operator": "Exists"}])


def smp(patch: dict[str, Any], target: dict[str, Any] = LIVE) -> dict[str, Any]:
    """Strategic-merge ``patch`` into a Deployment, checking inputs stay untouched."""
    before = copy.deepcopy((target, patch))
    out = strategic_merge_patch(target, patch, "apps/v1", "Deployment")
    assert (target, patch) == before
    return out


def test_containers_env_ports_and_volumes_merge_by_key() -> None:
    out = smp({"spec": {"template": {"spec": {
        "containers": [{"name": "main", "image": "nginx:2",
                        "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
                        "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                       {"name": "new", "image": "busybox"}],
        "volumes": [{"name": "cache", "emptyDir": {}}],
    }}}})
    spec = pod_spec(out)
    assert [c["name"] for c in spec["containers"]] == ["main", "sidecar", "new"]
    main = spec["containers"][0]
    assert main["image"] == "nginx:2" and main["args"] == ["--a", "--b"]
    assert main["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "two"},
                           {"name": "C", "value": "3"}]
    assert main["ports"] == [{"containerPort": 80, "name": "http", "protocol": "TCP"}]
    assert [v["name"] for v in spec["volumes"]] == ["data", "cache"]


def test_lists_without_merge_key_are_replaced_and_null_deletes() -> None:
    out = smp({"spec": {"replicas": None, "template": {"spec": {
        "tolerations": [{"key": "b", "operator": "Exists"}],
        "containers": [{"name": "main", "args": ["--c"], "image": None}]}}}})
    assert "replicas" not in out["spec"]
    assert pod_spec(out)["tolerations"] == [{"key": "b", "operator": "Exists"}]
    main = pod_spec(out)["containers"][0]
    assert main["args"] == ["--c"] and "image" not in main


def test_patch_delete_and_replace_directives() -> None:
    out = smp({"spec": {"template": {"spec": {"containers": [
        {"name": "sidecar", "$patch": "delete"},
        {"name": "main", "env": [{"name": "A", "$patch": "delete"}]}]}}}})
    assert [c["name"] for c in pod_spec(out)["containers"]] == ["main"]
    assert pod_spec(out)["containers"][0]["env"] == [{"name": "B", "value": "2"}]

    replaced = smp({"spec": {"template": {"spec": {"containers": [
        {"name": "only", "image": "x"}, {"$patch": "replace"}]}}}})
    assert pod_spec(replaced)["containers"] == [{"name": "only", "image": "x"}]

    whole_map = smp({"spec": {"template": {"spec": {"$patch": "replace",
                                                    "containers": [{"name": "c"}]}}}})
    assert pod_spec(whole_map) == {"containers": [{"name": "c"}]}

    gone = smp({"spec": {"template": {"$patch": "delete"}}})
    assert "template" not in gone["spec"]


def test_primitive_list_directives_and_finalizer_set() -> None:
    out = smp({"metadata": {"finalizers": ["b", "a"]},
               "spec": {"template": {"spec": {"containers": [
                   {"name": "main", "$deleteFromPrimitiveList/args": ["--a"]}]}}}})
    assert out["metadata"]["finalizers"] == ["a", "b"]
    assert pod_spec(out)["containers"][0]["args"] == ["--b"]
    removed = smp({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert removed["metadata"]["finalizers"] == []


def test_set_element_order_and_retain_keys_are_honoured() -> None:
    out = smp({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "main"}],
        "containers": [{"name": "main", "image": "nginx:3"}]}}}})
    assert [c["name"] for c in pod_spec(out)["containers"]] == ["sidecar", "main"]
    assert pod_spec(out)["containers"][1]["image"] == "nginx:3"
    retained = smp({"spec": {"template": {"spec": {"volumes": [
        {"name": "data", "$retainKeys": ["name", "configMap"], "configMap": {"name": "c"}}]}}}})
    assert pod_spec(retained)["volumes"] == [{"name": "data", "configMap": {"name": "c"}}]


def test_cronjob_and_service_paths_merge_by_key() -> None:
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"jobTemplate": {"spec": {
        "template": {"spec": {"containers": [{"name": "a", "image": "1"}]}}}}}}
    out = strategic_merge_patch(cron, {"spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "containers": [{"name": "b", "image": "2"}]}}}}}}, "batch/v1", "CronJob")
    names = [c["name"] for c in out["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]]
    assert names == ["a", "b"]
    svc = {"apiVersion": "v1", "kind": "Service",
           "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    out = strategic_merge_patch(svc, {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}},
                                "v1", "Service")
    assert out["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443}]


def test_unknown_kinds_replace_lists_and_bad_items_are_errors() -> None:
    crd_obj = {"spec": {"items": [{"name": "a"}]}}
    out = strategic_merge_patch(crd_obj, {"spec": {"items": [{"name": "b"}]}}, "x.io/v1", "Thing")
    assert out["spec"]["items"] == [{"name": "b"}]
    with pytest.raises(PatchError, match="lacks its merge key 'name'"):
        smp({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}})
    with pytest.raises(PatchError, match="unknown \\$patch directive"):
        smp({"spec": {"$patch": "explode"}})


# ------------------------------------------------------------------ merge keys


@pytest.mark.parametrize(("api_version", "kind", "path", "keys"), [
    ("apps/v1", "Deployment", ("spec", "template", "spec", "containers"), ("name",)),
    ("apps/v1", "StatefulSet", ("spec", "template", "spec", "initContainers"), ("name",)),
    ("apps/v1", "DaemonSet", ("spec", "template", "spec", "containers", "ports"),
     ("containerPort", "protocol")),
    ("apps/v1", "ReplicaSet", ("spec", "template", "spec", "containers", "env"), ("name",)),
    ("batch/v1", "Job", ("spec", "template", "spec", "volumes"), ("name",)),
    ("batch/v1", "CronJob", ("spec", "jobTemplate", "spec", "template", "spec", "containers",
                             "volumeMounts"), ("mountPath",)),
    ("v1", "Pod", ("spec", "imagePullSecrets"), ("name",)),
    ("v1", "Pod", ("spec", "ephemeralContainers"), ("name",)),
    ("v1", "Service", ("spec", "ports"), ("port", "protocol")),
    ("v1", "ConfigMap", ("metadata", "ownerReferences"), ("uid",)),
    ("example.io/v1", "Widget", ("status", "conditions"), ("type",)),
    ("apps/v1", "Deployment", ("spec", "template", "spec", "tolerations"), None),
    ("apps/v1", "Deployment", ("spec", "template", "spec", "containers", "envFrom"), None),
    ("v1", "Pod", ("spec", "template", "spec", "containers"), None),
    ("example.io/v1", "Widget", ("spec", "template", "spec", "containers"), None),
])
def test_list_keys_follow_kubernetes_declarations(api_version: str, kind: str,
                                                  path: tuple[str, ...],
                                                  keys: tuple[str, ...] | None) -> None:
    assert list_keys(api_version, kind, path) == keys


def test_patch_merge_keys_and_sets() -> None:
    assert patch_merge_key("apps/v1", "Deployment",
                           ("spec", "template", "spec", "containers", "ports")) == "containerPort"
    assert patch_merge_key("v1", "Service", ("spec", "ports")) == "port"
    assert patch_merge_key("v1", "Pod", ("spec", "tolerations")) is None
    assert is_set("v1", "Secret", ("metadata", "finalizers"))
    assert not is_set("v1", "Namespace", ("spec", "finalizers"))


def test_json_patch_replaces_the_root_and_list_items() -> None:
    assert json_patch({"a": 1}, [{"op": "replace", "path": "", "value": {"b": 2}}]) == {"b": 2}
    out = json_patch({"l": ["x", "y", "z"]}, [{"op": "replace", "path": "/l/1", "value": "Y"}])
    assert out == {"l": ["x", "Y", "z"]}
    with pytest.raises(PatchError, match="JSON object"):
        json_patch({"a": 1}, [{"op": "replace", "path": "", "value": [1]}])


def test_set_element_order_of_a_primitive_list() -> None:
    target = {"metadata": {"finalizers": ["a", "b", "c"]}}
    out = strategic_merge_patch(target, {"metadata": {"$setElementOrder/finalizers": ["c", "a"],
                                                      "finalizers": ["c"]}}, "v1", "ConfigMap")
    assert out["metadata"]["finalizers"] == ["c", "b", "a"]
