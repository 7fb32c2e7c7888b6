"""fieldValidation on server-side apply and on writes, as kube-apiserver v1.32 answers it.

Reference (kubernetes v1.32): `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`
(applyPatcher: after the apply succeeds, Warn and Strict strict-decode the body with go-yaml's
UnmarshalStrict; Warn adds one Warning per duplicate key, Strict answers 400 "error strict decoding
YAML: ..."), `staging/src/k8s.io/apimachinery/pkg/util/managedfields/internal/structuredmerge.go`
(a typed error fails `ObjectToTyped` before that, with "failed to create typed patch object", 500,
whatever fieldValidation says), and the expected texts of `test/integration/apiserver/field_validation_test.go`
(testFieldValidationApplyCreate / ApplyUpdate / Post).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from tests.sandbox.conftest import (  # noqa: F401 - fixtures
    kubectl,
    raw_request,
    sandbox_kubeconfig,
    sandbox_server,
)

NS = "default"
#: kube's applyInvalidBody (integration test), indented with spaces: paused twice (line 10),
#: imagePullPolicy twice (line 27).
APPLY_BODY = """{
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "%s",
        "labels": {"app": "nginx"}
    },
    "spec": {
        "paused": false,
        "paused": true,
        "selector": {
            "matchLabels": {
                "app": "nginx"
            }
        },
        "template": {
            "metadata": {
                "labels": {
                    "app": "nginx"
                }
            },
            "spec": {
                "containers": [{
                    "name":  "nginx",
                    "image": "nginx:latest",
                    "imagePullPolicy": "Never",
                    "imagePullPolicy": "Always"
                }]
            }
        }
    }
}"""
DUPLICATE_WARNINGS = ['line 10: key "paused" already set in map', 'line 27: key "imagePullPolicy" already set in map']


@pytest.fixture(scope="module")
def apps(sandbox_kubeconfig: Path) -> Iterator[client.AppsV1Api]:
    """The official client's typed AppsV1Api on the sandbox."""
    api_client = config.new_client_from_config(config_file=str(sandbox_kubeconfig), context="sandbox")
    try:
        yield client.AppsV1Api(api_client)
    finally:
        api_client.close()


def _warnings(headers: dict) -> list[str]:
    """The texts of the Warning header(s), as client-go's warning handler reads them."""
    value = headers.get("Warning") or ""
    return [re.sub(r"\\(.)", r"\1", text) for text in re.findall(r'299 - "((?:[^"\\]|\\.)*)"', value)]


class Answer:
    """Status, headers and decoded body of one answer of the official client's ApiClient."""

    def __init__(self, response: client.rest.RESTResponse) -> None:
        self.status_code = response.status
        self.headers = dict(response.getheaders())
        self.body = response.read().decode()
        self.data = json.loads(self.body) if self.body else None


def send(api: client.ApiClient, method: str, path: str, body: str, content_type: str,
         query: list[tuple[str, str]] | None = None) -> Answer:
    """One request with a body written by hand (the typed methods would serialize a dict: no duplicates)."""
    return Answer(api.call_api(*api.param_serialize(
        method, path, body=body, query_params=query or [], auth_settings=["BearerToken"],
        header_params={"Content-Type": content_type, "Accept": "application/json"})))


def _apply(apps: client.AppsV1Api, name: str, body: str, validation: str | None) -> Answer:
    query = [("fieldManager", "mgr")] + ([("fieldValidation", validation)] if validation else [])
    return send(apps.api_client, "PATCH", f"/apis/apps/v1/namespaces/{NS}/deployments/{name}", body,
                "application/apply-patch+yaml", query)


@pytest.mark.parametrize("validation", ["Warn", None])
def test_apply_warns_for_each_duplicate_key_on_create_and_update(apps: client.AppsV1Api, validation: str | None) -> None:
    name = f"apply-warn-{(validation or 'default').lower()}"
    created = _apply(apps, name, APPLY_BODY % name, validation)
    assert created.status_code == 201
    assert _warnings(created.headers) == DUPLICATE_WARNINGS
    # the last value wins, as go-yaml's non-strict Unmarshal reads the body
    assert created.data["spec"]["paused"] is True
    assert created.data["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    updated = _apply(apps, name, APPLY_BODY % name, validation)
    assert updated.status_code == 200 and _warnings(updated.headers) == DUPLICATE_WARNINGS


def test_apply_strict_refuses_duplicates_and_ignore_says_nothing(apps: client.AppsV1Api) -> None:
    refused = _apply(apps, "apply-strict", APPLY_BODY % "apply-strict", "Strict")
    assert refused.status_code == 400 and refused.data["reason"] == "BadRequest"
    assert refused.data["message"] == (
        "error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  "
        'line 10: key "paused" already set in map\n  line 27: key "imagePullPolicy" already set in map')
    with pytest.raises(client.ApiException):
        apps.read_namespaced_deployment("apply-strict", NS)  # nothing was created
    ignored = _apply(apps, "apply-ignore", APPLY_BODY % "apply-ignore", "Ignore")
    assert ignored.status_code == 201 and "Warning" not in ignored.headers


def test_a_typed_error_fails_the_apply_whatever_field_validation_says(apps: client.AppsV1Api) -> None:
    body = APPLY_BODY.replace('"paused": false,\n', '"replicas": "three",\n').replace(
        '"imagePullPolcy"', '"x"') % "apply-typed"
    for validation in ("Warn", "Ignore", "Strict"):
        failed = _apply(apps, "apply-typed", body, validation)
        assert failed.status_code == 500 and "Warning" not in failed.headers
        assert failed.data["message"] == ("failed to create typed patch object (default/apply-typed; apps/v1, "
                                          "Kind=Deployment): .spec.replicas: expected numeric (int or float), got string")


def test_create_warns_for_duplicate_fields_in_json_and_yaml(apps: client.AppsV1Api, sandbox_server) -> None:
    # the official client serializes every JSON body itself, so this one goes out as written by plain HTTPS
    json_body = APPLY_BODY.replace('"labels": {"app": "nginx"}\n', '"labels": {"app": "nginx"}, "x": 1\n')
    answer = raw_request(sandbox_server, "POST", f"/apis/apps/v1/namespaces/{NS}/deployments",
                         json_body % "post-json", {"Content-Type": "application/json"})
    assert answer.status == 201, answer.body
    assert _warnings(answer.headers) == [
        'unknown field "metadata.x"', 'duplicate field "spec.paused"',
        'duplicate field "spec.template.spec.containers[0].imagePullPolicy"']
    yaml_body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: post-yaml\ndata:\n  a: '1'\n  a: '2'\n"
    answer = send(apps.api_client, "POST", f"/api/v1/namespaces/{NS}/configmaps", yaml_body, "application/yaml",
                  [("fieldValidation", "Strict")])
    assert answer.status_code == 400
    assert answer.data["message"] == ('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding '
                                      'error: yaml: unmarshal errors:\n  line 7: key "a" already set in map')
    warned = send(apps.api_client, "POST", f"/api/v1/namespaces/{NS}/configmaps", yaml_body, "application/yaml")
    assert warned.status_code == 201 and _warnings(warned.headers) == ['line 7: key "a" already set in map']


def test_kubectl_server_side_apply_validate_warn_and_strict(kubectl) -> None:  # noqa: F811 - fixture
    manifest = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kc-dup\ndata:\n  a: '1'\n")
    applied = kubectl("apply", "--server-side", "--validate=warn", "-n", NS, "-f", "-", input=manifest)
    assert "configmap/kc-dup serverside-applied" in applied.stdout
    # kubectl decodes a file itself and sends JSON, so a duplicate key never reaches the server from it;
    # an undeclared field does, and server-side apply refuses it with kube-apiserver's 500 under any --validate
    typo = manifest + "extra: field\n"
    for flag in ("--validate=warn", "--validate=false", "--validate=strict"):
        refused = kubectl("apply", "--server-side", flag, "-n", NS, "-f", "-", input=typo, check=False)
        assert refused.returncode != 0
        assert ("failed to create typed patch object (default/kc-dup; /v1, Kind=ConfigMap): "
                ".extra: field not declared in schema") in refused.stderr
    # a client-side create under --validate=warn prints the server's Warning for the unknown field
    created = kubectl("create", "--validate=warn", "-n", NS, "-f", "-",
                      input=typo.replace("kc-dup", "kc-warn"), check=False)
    assert created.returncode == 0, created.stderr
    assert 'Warning: unknown field "extra"' in created.stderr
