"""Status bodies byte for byte as kube-apiserver writes them, warnings, size limits, and the official client."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

JSON = {"Content-Type": "application/json"}


def post(http: Any, path: str, obj: dict, query: str = "") -> Any:
    """POST ``obj`` as JSON."""
    return http("POST", path + query, json.dumps(obj), headers=JSON)


def configmap(name: str, **extra: Any) -> dict:
    """A ConfigMap in the default namespace."""
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}, **extra}


def test_not_found_body_is_byte_for_byte_kube_apiserver(sandbox_http: Any) -> None:
    answer = sandbox_http("GET", "/api/v1/namespaces/default/configmaps/nope")
    assert answer.status == 404
    assert answer.body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                           b'"message":"configmaps \\"nope\\" not found","reason":"NotFound",'
                           b'"details":{"name":"nope","kind":"configmaps"},"code":404}\n')
    answer = sandbox_http("GET", "/apis/apps/v1/namespaces/default/deployments/nope")
    assert answer.body.endswith(b'"details":{"name":"nope","group":"apps","kind":"deployments"},"code":404}\n')


def test_invalid_body_orders_causes_and_escapes_like_go(sandbox_http: Any) -> None:
    answer = post(sandbox_http, "/api/v1/namespaces/default/configmaps",
                  configmap("escaped", metadata={"name": "escaped", "namespace": "default",
                                                 "labels": {"a": "<b>&"}}))
    assert answer.status == 422
    body = answer.body.decode()
    assert body.endswith('"code":422}\n')
    assert "\\u003cb\\u003e\\u0026" in body and "<b>" not in body
    status = answer.json()
    assert list(status) == ["kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"]
    assert list(status["details"]) == ["name", "kind", "causes"]
    assert list(status["details"]["causes"][0]) == ["reason", "message", "field"]
    assert status["message"].startswith('ConfigMap "escaped" is invalid: metadata.labels: Invalid value: "<b>&"')


def test_server_error_has_no_reason(sandbox_http: Any) -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "typed"}, "data": {"a": True}}
    answer = sandbox_http("PATCH", "/api/v1/namespaces/default/configmaps/typed?fieldManager=t",
                          json.dumps(config), headers={"Content-Type": "application/apply-patch+yaml"})
    assert answer.status == 500
    assert answer.body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":'
                           b'"failed to create typed patch object (default/typed; /v1, Kind=ConfigMap): .data.a: '
                           b'expected string, got \\u0026value.valueUnstructured{Value:true}","code":500}\n')


def test_field_validation_directives(sandbox_http: Any) -> None:
    path = "/api/v1/namespaces/default/configmaps"
    warned = post(sandbox_http, path, configmap("warned", bogus=1, data={"a": "b"}))  # Warn by default
    assert warned.status == 201 and "bogus" not in warned.json()
    assert warned.headers["Warning"] == '299 - "unknown field \\"bogus\\""'
    ignored = post(sandbox_http, path, configmap("ignored", bogus=1), "?fieldValidation=Ignore")
    assert ignored.status == 201 and "Warning" not in ignored.headers and "bogus" not in ignored.json()
    strict = post(sandbox_http, path, configmap("strict", bogus=1, metadata={"name": "strict", "labelz": {}}),
                  "?fieldValidation=Strict")
    assert strict.status == 400 and strict.json()["message"] == (  # in the order of the body
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
        'unknown field "metadata.labelz", unknown field "bogus"')
    assert post(sandbox_http, path, configmap("what"), "?fieldValidation=Loud").status == 400


def test_size_limits(sandbox_http: Any) -> None:
    big = "x" * (1024 * 1024 + 10)
    answer = post(sandbox_http, "/api/v1/namespaces/default/configmaps", configmap("big", data={"a": big}))
    assert answer.status == 422
    assert answer.json()["message"] == 'ConfigMap "big" is invalid: []: Too long: must have at most 1048576 bytes'
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "big", "namespace": "default"},
              "data": {"a": base64.b64encode(big.encode()).decode()}}
    answer = post(sandbox_http, "/api/v1/namespaces/default/secrets", secret)
    assert answer.json()["message"] == 'Secret "big" is invalid: data: Too long: must have at most 1048576 bytes'
    halves = {"a": "x" * (800 * 1024), "b": "y" * (800 * 1024)}  # each under 1 MiB of ConfigMap, 1.6 MB together
    answer = post(sandbox_http, "/api/v1/namespaces/default/configmaps", configmap("huge", binaryData={
        "a": base64.b64encode(halves["a"].encode()).decode()}, data={"b": halves["b"]}))
    assert answer.status == 422  # the ConfigMap limit counts binaryData too
    answer = post(sandbox_http, "/api/v1/namespaces/default/serviceaccounts", {
        "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "heavy", "namespace": "default"},
        "secrets": [{"name": "s", "fieldPath": "x" * (1600 * 1024)}]})
    assert answer.status == 500 and answer.json()["message"] == "etcdserver: request is too large"


def test_official_client_sees_the_same_refusals(dynamic_client: Any) -> None:
    pods = dynamic_client.resources.get(api_version="v1", kind="Pod")
    with pytest.raises(ApiException) as raised:
        pods.get(namespace="default", field_selector="spec.bogus=1")
    assert raised.value.status == 400
    assert json.loads(raised.value.body)["message"] == "field label not supported: spec.bogus"
    secrets = dynamic_client.resources.get(api_version="v1", kind="Secret")
    created = secrets.create(namespace="default", body={
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "from-client"},
        "stringData": {"token": "s3cr3t"}}).to_dict()
    assert "stringData" not in created and created["data"] == {"token": base64.b64encode(b"s3cr3t").decode()}
    services = dynamic_client.resources.get(api_version="v1", kind="Service")
    with pytest.raises(ApiException) as raised:
        services.create(namespace="default", body={
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "two-ports"},
            "spec": {"ports": [{"port": 80, "name": "web"}, {"port": 81, "name": "web", "protocol": "QUIC"}]}})
    status = json.loads(raised.value.body)
    assert raised.value.status == 422
    assert {(c["field"], c["message"]) for c in status["details"]["causes"]} >= {
        ("spec.ports[1].name", 'Duplicate value: "web"'),
        ("spec.ports[1].protocol", 'Unsupported value: "QUIC": supported values: "SCTP", "TCP", "UDP"')}


def test_unserved_paths_and_methods(sandbox_http: Any) -> None:
    answer = sandbox_http("GET", "/api/v1/bogusresources")
    assert answer.body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server '
                           b'could not find the requested resource","reason":"NotFound","details":{"causes":[{"reason":'
                           b'"UnexpectedServerResponse","message":"404 page not found"}]},"code":404}\n')
    answer = sandbox_http("POST", "/api/v1/namespaces/default/configmaps/named", "{}", headers=JSON)
    assert answer.status == 405 and answer.json()["message"] == (
        "the server does not allow this method on the requested resource")
