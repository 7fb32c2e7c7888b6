"""Real kubectl against a sandbox cluster: discovery, get, apply (server- and client-side), delete, watch, CRDs."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import yaml

from tests.waiting import wait_until

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
  labels: {{app: web}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: main
        image: nginx:1.25
        ports:
        - containerPort: 80
"""

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
"""


def _deployment(ns: str, replicas: int) -> str:
    return DEPLOYMENT.format(ns=ns, replicas=replicas)


def test_builtin_namespaces_and_get_all_namespaces(kubectl) -> None:
    kubectl("create", "namespace", "kc-get")
    kubectl("create", "configmap", "settings", "-n", "kc-get", "--from-literal=color=blue")
    names = kubectl("get", "namespaces", "-o", "name").stdout.split()
    assert {"namespace/default", "namespace/kube-system", "namespace/kc-get"} <= set(names)
    out = kubectl("get", "configmaps", "-A").stdout
    header, *rows = out.splitlines()
    assert header.split()[:2] == ["NAMESPACE", "NAME"]
    assert any(r.split()[:2] == ["kc-get", "settings"] for r in rows)


def test_get_yaml_shows_server_fields(kubectl) -> None:
    kubectl("create", "namespace", "kc-yaml")
    kubectl("create", "configmap", "conf", "-n", "kc-yaml", "--from-literal=a=1")
    obj = yaml.safe_load(kubectl("get", "configmap", "conf", "-n", "kc-yaml", "-o", "yaml").stdout)
    assert obj["data"] == {"a": "1"}
    meta = obj["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and int(meta["resourceVersion"]) > 0


def test_api_resources_lists_builtins(kubectl) -> None:
    out = kubectl("api-resources").stdout
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    for name in ("deployments", "configmaps", "namespaces", "leases", "customresourcedefinitions",
                 "horizontalpodautoscalers", "clusterrolebindings", "events"):
        assert name in rows, name
    assert "apps/v1" in rows["deployments"] and "true" in rows["deployments"]


def test_server_side_apply_create_update_conflict_and_force(kubectl, tmp_path: Path) -> None:
    kubectl("create", "namespace", "kc-ssa")
    created = kubectl("apply", "--server-side", "-f", "-", input=_deployment("kc-ssa", 2))
    assert "deployment.apps/web serverside-applied" in created.stdout
    updated = kubectl("apply", "--server-side", "-f", "-", input=_deployment("kc-ssa", 3))
    assert "serverside-applied" in updated.stdout
    obj = json.loads(kubectl("get", "deploy", "web", "-n", "kc-ssa", "-o", "json").stdout)
    assert obj["spec"]["replicas"] == 3 and obj["metadata"]["generation"] == 2

    kubectl("scale", "deploy", "web", "-n", "kc-ssa", "--replicas=5")
    conflict = kubectl("apply", "--server-side", "-f", "-", input=_deployment("kc-ssa", 4), check=False)
    assert conflict.returncode != 0
    assert "conflict" in conflict.stderr and ".spec.replicas" in conflict.stderr

    forced = kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=_deployment("kc-ssa", 4))
    assert "serverside-applied" in forced.stdout
    obj = json.loads(kubectl("get", "deploy", "web", "-n", "kc-ssa", "-o", "json",
                             "--show-managed-fields").stdout)
    assert obj["spec"]["replicas"] == 4
    owners = [m["manager"] for m in obj["metadata"]["managedFields"]
              if "f:replicas" in json.dumps(m.get("fieldsV1", {}))]
    assert owners == ["kubectl"]


def test_client_side_apply_and_delete(kubectl) -> None:
    kubectl("create", "namespace", "kc-csa")
    first = kubectl("apply", "-f", "-", input=_deployment("kc-csa", 1))
    assert "deployment.apps/web created" in first.stdout
    second = kubectl("apply", "-f", "-", input=_deployment("kc-csa", 2))
    assert "deployment.apps/web configured" in second.stdout
    obj = json.loads(kubectl("get", "deploy", "web", "-n", "kc-csa", "-o", "json").stdout)
    assert obj["spec"]["replicas"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in obj["metadata"]["annotations"]
    assert "unchanged" in kubectl("apply", "-f", "-", input=_deployment("kc-csa", 2)).stdout
    assert 'deployment.apps "web" deleted' in kubectl("delete", "deploy", "web", "-n", "kc-csa").stdout
    missing = kubectl("get", "deploy", "web", "-n", "kc-csa", check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr


def test_get_watch_sees_a_change_by_another_client(kubectl, sandbox_kubeconfig: Path, tmp_path: Path) -> None:
    kubectl("create", "namespace", "kc-watch")
    kubectl("create", "configmap", "before", "-n", "kc-watch", "--from-literal=a=1")
    proc = subprocess.Popen(
        ["kubectl", f"--kubeconfig={sandbox_kubeconfig}", f"--cache-dir={tmp_path}", "get", "configmaps",
         "-n", "kc-watch", "-w"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_until(lambda: any(line.startswith("before") for line in lines), timeout=20,
                   message="kubectl get -w lists the existing configmap")
        kubectl("create", "configmap", "after", "-n", "kc-watch", "--from-literal=b=2")
        wait_until(lambda: any(line.startswith("after") for line in lines), timeout=20,
                   message="kubectl get -w shows the configmap another client created")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
    assert lines[0].split()[:2] == ["NAME", "DATA"]


def test_crd_then_custom_resources(kubectl) -> None:
    kubectl("apply", "--server-side", "-f", "-", input=CRD)
    kubectl("wait", "--for=condition=Established", "crd/gadgets.example.com", "--timeout=20s")
    kubectl("create", "namespace", "kc-crd")
    for name, size in (("small", 1), ("large", 9)):
        manifest = {"apiVersion": "example.com/v1", "kind": "Gadget",
                    "metadata": {"name": name, "namespace": "kc-crd"}, "spec": {"size": size}}
        kubectl("apply", "-f", "-", input=json.dumps(manifest))
    names = kubectl("get", "gadgets", "-n", "kc-crd", "-o", "name").stdout.split()
    assert names == ["gadget.example.com/large", "gadget.example.com/small"]
    assert "gadgets" in kubectl("api-resources", "--api-group=example.com").stdout
    assert kubectl("get", "gd", "small", "-n", "kc-crd", "-o", "jsonpath={.spec.size}").stdout == "1"
    kubectl("delete", "crd", "gadgets.example.com")
    gone = kubectl("get", "gadgets.example.com", "-n", "kc-crd", check=False)
    assert gone.returncode != 0


def test_namespace_delete_removes_contents(kubectl) -> None:
    kubectl("create", "namespace", "kc-ns")
    kubectl("create", "configmap", "inside", "-n", "kc-ns", "--from-literal=a=1")
    kubectl("delete", "namespace", "kc-ns", "--timeout=20s")
    assert kubectl("get", "namespace", "kc-ns", check=False).returncode != 0
    kubectl("create", "namespace", "kc-ns")
    assert "No resources found" in kubectl("get", "configmaps", "-n", "kc-ns").stderr


def test_apply_validation_rejects_unknown_fields(kubectl) -> None:
    kubectl("create", "namespace", "kc-validate")
    typo = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo, namespace: kc-validate}\n"
            "data: {a: b}\ndta: {c: d}\n")
    refused = kubectl("apply", "-f", "-", input=typo, check=False)
    assert refused.returncode != 0 and 'unknown field "dta"' in refused.stderr
    assert kubectl("get", "configmap", "typo", "-n", "kc-validate", check=False).returncode != 0
    kubectl("apply", "--validate=false", "-f", "-", input=typo)
    stored = json.loads(kubectl("get", "configmap", "typo", "-n", "kc-validate", "-o", "json").stdout)
    assert stored["data"] == {"a": "b"} and "dta" not in stored, "unknown fields are dropped"


def test_server_dry_run_persists_nothing(kubectl) -> None:
    kubectl("create", "namespace", "kc-dry")
    out = kubectl("create", "configmap", "ghost", "-n", "kc-dry", "--from-literal=a=1", "--dry-run=server")
    assert "configmap/ghost created (server dry run)" in out.stdout
    kubectl("apply", "--server-side", "--dry-run=server", "-f", "-", input=_deployment("kc-dry", 1))
    assert "No resources found" in kubectl("get", "configmaps,deployments", "-n", "kc-dry").stderr


def test_typed_create_commands_send_protobuf_the_server_decodes(kubectl) -> None:
    kubectl("create", "namespace", "kc-typed")
    kubectl("create", "deployment", "dep", "-n", "kc-typed", "--image=nginx:1.27", "--replicas=3", "--port=8080")
    kubectl("create", "service", "clusterip", "svc", "-n", "kc-typed", "--tcp=80:8080")
    kubectl("create", "job", "once", "-n", "kc-typed", "--image=busybox", "--", "echo", "hi")
    kubectl("create", "secret", "generic", "creds", "-n", "kc-typed", "--from-literal=user=admin")
    dep = json.loads(kubectl("get", "deploy", "dep", "-n", "kc-typed", "-o", "json").stdout)
    assert dep["spec"]["replicas"] == 3
    assert dep["spec"]["selector"] == {"matchLabels": {"app": "dep"}}
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.27" and container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    svc = json.loads(kubectl("get", "svc", "svc", "-n", "kc-typed", "-o", "json").stdout)
    assert svc["spec"]["ports"][0]["port"] == 80 and svc["spec"]["ports"][0]["targetPort"] == 8080
    job = json.loads(kubectl("get", "job", "once", "-n", "kc-typed", "-o", "json").stdout)
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["echo", "hi"]
    secret = json.loads(kubectl("get", "secret", "creds", "-n", "kc-typed", "-o", "json").stdout)
    assert secret["data"] == {"user": "YWRtaW4="} and secret["type"] == "Opaque"
