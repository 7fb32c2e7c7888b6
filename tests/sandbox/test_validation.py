"""Object validation: kube-apiserver's name, label, annotation, scope and CRD checks, and unknown fields."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from gitops_tui.sandbox.schema import decoder, structural
from gitops_tui.sandbox.schema.catalog import Catalog
from gitops_tui.sandbox.schema.validation import validate, validate_metadata
from gitops_tui.sandbox.serving import errors

CATALOG = Catalog()
DEPLOY = CATALOG.resolve("apps", "v1", "deployments")
NAMESPACE = CATALOG.resolve("", "v1", "namespaces")
SERVICE = CATALOG.resolve("", "v1", "services")
ROLE = CATALOG.resolve("rbac.authorization.k8s.io", "v1", "roles")
CRD = CATALOG.resolve("apiextensions.k8s.io", "v1", "customresourcedefinitions")
CRONJOB = CATALOG.resolve("batch", "v1", "cronjobs")


def obj(name: Any = "web", namespace: str | None = "default", **meta: Any) -> dict:
    """A minimal object with the given metadata."""
    metadata: dict[str, Any] = {"name": name, **meta}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"metadata": metadata}


def fields(causes: list[dict]) -> list[tuple[str, str]]:
    """(field, reason) pairs of causes."""
    return [(c["field"], c["reason"]) for c in causes]


def test_valid_object_has_no_causes() -> None:
    assert validate_metadata(DEPLOY, obj("web-1.example", labels={"app.kubernetes.io/name": "web", "tier": ""},
                                annotations={"example.com/Note": "anything at all: ✓"})) == []


@pytest.mark.parametrize("name", ["Bad_Name", "-web", "web-", "UPPER", "a" * 254, "web..x"])
def test_invalid_subdomain_names(name: str) -> None:
    causes = validate_metadata(DEPLOY, obj(name))
    assert causes and causes[0]["field"] == "metadata.name" and causes[0]["reason"] == "FieldValueInvalid"
    assert causes[0]["message"].startswith(f'Invalid value: "{name}": ')


def test_namespace_and_service_use_label_names() -> None:
    assert validate_metadata(DEPLOY, obj("a.b")) == []
    ns_causes = validate_metadata(NAMESPACE, obj("a.b", namespace=None))
    assert fields(ns_causes) == [("metadata.name", "FieldValueInvalid")]
    assert "RFC 1123 label" in ns_causes[0]["message"]
    assert "DNS-1035" in validate_metadata(SERVICE, obj("1web"))[0]["message"]
    assert validate_metadata(NAMESPACE, obj("a" * 64, namespace=None))[0]["message"].endswith(
        "must be no more than 63 characters")


def test_kind_specific_limits() -> None:
    assert validate_metadata(CRONJOB, obj("c" * 52)) == []
    assert "no more than 52" in validate_metadata(CRONJOB, obj("c" * 53))[0]["message"]
    assert validate_metadata(ROLE, obj("system:controller:Foo")) == []
    assert validate_metadata(ROLE, obj("a/b"))[0]["message"].endswith("may not contain '/'")


def test_name_required_and_generate_name() -> None:
    causes = validate_metadata(DEPLOY, obj(""))
    assert causes == [{"reason": "FieldValueRequired", "field": "metadata.name",
                       "message": "Required value: name or generateName is required"}]
    assert validate_metadata(DEPLOY, obj("", generateName="web-")) == []
    assert fields(validate_metadata(DEPLOY, obj("", generateName="Web-"))) == [("metadata.generateName",
                                                                       "FieldValueInvalid")]


def test_namespace_required_or_forbidden_by_scope() -> None:
    assert fields(validate_metadata(DEPLOY, obj(namespace=None))) == [("metadata.namespace", "FieldValueRequired")]
    assert fields(validate_metadata(NAMESPACE, obj("x", namespace="default"))) == [("metadata.namespace",
                                                                          "FieldValueForbidden")]
    assert fields(validate_metadata(DEPLOY, obj(namespace="Bad_NS"))) == [("metadata.namespace", "FieldValueInvalid")]


def test_labels_and_annotations() -> None:
    causes = validate_metadata(DEPLOY, obj(labels={"a/b/c": "x", "ok": "-bad", "long": "v" * 64, "Bad_Prefix.com/x": "y"}))
    assert fields(causes) == [("metadata.labels", "FieldValueInvalid")] * 4
    assert validate_metadata(DEPLOY, obj(annotations={"UPPER/ok": "x"})) == []  # keys are checked lowercased
    big = validate_metadata(DEPLOY, obj(annotations={"k": "v" * (256 * 1024)}))
    assert fields(big) == [("metadata.annotations", "FieldValueTooLong")]
    assert fields(validate_metadata(DEPLOY, obj(finalizers=["example.com/ok", "bad finalizer"]))) == [
        ("metadata.finalizers[1]", "FieldValueInvalid")]


def crd(name: str = "widgets.example.com", group: str = "example.com", plural: str = "widgets",
        **spec: Any) -> dict:
    """A CRD manifest."""
    base = {"group": group, "scope": "Namespaced", "names": {"plural": plural, "kind": "Widget"},
            "versions": [{"name": "v1", "served": True, "storage": True,
                          "schema": {"openAPIV3Schema": {"type": "object"}}}]}
    base.update(spec)
    return {"metadata": {"name": name}, "spec": base}


def test_crd_rules() -> None:
    assert validate(CRD, crd()) == []
    wrong = validate(CRD, crd(name="widget.example.com"))
    assert wrong == [{"reason": "FieldValueInvalid", "field": "metadata.name",
                      "message": 'Invalid value: "widget.example.com": must be spec.names.plural+"."+spec.group'}]
    assert ("spec.group", "FieldValueInvalid") in fields(validate(CRD, crd(name="widgets.example",
                                                                           group="example")))
    assert ("spec.scope", "FieldValueNotSupported") in fields(validate(CRD, crd(scope="Global")))
    two_storage = crd(versions=[{"name": "v1", "storage": True, "schema": {"openAPIV3Schema": {}}},
                                {"name": "v2", "storage": True, "schema": {"openAPIV3Schema": {}}}])
    assert ("spec.versions", "FieldValueInvalid") in fields(validate(CRD, two_storage))
    no_schema = crd(versions=[{"name": "v1", "storage": True, "served": True}])
    assert ("spec.versions[0].schema.openAPIV3Schema", "FieldValueRequired") in fields(validate(CRD, no_schema))


def test_invalid_status_body() -> None:
    causes = validate_metadata(DEPLOY, obj("Bad_Name"))
    body = errors.invalid(DEPLOY, "Bad_Name", causes).status()
    assert body["code"] == 422 and body["reason"] == "Invalid" and body["status"] == "Failure"
    assert body["message"].startswith('Deployment.apps "Bad_Name" is invalid: metadata.name: Invalid value: ')
    assert body["details"] == {"name": "Bad_Name", "group": "apps", "kind": "Deployment", "causes": causes}


def deployment(**container_extra: Any) -> dict:
    """A Deployment manifest with one container."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "a", "image": "nginx", **container_extra}],
                                           "volumes": [{"name": "v", "emptyDir": {}}]}}},
            "status": {"replicas": 2}}


def unknown_fields(rt: Any, obj: dict) -> list[str]:
    """The unknown field paths the decoder (built-in kinds) or the structural schema (CRs) finds."""
    found = structural.unknown_findings(rt.schema, obj) if rt.is_crd else decoder.inspect(
        rt.group, rt.version, rt.kind, obj)
    return [path.json_path() for path in found.unknown]


def test_unknown_fields_of_builtin_kinds() -> None:
    assert unknown_fields(DEPLOY, deployment(ports=[{"containerPort": 80}], env=[{"name": "A", "value": "1"}])) == []
    bad = deployment(bogus=1)
    bad["spec"]["template"]["spec"]["nodeSelectr"] = {}
    bad["metadata"]["labelz"] = {}
    assert sorted(unknown_fields(DEPLOY, bad)) == ["metadata.labelz", "spec.template.spec.containers[0].bogus",
                                                   "spec.template.spec.nodeSelectr"]
    cm = CATALOG.resolve("", "v1", "configmaps")
    assert unknown_fields(cm, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                               "data": {"a": "b"}, "spec": {}}) == ["spec"]
    error = errors.cannot_handle("Deployment", "v1", errors.strict_decoding_detail(["spec.foo"]))
    assert error.code == 400 and error.message == ('Deployment in version "v1" cannot be handled as a Deployment: '
                                                   'strict decoding error: unknown field "spec.foo"')


def test_unknown_fields_of_crd_kinds() -> None:
    catalog = Catalog()
    manifest = crd()
    manifest["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"size": {"type": "integer"},
                                                  "extra": {"type": "object",
                                                            "x-kubernetes-preserve-unknown-fields": True}}}}}
    widget = catalog.apply_crd(manifest)[0]
    good = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 1, "extra": {"anything": {"goes": True}}}}
    assert unknown_fields(widget, good) == []
    bad = copy.deepcopy(good)
    bad["spec"]["shape"] = "round"
    bad["status"] = {}
    assert unknown_fields(widget, bad) == ["spec.shape", "status"]


# ---- through the real server --------------------------------------------------------------------

def test_kubectl_invalid_name_gets_422(kubectl: Any, sandbox_http: Any) -> None:
    result = kubectl("create", "configmap", "Bad_Name", "-n", "default", check=False)
    assert result.returncode != 0
    assert 'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"' in result.stderr
    answer = sandbox_http("POST", "/api/v1/namespaces",
                          json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "No.Good"}}),
                          headers={"Content-Type": "application/json"})
    assert answer.status == 422
    body = answer.json()
    assert body["kind"] == "Status" and body["reason"] == "Invalid" and body["code"] == 422
    assert body["details"]["causes"][0]["field"] == "metadata.name"
