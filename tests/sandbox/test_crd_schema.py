"""Custom resources against their CRD's structural schema, as apiextensions-apiserver treats them, with kubectl."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from gitops_tui.sandbox.schema import structural
from tests.waiting import wait_until

SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["size"],
            "properties": {
                "size": {"type": "integer", "minimum": 1, "maximum": 10},
                "ratio": {"type": "number", "exclusiveMaximum": True, "maximum": 1},
                "color": {"type": "string", "enum": ["red", "green"], "default": "red"},
                "replicas": {"type": "integer", "default": 1},
                "name": {"type": "string", "maxLength": 5, "pattern": "^[a-z]+$"},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "string", "minLength": 2}},
                "port": {"x-kubernetes-int-or-string": True},
                "note": {"type": "string", "nullable": True},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                             "x-kubernetes-preserve-unknown-fields": True},
            },
        },
        "status": {"type": "object", "properties": {"replicas": {"type": "integer"}, "phase": {"type": "string"}}},
    },
}
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.strict.example.com"},
    "spec": {"group": "strict.example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": SCHEMA},
                           "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
                                                                    "statusReplicasPath": ".status.replicas"}}}]},
}


def widget(object_name: str, **spec: Any) -> str:
    """A Widget manifest."""
    return yaml.safe_dump({"apiVersion": "strict.example.com/v1", "kind": "Widget",
                           "metadata": {"name": object_name, "namespace": "default"}, "spec": spec})


@pytest.fixture(scope="module")
def widgets(kubectl: Any) -> Any:
    """kubectl, with the Widget CRD served."""
    kubectl("apply", "-f", "-", input=yaml.safe_dump(CRD))
    wait_until(lambda: kubectl("get", "widgets", check=False).returncode == 0, timeout=20,
               message="the Widget CRD is never served")
    return kubectl


def failing(kubectl: Any, *args: str, input: str) -> str:
    """The stderr of a kubectl command that must fail."""
    result = kubectl(*args, input=input, check=False)
    assert result.returncode != 0, result.stdout
    return result.stderr


def test_values_breaking_the_schema_are_refused(widgets: Any) -> None:
    err = failing(widgets, "apply", "-f", "-", input=widget("w-min", size=0))
    assert ('The Widget "w-min" is invalid: spec.size: Invalid value: 0: spec.size in body should be greater than '
            "or equal to 1") in err
    err = failing(widgets, "apply", "-f", "-", input=widget("w-type", size="big"))
    assert 'spec.size: Invalid value: "string": spec.size in body must be of type integer: "big"' in err
    err = failing(widgets, "apply", "--server-side", "-f", "-", input=widget("w-type", size="big"))
    assert ("failed to create typed patch object (default/w-type; strict.example.com/v1, Kind=Widget): "
            ".spec.size: expected numeric (int or float), got string") in err
    err = failing(widgets, "create", "-f", "-", input=widget("w-many", size=11, color="purple", name="TooLong",
                                                             tags=["a", "bb", "cc"], ratio=1, port=True))
    for text in ("spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10",
                 'spec.color: Unsupported value: "purple": supported values: "red", "green"',
                 "spec.name: Too long: may not be longer than 5",
                 "spec.name in body should match '^[a-z]+$'",
                 "spec.tags: Too many: 3: must have at most 2 items",
                 'spec.tags[0]: Invalid value: "a": spec.tags[0] in body should be at least 2 chars long',
                 "spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1",
                 'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "true"'):
        assert text in err, text
    err = failing(widgets, "apply", "-f", "-", input=widget("w-req", color="red"))
    assert "spec.size: Required value" in err
    err = failing(widgets, "apply", "-f", "-", input=widget("w-embed", size=1, template={"metadata": {}}))
    assert "spec.template.apiVersion: Required value: must not be empty" in err
    assert widgets("get", "widgets", "-o", "name").stdout.strip() == ""


def test_undeclared_fields_pruned_or_refused(widgets: Any) -> None:
    bad = widget("w-prune", size=2, shape="round", extra={"anything": {"goes": True}}, note=None, port="http")
    err = failing(widgets, "apply", "-f", "-", input=bad)
    assert ('Widget in version "v1" cannot be handled as a Widget: strict decoding error: '
            'unknown field "spec.shape"') in err
    warned = widgets("apply", "--validate=warn", "-f", "-", input=bad)
    assert 'Warning: unknown field "spec.shape"' in warned.stderr
    spec = json.loads(widgets("get", "widget", "w-prune", "-o", "json").stdout)["spec"]
    assert "shape" not in spec
    assert spec["extra"] == {"anything": {"goes": True}} and spec["port"] == "http"
    assert spec["color"] == "red" and spec["replicas"] == 1  # defaults applied
    err = failing(widgets, "apply", "--server-side", "-f", "-", input=bad)
    assert ".spec.shape: field not declared in schema" in err


def test_status_and_scale_subresources(widgets: Any) -> None:
    widgets("apply", "-f", "-", input=widget("w-sub", size=3))
    widgets("patch", "widget", "w-sub", "--type=merge", "-p", '{"status":{"phase":"Ignored"}}')
    live = json.loads(widgets("get", "widget", "w-sub", "-o", "json").stdout)
    assert "status" not in live  # the main resource ignores status when the status subresource is on
    widgets("patch", "widget", "w-sub", "--subresource=status", "--type=merge", "-p",
            '{"status":{"phase":"Ready","replicas":1}}')
    widgets("scale", "widget", "w-sub", "--replicas=4")
    live = json.loads(widgets("get", "widget", "w-sub", "-o", "json").stdout)
    assert live["status"]["phase"] == "Ready" and live["spec"]["replicas"] == 4
    err = failing(widgets, "patch", "widget", "w-sub", "--subresource=status", "--type=merge", "-p",
                  '{"status":{"replicas":"many"}}', input="")
    assert 'status.replicas: Invalid value: "string": status.replicas in body must be of type integer' in err


def test_non_structural_crd_is_refused(widgets: Any) -> None:
    bad = json.loads(json.dumps(CRD))
    bad["metadata"]["name"] = "gadgets.strict.example.com"
    bad["spec"]["names"] = {"plural": "gadgets", "kind": "Gadget"}
    bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = {
        "type": "object", "properties": {"spec": {"properties": {"size": {"type": "integer"}}},
                                         "list": {"type": "array", "items": {"properties": {}}}}}
    err = failing(widgets, "apply", "-f", "-", input=yaml.safe_dump(bad))
    assert ('The CustomResourceDefinition "gadgets.strict.example.com" is invalid: ' in err)
    assert ("spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for "
            "specified object fields") in err
    assert ("spec.versions[0].schema.openAPIV3Schema.properties[list].items.type: Required value: must not be "
            "empty for specified array items") in err
    assert widgets("get", "crd", "gadgets.strict.example.com", check=False).returncode != 0


def test_defaults_reach_nested_items() -> None:
    schema = {"type": "object", "properties": {"ports": {"type": "array", "items": {
        "type": "object", "properties": {"protocol": {"type": "string", "default": "TCP"}}}}}}
    value = {"ports": [{"name": "a"}, {"protocol": "UDP"}]}
    structural.apply_defaults(schema, value)
    assert value == {"ports": [{"name": "a", "protocol": "TCP"}, {"protocol": "UDP"}]}


def test_scale_follows_the_crd_paths(widgets: Any) -> None:
    crd = json.loads(json.dumps(CRD))
    crd["metadata"]["name"] = "pools.strict.example.com"
    crd["spec"]["names"] = {"plural": "pools", "kind": "Pool"}
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    schema["properties"]["spec"] = {"type": "object", "properties": {"size": {"type": "integer"}}}
    schema["properties"]["status"]["properties"]["selector"] = {"type": "string"}
    crd["spec"]["versions"][0]["subresources"]["scale"] = {
        "specReplicasPath": ".spec.size", "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector"}
    widgets("apply", "-f", "-", input=yaml.safe_dump(crd))
    wait_until(lambda: widgets("get", "pools", check=False).returncode == 0, timeout=20,
               message="the Pool CRD is never served")
    widgets("apply", "-f", "-", input=yaml.safe_dump({
        "apiVersion": "strict.example.com/v1", "kind": "Pool", "metadata": {"name": "p", "namespace": "default"},
        "spec": {"size": 2}}))
    widgets("patch", "pool", "p", "--subresource=status", "--type=merge", "-p",
            '{"status":{"replicas":2,"selector":"app=p"}}')
    widgets("scale", "pool", "p", "--replicas=5")
    live = json.loads(widgets("get", "pool", "p", "-o", "json").stdout)
    assert live["spec"] == {"size": 5}
    scale = json.loads(widgets("get", "--raw", "/apis/strict.example.com/v1/namespaces/default/pools/p/scale").stdout)
    assert scale["spec"] == {"replicas": 5} and scale["status"] == {"replicas": 2, "selector": "app=p"}
    err = failing(widgets, "patch", "pool", "p", "--subresource=scale", "--type=merge", "-p",
                  '{"spec":{"replicas":-1}}', input="")
    assert 'The Scale "p" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0' in err
