"""kube-apiserver's semantic and immutability rules, checked one by one on the validation functions."""

from __future__ import annotations

import copy
import json
from typing import Any

from gitops_tui.sandbox.apply import lastapplied
from gitops_tui.sandbox.apply.fieldmanager import ApplyConflict, apply, record_update
from gitops_tui.sandbox.schema import decoder
from gitops_tui.sandbox.schema.catalog import Catalog
from gitops_tui.sandbox.schema.quantity import parse_quantity
from gitops_tui.sandbox.schema.validation import validate

CATALOG = Catalog()
DEPLOY = CATALOG.resolve("apps", "v1", "deployments")
STS = CATALOG.resolve("apps", "v1", "statefulsets")
PVC = CATALOG.resolve("", "v1", "persistentvolumeclaims")
POD = CATALOG.resolve("", "v1", "pods")
CM = CATALOG.resolve("", "v1", "configmaps")


def deployment(*containers: dict, **spec: Any) -> dict:
    """A valid Deployment with the given containers."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec,
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": list(containers) or [{"name": "web", "image": "nginx"}]}}}}


def messages(causes: list[dict]) -> set[str]:
    """'field: message' of each cause."""
    return {f"{c['field']}: {c['message']}" for c in causes}


def test_valid_deployment_passes() -> None:
    assert validate(DEPLOY, deployment()) == []


def test_containers_names_ports_and_policies() -> None:
    causes = validate(DEPLOY, deployment(
        {"name": "web", "image": "a", "imagePullPolicy": "Sometimes",
         "ports": [{"containerPort": 0, "name": "http"}, {"containerPort": 81, "name": "http", "protocol": "tcp"}]},
        {"name": "web", "image": "b", "env": [{"name": "1BAD", "value": "x"}]}))
    got = messages(causes)
    base = "spec.template.spec.containers"
    assert f'{base}[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", ' \
           '"IfNotPresent", "Never"' in got
    assert f"{base}[0].ports[0].containerPort: Invalid value: 0: must be between 1 and 65535, inclusive" in got
    assert f'{base}[0].ports[1].name: Duplicate value: "http"' in got
    assert f'{base}[0].ports[1].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"' in got
    assert f'{base}[1].name: Duplicate value: "web"' in got
    assert any(m.startswith(f'{base}[1].env[0].name: Invalid value: "1BAD": a valid environment variable name')
               for m in got)


def test_resource_quantities() -> None:
    causes = validate(DEPLOY, deployment({"name": "web", "image": "a", "resources": {
        "limits": {"cpu": "500m", "gpu": "1"}, "requests": {"cpu": "1", "memory": "-1Gi"}}}))
    got = messages(causes)
    base = "spec.template.spec.containers[0].resources"
    assert f'{base}.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m' in got
    assert f'{base}.limits[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified' in got
    assert f'{base}.requests[memory]: Invalid value: "-1Gi": must be greater than or equal to 0' in got
    assert parse_quantity("1Gi") == 2**30 and parse_quantity("100m") * 10 == 1 and parse_quantity("1x") is None
    bad = decoder.inspect("apps", "v1", "Deployment", deployment({"name": "w", "image": "a", "resources": {
        "limits": {"cpu": "lots"}}}))
    assert bad.problems[0].go_message().startswith("quantities must match the regular expression")


def test_labels_annotations_and_restart_policy() -> None:
    obj = deployment()
    obj["metadata"]["labels"] = {"bad key!": "v", "ok": "-bad-value"}
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    got = messages(validate(DEPLOY, obj))
    assert any(m.startswith('metadata.labels: Invalid value: "bad key!": name part must consist') for m in got)
    assert any(m.startswith('metadata.labels: Invalid value: "-bad-value": a valid label must be') for m in got)
    assert 'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"' in got


def test_required_fields_from_the_official_schema() -> None:
    obj = deployment({"image": "nginx"})
    found = decoder.inspect("apps", "v1", "Deployment", obj)
    assert [p.json_path() for p in found.missing] == ["spec.template.spec.containers[0].name"]
    int32 = decoder.inspect("apps", "v1", "Deployment", deployment(replicas=2**31))
    assert int32.problems[0].go_message() == ("json: cannot unmarshal number 2147483648 into Go struct field "
                                              "DeploymentSpec.spec.replicas of type int32")


def test_statefulset_and_pvc_immutability() -> None:
    old = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "default"},
           "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                    "template": {"metadata": {"labels": {"app": "db"}},
                                 "spec": {"containers": [{"name": "db", "image": "pg"}]}}}}
    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 3
    assert validate(STS, new, old) == []
    new["spec"]["serviceName"] = "other"
    assert "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', " \
           "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are " \
           "forbidden" in messages(validate(STS, new, old))
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c", "namespace": "default"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    grown = copy.deepcopy(claim)
    grown["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert "spec: Forbidden: spec is immutable after creation except resources.requests and " \
           "volumeAttributesClassName for bound claims" in messages(validate(PVC, grown, claim))
    grown["status"] = {"phase": "Bound"}
    assert validate(PVC, grown, claim) == []


def test_pods_need_images_and_config_keys_are_checked() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
           "spec": {"containers": [{"name": "c"}], "volumes": [{"name": "v", "emptyDir": {}}]}}
    pod["spec"]["containers"][0]["volumeMounts"] = [{"name": "missing", "mountPath": "/x"}]
    got = messages(validate(POD, pod))
    assert "spec.containers[0].image: Required value" in got
    assert 'spec.containers[0].volumeMounts[0].name: Not found: "missing"' in got
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"},
          "data": {"a b": "x", "ok": "y"}, "binaryData": {"ok": "eQ=="}}
    got = messages(validate(CM, cm))
    assert any(m.startswith('data[a b]: Invalid value: "a b": a valid config key must consist') for m in got)
    assert 'data[ok]: Invalid value: "ok": duplicate of key present in binaryData' in got


def test_last_applied_decides_which_conflicts_are_upgraded() -> None:
    config = deployment()
    config["spec"]["replicas"] = 2
    live = record_update(None, json.loads(json.dumps(config)), "kubectl-client-side-apply", now="t0")
    live["metadata"]["annotations"] = {lastapplied.LAST_APPLIED: json.dumps(config)}
    wanted = json.loads(json.dumps(config))
    wanted["spec"]["replicas"] = 3
    upgraded = lastapplied.apply(live, wanted, "kubectl", force=False, now="t1")
    assert upgraded["spec"]["replicas"] == 3
    assert json.loads(upgraded["metadata"]["annotations"][lastapplied.LAST_APPLIED])["spec"]["replicas"] == 3
    other = json.loads(json.dumps(live))
    other["spec"]["replicas"] = 9  # changed since the last client-side apply: a real conflict
    try:
        lastapplied.apply(other, wanted, "kubectl", force=False, now="t1")
    except ApplyConflict as exc:
        assert [c.field for c in exc.conflicts] == [".spec.replicas"]
    else:
        raise AssertionError("a field changed since the last client-side apply must conflict")
    try:
        apply(live, wanted, "someone-else", force=False, now="t1")
    except ApplyConflict:
        pass
    else:
        raise AssertionError("only kubectl's manager is upgraded")


def test_cronjob_ingress_and_rbac_rules() -> None:
    cron = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c", "namespace": "default"},
            "spec": {"schedule": "*/1****", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}}}
    assert messages(validate(CATALOG.resolve("batch", "v1", "cronjobs"), cron)) == {
        'spec.schedule: Invalid value: "*/1****": expected exactly 5 fields, found 1: [*/1****]'}
    cron["spec"]["schedule"] = "@hourly"
    assert validate(CATALOG.resolve("batch", "v1", "cronjobs"), cron) == []
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i", "namespace": "d"},
               "spec": {"rules": [{"http": {"paths": [{"path": "/a", "backend": {}},
                                                      {"path": "b", "pathType": "Prefix", "backend": {}}]}}]}}
    assert messages(validate(CATALOG.resolve("networking.k8s.io", "v1", "ingresses"), ingress)) == {
        "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
        'spec.rules[0].http.paths[1].path: Invalid value: "b": must be an absolute path'}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "b", "namespace": "d"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}}
    rb = CATALOG.resolve("rbac.authorization.k8s.io", "v1", "rolebindings")
    assert validate(rb, binding) == []
    moved = copy.deepcopy(binding)
    moved["roleRef"]["name"] = "admin"
    assert messages(validate(rb, moved, binding)) == {
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"admin"}: '
        "cannot change roleRef"}
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r", "namespace": "d"},
            "rules": [{"apiGroups": [""], "resources": ["pods"]}]}
    assert messages(validate(CATALOG.resolve("rbac.authorization.k8s.io", "v1", "roles"), role)) == {
        "rules[0].verbs: Required value: verbs must contain at least one value"}


def test_recreate_strategy_refuses_rolling_update_parameters() -> None:
    obj = deployment(strategy={"type": "Recreate", "rollingUpdate": {"maxSurge": "25%"}})
    assert messages(validate(DEPLOY, obj)) == {
        "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"}
    assert validate(DEPLOY, deployment(strategy={"type": "Recreate"})) == []
