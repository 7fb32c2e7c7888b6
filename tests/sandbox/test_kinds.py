"""The kinds a real cluster serves and the sandbox lacked: discovery, kubectl's columns, conversion, prune."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gitops_tui.sandbox.schema.catalog import AGGREGATED_DISCOVERY_CONTENT_TYPE
from tests.sandbox.conftest import raw_request
from tests.sandbox.controlled import Controlled, controlled, deployment, ns  # noqa: F401 - fixtures
from tests.waiting import wait_until

NEW_KINDS = {  # resource name -> (group/version, namespaced, kind)
    "nodes": ("v1", False, "Node"), "replicationcontrollers": ("v1", True, "ReplicationController"),
    "endpoints": ("v1", True, "Endpoints"), "endpointslices": ("discovery.k8s.io/v1", True, "EndpointSlice"),
    "poddisruptionbudgets": ("policy/v1", True, "PodDisruptionBudget"),
    "apiservices": ("apiregistration.k8s.io/v1", False, "APIService"),
    "limitranges": ("v1", True, "LimitRange"), "resourcequotas": ("v1", True, "ResourceQuota"),
    "persistentvolumes": ("v1", False, "PersistentVolume"),
}


def _header(out: str) -> list[str]:
    return re.split(r"\s{2,}", out.splitlines()[0].strip())


def test_new_kinds_are_in_legacy_and_aggregated_discovery(controlled: Controlled) -> None:
    listed = controlled.kubectl("api-resources", "-o", "wide").stdout
    for plural, (gv, namespaced, kind) in NEW_KINDS.items():
        row = next((line.split() for line in listed.splitlines() if line.split()[:1] == [plural]), None)
        assert row is not None, plural
        assert gv in row and kind in row and ("true" if namespaced else "false") in row
    for plural, (gv, namespaced, kind) in NEW_KINDS.items():
        path = f"/api/{gv}" if "/" not in gv else f"/apis/{gv}"
        resources = json.loads(controlled.kubectl("get", "--raw", path).stdout)["resources"]
        entry = next(r for r in resources if r["name"] == plural)
        assert (entry["kind"], entry["namespaced"]) == (kind, namespaced)
    aggregated: dict[str, tuple[str, bool, str]] = {}
    for root in ("/api", "/apis"):
        answer = raw_request(controlled.server, "GET", root, headers={"Accept": AGGREGATED_DISCOVERY_CONTENT_TYPE})
        assert answer.headers["Content-Type"].startswith("application/json;g=apidiscovery.k8s.io;v=v2")
        for group in answer.json()["items"]:
            for version in group["versions"]:
                gv = f"{group['metadata']['name']}/{version['version']}".lstrip("/")
                for res in version["resources"]:
                    aggregated.setdefault(res["resource"], (gv, res["scope"] == "Namespaced",
                                                            res["responseKind"]["kind"]))
    assert {plural: aggregated[plural] for plural in NEW_KINDS} == NEW_KINDS
    autoscaling = json.loads(controlled.kubectl("get", "--raw", "/apis/autoscaling").stdout)
    assert [v["version"] for v in autoscaling["versions"]] == ["v2", "v1"]
    assert autoscaling["preferredVersion"]["version"] == "v2"
    core = json.loads(controlled.kubectl("get", "--raw", "/api/v1").stdout)["resources"]
    subs = {r["name"]: r["verbs"] for r in core if r["name"].startswith("pods/")}
    assert subs["pods/log"] == ["get"] and subs["pods/exec"] == ["create", "get"]
    assert subs["pods/binding"] == ["create"]
    assert "scale" in {r["name"].split("/")[1] for r in core if r["name"].startswith("replicationcontrollers/")}


def test_create_pdb_and_its_columns(controlled: Controlled, ns: str) -> None:
    controlled.apply(deployment("guarded", replicas=3), ns)
    controlled.kubectl("create", "pdb", "guard", "-n", ns, "--selector=app=guarded", "--min-available=2")
    controlled.kubectl("create", "pdb", "loose", "-n", ns, "--selector=app=guarded", "--max-unavailable=50%")
    wait_until(lambda: controlled.json("pdb", "guard", "-n", ns).get("status", {}).get("currentHealthy") == 3,
               timeout=20, message="budget counts three healthy pods")
    out = controlled.kubectl("get", "pdb", "-n", ns).stdout
    assert _header(out) == ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"]
    rows = {line.split()[0]: line.split()[1:4] for line in out.splitlines()[1:]}
    assert rows["guard"] == ["2", "N/A", "1"]
    assert rows["loose"] == ["N/A", "50%", "2"]  # 50% of 3 rounds up: 2 may go


def test_hpa_served_as_v1_and_v2_from_one_storage(controlled: Controlled, ns: str) -> None:
    controlled.apply(deployment("scaled", replicas=1), ns)
    v1 = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "cpu"},
          "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "scaled"},
                   "minReplicas": 1, "maxReplicas": 4, "targetCPUUtilizationPercentage": 70}}
    controlled.apply(v1, ns)
    as_v2 = controlled.json("horizontalpodautoscalers.v2.autoscaling", "cpu", "-n", ns)
    assert as_v2["apiVersion"] == "autoscaling/v2"
    assert as_v2["spec"]["metrics"] == [{"type": "Resource", "resource": {
        "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]
    v2 = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "mem"},
          "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "scaled"},
                   "minReplicas": 2, "maxReplicas": 5,
                   "metrics": [{"type": "Resource", "resource": {"name": "memory", "target": {
                       "type": "AverageValue", "averageValue": "100Mi"}}}]}}
    controlled.apply(v2, ns)
    as_v1 = controlled.json("horizontalpodautoscalers.v1.autoscaling", "mem", "-n", ns)
    assert "targetCPUUtilizationPercentage" not in as_v1["spec"]
    assert json.loads(as_v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/metrics"]) == \
        v2["spec"]["metrics"]
    # A write through v1 keeps the v2-only metric (it travels in the annotation).
    controlled.kubectl("patch", "horizontalpodautoscalers.v1.autoscaling", "mem", "-n", ns, "--type=merge", "-p",
                       json.dumps({"spec": {"maxReplicas": 6}}))
    again = controlled.json("horizontalpodautoscalers.v2.autoscaling", "mem", "-n", ns)
    assert again["spec"]["metrics"] == v2["spec"]["metrics"] and again["spec"]["maxReplicas"] == 6
    assert "annotations" not in again["metadata"] or not any(
        k.startswith("autoscaling.alpha") for k in again["metadata"]["annotations"])
    controlled.kubectl("autoscale", "deployment", "scaled", "-n", ns, "--max=3", "--cpu-percent=50")
    typed = controlled.json("horizontalpodautoscalers.v1.autoscaling", "scaled", "-n", ns)
    assert (typed["spec"]["minReplicas"], typed["spec"]["targetCPUUtilizationPercentage"]) == (1, 50)
    for resource in ("hpa", "horizontalpodautoscalers.v1.autoscaling"):
        out = controlled.kubectl("get", resource, "-n", ns).stdout
        assert _header(out) == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
        assert "Deployment/scaled" in out and "cpu: <unknown>/70%" in out


def test_get_apiservices_lists_every_served_group_version(controlled: Controlled) -> None:
    def names() -> set[str]:
        return {line.split()[0] for line in controlled.kubectl("get", "apiservices").stdout.splitlines()[1:]}

    served = set(controlled.kubectl("api-versions").stdout.split())
    expected = {f"{gv.split('/')[1]}.{gv.split('/')[0]}" if "/" in gv else f"{gv}." for gv in served}
    wait_until(lambda: names() == expected, timeout=20, message="an APIService per served group-version")
    out = controlled.kubectl("get", "apiservices").stdout
    assert _header(out) == ["NAME", "SERVICE", "AVAILABLE", "AGE"]
    row = next(line.split() for line in out.splitlines() if line.startswith("v1.apps "))
    assert row[1:3] == ["Local", "True"]
    core = controlled.json("apiservice", "v1.")
    assert core["spec"] == {"group": "", "version": "v1", "groupPriorityMinimum": 18000, "versionPriority": 1}


def test_limit_ranges_quotas_and_volumes(controlled: Controlled, ns: str) -> None:
    docs = [{"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "limits"},
             "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"}}]}},
            {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "quota"},
             "spec": {"hard": {"pods": "10", "requests.cpu": "4", "limits.memory": "8Gi"}}}]
    for doc in docs:
        controlled.apply(doc, ns)
    out = controlled.kubectl("get", "limits,quota", "-n", ns).stdout
    assert "limitrange/limits" in out and "resourcequota/quota" in out
    controlled.apply(deployment("counted", replicas=2), ns)
    controlled.kubectl("rollout", "status", "deployment/counted", "-n", ns, "--timeout=30s")
    quota = wait_until(lambda: (q := controlled.json("quota", "quota", "-n", ns)).get("status", {}).get("used", {})
                       .get("pods") == "2" and q, timeout=20, message="quota counts two pods")
    assert quota["status"]["hard"] == {"pods": "10", "requests.cpu": "4", "limits.memory": "8Gi"}
    assert quota["status"]["used"]["requests.cpu"] == "0"
    out = controlled.kubectl("get", "quota", "-n", ns).stdout
    assert _header(out) == ["NAME", "AGE", "REQUEST", "LIMIT"]
    assert "pods: 2/10, requests.cpu: 0/4" in out and "limits.memory: 0/8Gi" in out
    assert _header(controlled.kubectl("get", "limits", "-n", ns).stdout) == ["NAME", "CREATED AT"]


def test_apply_prune_with_a_label_selector(controlled: Controlled, ns: str, tmp_path: Path) -> None:
    def write(objs: list[dict]) -> Path:
        folder = tmp_path / "manifests"
        folder.mkdir(exist_ok=True)
        for old in folder.glob("*.json"):
            old.unlink()
        for obj in objs:
            (folder / f"{obj['kind']}-{obj['metadata']['name']}.json").write_text(json.dumps(obj))
        return folder

    labels = {"app.kubernetes.io/part-of": "shop"}
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "labels": labels},
              "data": {"a": "1"}}
    web = deployment("shop")
    web["metadata"]["labels"] = labels
    folder = write([config, web])
    controlled.kubectl("apply", "-n", ns, "-f", str(folder), "--prune", "-l", "app.kubernetes.io/part-of=shop")
    folder = write([web])
    out = controlled.kubectl("apply", "-n", ns, "-f", str(folder), "--prune", "-l",
                             "app.kubernetes.io/part-of=shop").stdout
    assert "configmap/settings pruned" in out
    assert controlled.kubectl("get", "configmap", "settings", "-n", ns, check=False).returncode != 0
    assert controlled.kubectl("get", "deployment", "shop", "-n", ns, check=False).returncode == 0


@pytest.mark.parametrize("kind", ["endpoints", "endpointslices"])
def test_endpoints_follow_the_ready_pods_of_a_service(controlled: Controlled, ns: str, kind: str) -> None:
    controlled.apply(deployment("api", replicas=2), ns)
    controlled.kubectl("expose", "deployment", "api", "-n", ns, "--port=80", "--target-port=http")
    controlled.kubectl("rollout", "status", "deployment/api", "-n", ns, "--timeout=30s")
    ips = sorted(p["status"]["podIP"] for p in controlled.json("pods", "-n", ns, "-l", "app=api")["items"])

    def shown() -> str:
        return controlled.kubectl("get", kind, "-n", ns).stdout

    if kind == "endpoints":
        wait_until(lambda: f"{ips[0]}:8080,{ips[1]}:8080" in shown(), timeout=20, message="endpoints of api")
        assert _header(shown()) == ["NAME", "ENDPOINTS", "AGE"]
    else:
        wait_until(lambda: f"{ips[0]},{ips[1]}" in shown(), timeout=20, message="slice of api")
        assert _header(shown()) == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
        (item,) = controlled.json("endpointslices", "-n", ns)["items"]
        assert item["metadata"]["labels"]["kubernetes.io/service-name"] == "api"
        assert item["metadata"]["ownerReferences"][0]["kind"] == "Service"
    controlled.kubectl("scale", "deployment", "api", "-n", ns, "--replicas=0")
    wait_until(lambda: not any(ip in shown() for ip in ips), timeout=20, message="no endpoints left")
    controlled.kubectl("delete", "service", "api", "-n", ns)
    wait_until(lambda: "No resources found" in controlled.kubectl("get", kind, "-n", ns).stderr, timeout=20,
               message=f"{kind} removed with the service")
