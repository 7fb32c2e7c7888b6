"""Table output and OpenAPI documents: unit checks and what kubectl makes of them on the real server."""

from __future__ import annotations

import copy
import json
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from gitops_tui.sandbox.rest.table import jsonpath, to_table
from gitops_tui.sandbox.rest.table_printers import human_duration
from gitops_tui.sandbox.schema import openapi
from gitops_tui.sandbox.schema.catalog import Catalog
from tests.waiting import wait_until

CATALOG = Catalog()


def ago(seconds: float) -> str:
    """An RFC 3339 timestamp ``seconds`` ago."""
    return (datetime.now(UTC) - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("seconds,text", [
    (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (5, "5s"), (119, "119s"), (125, "2m5s"), (180, "3m"),
    (600, "10m"), (3 * 3600 + 60, "3h1m"), (9 * 3600, "9h"), (50 * 3600, "2d2h"), (10 * 86400, "10d"),
    (3 * 365 * 86400 + 86400, "3y1d"), (9 * 365 * 86400, "9y"),
])
def test_human_duration_matches_kubectl(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_jsonpath_subset() -> None:
    doc = {"status": {"conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]},
           "metadata": {"labels": {"app": "web"}}, "spec": {"items": [1, 2, 3]}}
    assert jsonpath(doc, '.status.conditions[?(@.type=="Ready")].status') == ["True"]
    assert jsonpath(doc, "{.metadata.labels.app}") == ["web"]
    assert jsonpath(doc, ".spec.items[1]") == [2]
    assert jsonpath(doc, ".spec.items[*]") == [1, 2, 3]
    assert jsonpath(doc, ".spec.missing") == []


def table_for(group: str, plural: str, *objects: dict, include: str = "Metadata") -> dict:
    """The Table of ``objects`` for the built-in resource."""
    rt = CATALOG.resolve(group, CATALOG.groups()[group][0], plural)
    return to_table(rt, list(objects), {"resourceVersion": "42"}, include)


def cells(table: dict) -> list[dict[str, Any]]:
    """Rows as {column name: cell}."""
    names = [c["name"] for c in table["columnDefinitions"]]
    return [dict(zip(names, row["cells"], strict=False)) for row in table["rows"]]


def test_table_shape_and_row_objects() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo", "creationTimestamp": ago(30)},
          "status": {"phase": "Active"}}
    table = table_for("", "namespaces", ns)
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "42"}
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Status", "Age"]
    assert table["rows"][0]["cells"][:2] == ["demo", "Active"]
    assert table["rows"][0]["cells"][2] in ("30s", "31s")
    assert table["rows"][0]["object"] == {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                          "metadata": ns["metadata"]}
    assert table_for("", "namespaces", ns, include="Object")["rows"][0]["object"] == ns
    assert "object" not in table_for("", "namespaces", ns, include="None")["rows"][0]


def test_builtin_printer_columns() -> None:
    pod = {"metadata": {"name": "p", "creationTimestamp": ago(200)},
           "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
           "status": {"phase": "Running", "podIP": "10.0.0.5", "containerStatuses": [
               {"name": "a", "ready": True, "restartCount": 2, "state": {"running": {}}},
               {"name": "b", "ready": False, "restartCount": 1,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
    row = cells(table_for("", "pods", pod))[0]
    assert (row["Name"], row["Ready"], row["Status"], row["Restarts"], row["Age"], row["IP"]) == (
        "p", "1/2", "CrashLoopBackOff", "3", "3m20s", "10.0.0.5")
    deploy = {"metadata": {"name": "web"}, "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                                                    "template": {"spec": {"containers": [
                                                        {"name": "a", "image": "nginx:1"}]}}},
              "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}
    row = cells(table_for("apps", "deployments", deploy))[0]
    assert (row["Ready"], row["Up-to-date"], row["Available"], row["Images"], row["Selector"]) == (
        "2/3", 3, 2, "nginx:1", "app=web")
    secret = {"metadata": {"name": "s"}, "type": "kubernetes.io/basic-auth", "data": {"username": "eA==",
                                                                                       "password": "eQ=="}}
    assert cells(table_for("", "secrets", secret))[0]["Data"] == 2
    assert cells(table_for("", "secrets", secret))[0]["Type"] == "kubernetes.io/basic-auth"
    assert cells(table_for("", "configmaps", {"metadata": {"name": "c"}, "data": {"a": "1"},
                                              "binaryData": {"b": ""}}))[0]["Data"] == 2
    svc = {"metadata": {"name": "svc"}, "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "ports": [
        {"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}}
    row = cells(table_for("", "services", svc))[0]
    assert (row["Type"], row["Cluster-IP"], row["External-IP"], row["Port(s)"]) == (
        "NodePort", "10.96.0.10", "<none>", "80:30080/TCP,53/UDP")
    event = {"metadata": {"name": "e"}, "type": "Warning", "reason": "Failed", "message": "boom",
             "involvedObject": {"kind": "Deployment", "name": "web"}, "lastTimestamp": ago(65), "count": 4}
    row = cells(table_for("", "events", event))[0]
    assert (row["Last Seen"], row["Type"], row["Object"], row["Message"], row["Count"]) == (
        "65s", "Warning", "deployment/web", "boom", 4)
    assert cells(table_for("batch", "jobs", {"metadata": {"name": "j"}, "spec": {"completions": 1},
                                             "status": {"succeeded": 1, "conditions": [
                                                 {"type": "Complete", "status": "True"}]}}))[0]["Status"] == "Complete"
    for rt in CATALOG.all():  # every printer yields one cell per column, even for bare objects
        table = to_table(rt, [{"metadata": {"name": "x"}}], {})
        assert len(table["rows"][0]["cells"]) == len(table["columnDefinitions"]), rt


def widget_crd(columns: list[dict] | None) -> dict:
    """A Widget CRD with the given additionalPrinterColumns."""
    version: dict[str, Any] = {"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                   "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                                   "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}
    if columns is not None:
        version["additionalPrinterColumns"] = columns
    return {"metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "versions": [version],
                     "names": {"plural": "widgets", "kind": "Widget"}}}


def test_crd_printer_columns() -> None:
    catalog = Catalog()
    rt = catalog.apply_crd(widget_crd([
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
        {"name": "Team", "type": "string", "jsonPath": ".metadata.labels.team", "priority": 1},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]))[0]
    widget = {"metadata": {"name": "w", "creationTimestamp": ago(7200), "labels": {"team": "blue"}},
              "spec": {"size": 3}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    table = to_table(rt, [widget, {"metadata": {"name": "bare"}}], {})
    assert [(c["name"], c["type"], c["priority"]) for c in table["columnDefinitions"]] == [
        ("Name", "string", 0), ("Ready", "string", 0), ("Size", "integer", 0), ("Team", "string", 1),
        ("Age", "date", 0)]
    assert table["rows"][0]["cells"] == ["w", "True", 3, "blue", "120m"]
    assert table["rows"][1]["cells"] == ["bare", None, None, None, None]
    plain = Catalog().apply_crd(widget_crd(None))[0]
    assert [c["name"] for c in to_table(plain, [widget], {})["columnDefinitions"]] == ["Name", "Age"]


# ---- OpenAPI ------------------------------------------------------------------------------------

def test_openapi_v2_document() -> None:
    doc = openapi.openapi_v2(CATALOG)
    assert doc["swagger"] == "2.0"
    deploy = doc["definitions"]["io.k8s.api.apps.v1.Deployment"]
    assert deploy["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    assert doc["definitions"]["io.k8s.api.core.v1.Namespace"]["x-kubernetes-group-version-kind"][0]["group"] == ""
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    names = [p["name"] for p in patch["parameters"]]
    assert {"fieldValidation", "dryRun", "fieldManager", "force"} <= set(names)
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "kind": "Deployment", "version": "v1"}
    # kubectl then computes strategic merge patches from its own compiled-in types (exact merge keys)
    assert "application/strategic-merge-patch+json" not in patch["consumes"]
    container = doc["definitions"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert (container["x-kubernetes-patch-merge-key"], container["x-kubernetes-patch-strategy"]) == ("name", "merge")
    refs = json.dumps(doc).split('"$ref": "#/definitions/')[1:]
    assert all(r.split('"')[0] in doc["definitions"] for r in refs)


def decode_fields(buf: bytes) -> list[tuple[int, Any]]:
    """Top-level (field number, value) pairs of a protobuf message (varints and length-delimited only)."""
    out, pos = [], 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        out.append((number, value))
    return out


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def test_openapi_v2_protobuf_encoding() -> None:
    top = decode_fields(openapi.openapi_v2_protobuf(CATALOG))
    assert (1, b"2.0") in top
    definitions = decode_fields(next(v for n, v in top if n == 9))
    named = {decode_fields(v)[0][1].decode(): decode_fields(v)[1][1] for _, v in definitions}
    assert "io.k8s.api.apps.v1.Deployment" in named and "io.k8s.api.core.v1.Pod" in named
    schema = decode_fields(named["io.k8s.api.apps.v1.Deployment"])
    assert decode_fields(next(v for n, v in schema if n == 22)) == [(1, b"object")]  # type
    extension = decode_fields(next(v for n, v in schema if n == 31))  # vendor_extension NamedAny
    assert extension[0] == (1, b"x-kubernetes-group-version-kind")
    yaml_text = decode_fields(extension[1][1])[0][1].decode()
    assert yaml.safe_load(yaml_text) == [{"group": "apps", "kind": "Deployment", "version": "v1"}]


def test_openapi_v3_index_and_documents() -> None:
    catalog = Catalog()
    index = openapi.openapi_v3_index(catalog)["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/autoscaling/v2", "apis/apiextensions.k8s.io/v1"} <= set(index)
    url = index["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    doc = openapi.openapi_v3_document(catalog, "apis/apps/v1")
    assert doc is not None and doc["openapi"].startswith("3.")
    op = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in op["parameters"])
    assert op["x-kubernetes-group-version-kind"] == {"group": "apps", "kind": "Deployment", "version": "v1"}
    assert "application/apply-patch+yaml" in op["requestBody"]["content"]
    schemas = doc["components"]["schemas"]
    assert schemas["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"][0]["kind"] == "Deployment"
    assert schemas["io.k8s.api.core.v1.Container"]["properties"]["env"]["x-kubernetes-patch-merge-key"] == "name"
    assert "#/definitions/" not in json.dumps(doc)
    assert openapi.openapi_v3_document(catalog, "apis/example.com/v1") is None

    catalog.apply_crd(widget_crd(None))
    index2 = openapi.openapi_v3_index(catalog)["paths"]
    assert "apis/example.com/v1" in index2
    widget_doc = openapi.openapi_v3_document(catalog, index2["apis/example.com/v1"]["serverRelativeURL"])
    widget = widget_doc["components"]["schemas"]["com.example.v1.Widget"]
    assert widget["properties"]["spec"]["properties"]["size"] == {"type": "integer"}
    assert openapi.openapi_v2(catalog)["definitions"]["com.example.v1.Widget"]["x-kubernetes-group-version-kind"]


# ---- through kubectl against the real sandbox server --------------------------------------------

NS = "tables"


@pytest.fixture(scope="module")
def table_ns(kubectl: Any) -> str:
    """A namespace for this module's objects."""
    kubectl("create", "namespace", NS)
    return NS


def test_kubectl_get_renders_tables(kubectl: Any, table_ns: str) -> None:
    kubectl("create", "configmap", "c1", "-n", table_ns, "--from-literal=a=1", "--from-literal=b=2")
    web = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": table_ns,
                                                                       "labels": {"app": "web"}},
           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {
               "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a", "image": "nginx"}]}}}}
    kubectl("apply", "-f", "-", input=json.dumps(web))
    out = kubectl("get", "cm,deploy", "-n", table_ns).stdout
    assert "NAME" in out and "DATA" in out and "UP-TO-DATE" in out and "AVAILABLE" in out
    assert any(line.split()[:2] == ["configmap/c1", "2"] for line in out.splitlines())
    wide = kubectl("get", "deploy", "web", "-n", table_ns, "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"] and "app=web" in wide[1]
    everything = kubectl("get", "ns", "-A").stdout
    assert everything.splitlines()[0].split() == ["NAME", "STATUS", "AGE"] and table_ns in everything
    labels = kubectl("get", "deploy", "-n", table_ns, "--show-labels").stdout
    assert "app=web" in labels


def test_kubectl_watch_streams_table_rows(kubectl: Any, sandbox_kubeconfig: Any, table_ns: str,
                                          tmp_path: Any) -> None:
    proc = subprocess.Popen(["kubectl", f"--kubeconfig={sandbox_kubeconfig}", f"--cache-dir={tmp_path}",
                             "get", "configmaps", "-n", table_ns, "-w", "--output-watch-events"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_until(lambda: any("EVENT" in line for line in lines), timeout=20, message="watch header")
        kubectl("create", "configmap", "watched", "-n", table_ns, "--from-literal=x=1")
        wait_until(lambda: any(line.split()[:2] == ["ADDED", "watched"] for line in lines), timeout=20,
                   message=f"ADDED row for watched in {lines}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_kubectl_reads_openapi_documents(kubectl: Any, sandbox_http: Any, table_ns: str) -> None:
    raw = sandbox_http("GET", "/openapi/v2",
                       headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert raw.status == 200 and (1, b"2.0") in decode_fields(raw.body)
    index = json.loads(kubectl("get", "--raw", "/openapi/v3").stdout)
    assert "apis/apps/v1" in index["paths"]
    explained = kubectl("explain", "deployment.spec.template.spec.containers").stdout
    assert "KIND:       Deployment" in explained and "image" in explained
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": table_ns},
                "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": {
                    "metadata": {"labels": {"app": "api"}},
                    "spec": {"containers": [{"name": "a", "image": "nginx"}, {"name": "b", "image": "redis"}]}}}}
    kubectl("apply", "-f", "-", input=json.dumps(manifest))
    kubectl("apply", "--server-side", "-f", "-", input=json.dumps(manifest))
    smaller = copy.deepcopy(manifest)
    smaller["spec"]["template"]["spec"]["containers"] = [{"name": "a", "image": "nginx:2"}]
    result = kubectl("apply", "-f", "-", input=json.dumps(smaller))
    assert "warning" not in result.stderr.lower()
    live = json.loads(kubectl("get", "deploy", "api", "-n", table_ns, "-o", "json").stdout)
    assert [c["name"] for c in live["spec"]["template"]["spec"]["containers"]] == ["a"]
