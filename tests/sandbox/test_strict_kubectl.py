"""The sandbox refuses what kube-apiserver v1.32 refuses, typed by an operator with real kubectl."""

from __future__ import annotations

import base64
import json
from typing import Any

import yaml

NS = "default"


def manifest(obj: dict) -> str:
    """A YAML manifest of ``obj``."""
    return yaml.safe_dump(obj)


def deployment(name: str, *, selector: dict | None = None, labels: dict | None = None, replicas: Any = 2,
               **container: Any) -> dict:
    """An apps/v1 Deployment with one container (``selector`` None leaves it out)."""
    labels = labels if labels is not None else {"app": name}
    spec: dict[str, Any] = {"replicas": replicas, "template": {
        "metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": "nginx", **container}]}}}
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS}, "spec": spec}


def fails(result: Any) -> str:
    """The stderr of a kubectl run that must have failed."""
    assert result.returncode != 0, result.stdout
    return result.stderr


def test_service_port_out_of_range(kubectl: Any) -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "big-port", "namespace": NS},
               "spec": {"selector": {"app": "x"}, "ports": [{"port": 700000}]}}
    for args in (("apply", "-f", "-"), ("apply", "--server-side", "-f", "-"), ("create", "-f", "-")):
        err = fails(kubectl(*args, input=manifest(service), check=False))
        assert 'The Service "big-port" is invalid' in err
        assert "spec.ports[0].port: Invalid value: 700000: must be between 1 and 65535, inclusive" in err
    assert kubectl("get", "service", "big-port", check=False).returncode != 0


def test_deployment_without_selector_or_with_a_foreign_one(kubectl: Any) -> None:
    err = fails(kubectl("apply", "-f", "-", input=manifest(deployment("no-selector")), check=False))
    assert 'The Deployment "no-selector" is invalid' in err
    assert "* spec.selector: Required value" in err
    assert ('* spec.template.metadata.labels: Invalid value: map[string]string{"app":"no-selector"}: '
            "`selector` does not match template `labels`") in err
    foreign = deployment("foreign", selector={"matchLabels": {"app": "other"}})
    err = fails(kubectl("apply", "--server-side", "-f", "-", input=manifest(foreign), check=False))
    assert "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"foreign\"}: " \
           "`selector` does not match template `labels`" in err
    empty = deployment("empty-selector", selector={})
    err = fails(kubectl("create", "-f", "-", input=manifest(empty), check=False))
    assert "empty selector is invalid for deployment" in err


def test_replicas_as_a_word(kubectl: Any) -> None:
    bad = manifest(deployment("three", selector={"matchLabels": {"app": "three"}}, replicas="three"))
    err = fails(kubectl("apply", "-f", "-", input=bad, check=False))
    assert ('Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be '
            "handled as a Deployment: json: cannot unmarshal string into Go struct field "
            "DeploymentSpec.spec.replicas of type int32") in err
    err = fails(kubectl("apply", "--server-side", "-f", "-", input=bad, check=False))
    assert ("failed to create typed patch object (default/three; apps/v1, Kind=Deployment): .spec.replicas: "
            "expected numeric (int or float), got string") in err


def test_misspelled_nested_field_strict_and_warn(kubectl: Any) -> None:
    good = deployment("typo", selector={"matchLabels": {"app": "typo"}})
    typo = manifest(deployment("typo", selector={"matchLabels": {"app": "typo"}}, imagePullPolcy="Always"))
    field = 'unknown field "spec.template.spec.containers[0].imagePullPolcy"'
    # create, and client-side apply of a change: Strict (kubectl's default) refuses
    err = fails(kubectl("apply", "-f", "-", input=typo, check=False))
    assert f"strict decoding error: {field}" in err and "cannot be handled as a Deployment" in err
    kubectl("apply", "-f", "-", input=manifest(good))
    err = fails(kubectl("apply", "-f", "-", input=typo, check=False))
    assert "The request is invalid: patch: Invalid value: " in err and f"strict decoding error: {field}" in err
    # Warn: the write goes through without the field, and kubectl prints the server's warning
    warned = kubectl("apply", "--validate=warn", "-f", "-", input=typo)
    assert f"Warning: {field}" in warned.stderr and "configured" in warned.stdout
    created = kubectl("create", "--validate=warn", "--dry-run=server", "-f", "-", input=manifest(
        deployment("typo-2", selector={"matchLabels": {"app": "typo-2"}}, imagePullPolcy="Always")))
    assert f"Warning: {field}" in created.stderr
    live = json.loads(kubectl("get", "deployment", "typo", "-o", "json").stdout)
    assert "imagePullPolcy" not in live["spec"]["template"]["spec"]["containers"][0]
    # server-side apply: the typed conversion refuses undeclared fields whatever fieldValidation says
    for validate in ("--validate=strict", "--validate=warn"):
        err = fails(kubectl("apply", "--server-side", validate, "-f", "-", input=typo, check=False))
        assert ('.spec.template.spec.containers[name="web"].imagePullPolcy: field not declared in schema'
                in err)


def test_configmap_data_must_be_strings(kubectl: Any) -> None:
    bad = manifest({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "numbers", "namespace": NS},
                    "data": {"a": 1}})
    err = fails(kubectl("apply", "-f", "-", input=bad, check=False))
    assert ('ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go '
            "struct field ConfigMap.data of type string") in err
    err = fails(kubectl("apply", "--server-side", "-f", "-", input=bad, check=False))
    assert ".data.a: expected string, got &value.valueUnstructured{Value:1}" in err


def test_deployment_selector_is_immutable(kubectl: Any) -> None:
    kubectl("apply", "-f", "-", input=manifest(deployment("fixed", selector={"matchLabels": {"app": "fixed"}})))
    moved = manifest(deployment("fixed", selector={"matchLabels": {"app": "moved"}}, labels={"app": "moved"}))
    expected = ('spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"moved"}, '
                "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable")
    assert expected in fails(kubectl("apply", "-f", "-", input=moved, check=False))
    forced = kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=moved, check=False)
    assert expected in fails(forced)


def test_service_cluster_ip_is_immutable(kubectl: Any) -> None:
    kubectl("create", "service", "clusterip", "pinned", "--tcp=80:8080")
    address = kubectl("get", "service", "pinned", "-o", "jsonpath={.spec.clusterIP}").stdout
    err = fails(kubectl("patch", "service", "pinned", "-p", '{"spec":{"clusterIP":"10.96.0.99"}}', check=False))
    assert 'The Service "pinned" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.0.99"}: ' \
           "may not change once set" in err
    assert kubectl("get", "service", "pinned", "-o", "jsonpath={.spec.clusterIP}").stdout == address


def test_job_template_is_immutable(kubectl: Any) -> None:
    kubectl("create", "job", "once", "--image=busybox")
    job = json.loads(kubectl("get", "job", "once", "-o", "json").stdout)
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    assert job["spec"]["template"]["metadata"]["labels"]["job-name"] == "once"
    err = fails(kubectl("patch", "job", "once", "--type=json", "-p",
                        '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"alpine"}]',
                        check=False))
    assert 'The Job "once" is invalid: spec.template: Invalid value: ' in err and "field is immutable" in err
    err = fails(kubectl("create", "-f", "-", check=False, input=manifest({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "always", "namespace": NS},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}})))
    assert 'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"' \
        in err


def test_immutable_secret_and_configmap(kubectl: Any) -> None:
    kubectl("create", "secret", "generic", "frozen", "--from-literal=a=b")
    kubectl("patch", "secret", "frozen", "-p", '{"immutable":true}')
    err = fails(kubectl("patch", "secret", "frozen", "-p", '{"data":{"a":"Yw=="}}', check=False))
    assert 'The Secret "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set' in err
    err = fails(kubectl("patch", "secret", "frozen", "-p", '{"immutable":false}', check=False))
    assert "immutable: Forbidden: field is immutable when `immutable` is set" in err
    kubectl("create", "configmap", "frozen-cm", "--from-literal=a=b")
    kubectl("patch", "configmap", "frozen-cm", "-p", '{"immutable":true}')
    err = fails(kubectl("patch", "configmap", "frozen-cm", "-p", '{"data":{"a":"c"}}', check=False))
    assert "data: Forbidden: field is immutable when `immutable` is set" in err


def test_string_data_is_merged_and_never_stored(kubectl: Any) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "merged", "namespace": NS},
              "data": {"user": base64.b64encode(b"admin").decode(), "password": base64.b64encode(b"old").decode()},
              "stringData": {"password": "hunter2"}}
    for args, name in ((("apply", "-f", "-"), "merged"), (("apply", "--server-side", "-f", "-"), "merged-ssa"),
                       (("create", "-f", "-"), "merged-create")):
        secret["metadata"]["name"] = name
        kubectl(*args, input=manifest(secret))
        live = json.loads(kubectl("get", "secret", name, "-o", "json").stdout)
        assert "stringData" not in live
        assert base64.b64decode(live["data"]["password"]) == b"hunter2"  # stringData wins over data
        assert base64.b64decode(live["data"]["user"]) == b"admin"
        assert live["type"] == "Opaque"


def test_client_side_apply_upgrades_to_server_side(kubectl: Any) -> None:
    first = deployment("upgraded", selector={"matchLabels": {"app": "upgraded"}})
    kubectl("apply", "-f", "-", input=manifest(first))
    changed = deployment("upgraded", selector={"matchLabels": {"app": "upgraded"}}, replicas=5)
    applied = kubectl("apply", "--server-side", "-f", "-", input=manifest(changed))
    assert "serverside-applied" in applied.stdout
    live = json.loads(kubectl("get", "deployment", "upgraded", "-o", "json", "--show-managed-fields").stdout)
    assert live["spec"]["replicas"] == 5
    managers = {(e["manager"], e["operation"]) for e in live["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers
    assert "kubectl-client-side-apply" not in {m for m, _ in managers}
    last = json.loads(live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"])
    assert last["spec"]["replicas"] == 5  # kept in step with what kubectl applied
    # a field another client-side manager changed since is still a conflict
    kubectl("scale", "deployment", "upgraded", "--replicas=7")
    err = fails(kubectl("apply", "--server-side", "-f", "-", input=manifest(changed), check=False))
    assert "Apply failed with 1 conflict" in err and ".spec.replicas" in err


def test_unsupported_field_selector_is_refused(kubectl: Any) -> None:
    err = fails(kubectl("get", "pods", "--field-selector", "spec.bogus=x", check=False))
    assert "field label not supported: spec.bogus" in err and "(BadRequest)" in err
    kubectl("create", "secret", "generic", "selected", "--from-literal=a=b")
    kubectl("create", "secret", "docker-registry", "registry", "--docker-server=r.example", "--docker-username=u",
            "--docker-password=p")
    opaque = kubectl("get", "secrets", "--field-selector", "type=Opaque", "-o", "name").stdout.split()
    assert "secret/selected" in opaque and "secret/registry" not in opaque
    typed = kubectl("get", "secrets", "--field-selector", "type=kubernetes.io/dockerconfigjson", "-o", "name")
    assert typed.stdout.split() == ["secret/registry"]
    assert kubectl("get", "pods", "--field-selector", "status.phase=Running,spec.nodeName=node-1").returncode == 0


def test_explain_shows_the_official_descriptions(kubectl: Any) -> None:
    out = kubectl("explain", "deployment.spec").stdout
    assert "FIELD: spec <DeploymentSpec>" in out
    assert "Specification of the desired behavior of the Deployment." in out
    assert "progressDeadlineSeconds\t<integer>" in out and "The maximum time in seconds for a deployment" in out
    port = kubectl("explain", "service.spec.ports.port").stdout
    assert "The port that will be exposed by this service." in port
    v2 = kubectl("explain", "pod.spec.containers.imagePullPolicy", "--output=plaintext-openapiv2").stdout
    assert "Image pull policy. One of Always, Never, IfNotPresent." in " ".join(v2.split())
