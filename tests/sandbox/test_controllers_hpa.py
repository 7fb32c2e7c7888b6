"""The HPA controller and metrics.k8s.io against kube's (pkg/controller/podautoscaler, kubernetes v1.32).

Usage is set per pod with the sandbox's `metrics.sandbox.gitops-tui.io/cpu` annotation; time is the
controllers' injected clock, moved past kube's 5-minute CPU initialisation period and through the
stabilization windows by hand. The expected replica counts follow kube's formula: desired =
ceil(ready pods x utilization / target), unchanged within a 0.1 tolerance, bounded by min/max and
max(2 x current, 4) without `behavior`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes import client

from gitops_tui.sandbox.rest.pod_metrics import CPU_ANNOTATION
from tests.sandbox.clocked import Clocked, clocked, ns  # noqa: F401 - fixtures
from tests.waiting import wait_until


def workload(kind: str, name: str, replicas: int, request: str | None = "500m") -> dict[str, Any]:
    """An apps/v1 workload whose one container requests ``request`` of CPU."""
    container: dict[str, Any] = {"name": "main", "image": "nginx:1.27"}
    if request:
        container["resources"] = {"requests": {"cpu": request}}
    body = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": {
        "replicas": replicas, "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}}}}
    if kind == "StatefulSet":
        body["spec"]["serviceName"] = name
    return body


def hpa(name: str, kind: str = "Deployment", minimum: int = 1, maximum: int = 4, **spec: Any) -> dict[str, Any]:
    """An autoscaling/v2 HPA on a 50% CPU utilization target."""
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": name},
                     "minReplicas": minimum, "maxReplicas": maximum, "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}], **spec}}


def _apply(c: Clocked, ns: str, obj: dict[str, Any]) -> None:
    c.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(obj))


def _get(c: Clocked, ns: str, *what: str) -> Any:
    return json.loads(c.kubectl("get", *what, "-n", ns, "-o", "json").stdout)


def _ready_pods(c: Clocked, ns: str, app: str, count: int) -> list[str]:
    def ready() -> list[str] | None:
        pods = [p for p in _get(c, ns, "pods", "-l", f"app={app}")["items"]
                if not p["metadata"].get("deletionTimestamp")]
        good = [p["metadata"]["name"] for p in pods if any(
            cond["type"] == "Ready" and cond["status"] == "True" for cond in p["status"].get("conditions") or [])]
        return good if len(good) == count == len(pods) else None
    return wait_until(ready, timeout=30, message=f"{count} ready pods of {app}")


def _use(c: Clocked, ns: str, app: str, cpu: str) -> None:
    c.kubectl("annotate", "pods", "-n", ns, "-l", f"app={app}", f"{CPU_ANNOTATION}={cpu}", "--overwrite")


def _later(c: Clocked, **delta: float) -> datetime:
    c.at(c.clock.now + timedelta(**delta))
    return c.clock.now


def _conditions(status: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {cond["type"]: (cond["status"], cond["reason"], cond["message"]) for cond in status.get("conditions") or []}


def _status_when(c: Clocked, ns: str, name: str, check: Any, message: str) -> dict[str, Any]:
    return wait_until(lambda: check(s := _get(c, ns, "hpa", name).get("status") or {}) and s, timeout=30,
                      message=message)


def test_scales_a_deployment_up_from_pod_cpu_and_writes_status_as_kube_does(clocked: Clocked, ns: str) -> None:
    _apply(clocked, ns, workload("Deployment", "web", 2))
    pods = _ready_pods(clocked, ns, "web", 2)
    _apply(clocked, ns, hpa("web"))
    _use(clocked, ns, "web", "900m")
    # kubectl top reads the same figures from metrics.k8s.io
    top = clocked.kubectl("top", "pods", "-n", ns, "-l", "app=web").stdout.splitlines()
    assert top[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert sorted((row.split()[0], row.split()[1]) for row in top[1:]) == sorted((p, "900m") for p in pods)
    # past the CPU initialisation period: 900m of 500m is 180% against 50%: ceil(2 x 3.6) = 8, capped at 4
    scaled_at = _later(clocked, minutes=6)
    wait_until(lambda: _get(clocked, ns, "deployment", "web")["spec"]["replicas"] == 4, timeout=30,
               message="scaled to maxReplicas")
    status = _status_when(clocked, ns, "web", lambda s: _conditions(s).get("AbleToScale", ("",) * 2)[1]
                          == "SucceededRescale", "status after the scale")
    assert status["desiredReplicas"] == 4 and status["currentReplicas"] == 2
    assert status["lastScaleTime"] == scaled_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert status["currentMetrics"] == [{"type": "Resource", "resource": {"name": "cpu", "current": {
        "averageUtilization": 180, "averageValue": "900m"}}}]
    conditions = _conditions(status)
    assert conditions["AbleToScale"] == ("True", "SucceededRescale",
                                         "the HPA controller was able to update the target scale to 4")
    assert conditions["ScalingActive"] == ("True", "ValidMetricFound", "the HPA was able to successfully calculate "
                                           "a replica count from cpu resource utilization (percentage of request)")
    assert conditions["ScalingLimited"] == ("True", "TooManyReplicas",
                                            "the desired replica count is more than the maximum replica count")
    row = clocked.kubectl("get", "hpa", "web", "-n", ns).stdout.splitlines()[1].split()
    assert row[:3] == ["web", "Deployment/web", "cpu:"] and row[3] == "180%/50%"


def test_scale_down_waits_for_the_default_five_minute_stabilization(clocked: Clocked, ns: str) -> None:
    _apply(clocked, ns, workload("Deployment", "api", 4))
    _ready_pods(clocked, ns, "api", 4)
    _apply(clocked, ns, hpa("api", maximum=4))
    _use(clocked, ns, "api", "270m")  # 54% against 50%: a ratio of 1.08 is within the 0.1 tolerance, 4 stays
    start = _later(clocked, minutes=6)
    first = _status_when(clocked, ns, "api", lambda s: (s.get("currentMetrics") or [{}])[0].get("resource", {}).get(
        "current", {}).get("averageUtilization") == 54, "a first recommendation of 4")
    assert first["desiredReplicas"] == 4 and first["currentReplicas"] == 4
    assert _conditions(first)["ScalingLimited"][:2] == ("False", "DesiredWithinRange")
    _use(clocked, ns, "api", "50m")  # 10%: ceil(4 x 0.2) = 1 wanted
    _later(clocked, minutes=1)
    status = _status_when(clocked, ns, "api", lambda s: _conditions(s).get("AbleToScale", ("",) * 2)[1]
                          == "ScaleDownStabilized", "stabilized")
    assert status["desiredReplicas"] == 4 and "lastScaleTime" not in status
    assert _get(clocked, ns, "deployment", "api")["spec"]["replicas"] == 4
    clocked.at(start + timedelta(minutes=5, seconds=30))  # the recommendation of 4 has left the window
    wait_until(lambda: _get(clocked, ns, "deployment", "api")["spec"]["replicas"] == 1, timeout=30,
               message="scaled down to 1 after the window")


def test_behavior_policies_limit_the_scale_down_rate(clocked: Clocked, ns: str) -> None:
    _apply(clocked, ns, workload("Deployment", "batch", 4))
    _ready_pods(clocked, ns, "batch", 4)
    _use(clocked, ns, "batch", "10m")
    behavior = {"scaleDown": {"stabilizationWindowSeconds": 0,
                              "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}}
    _apply(clocked, ns, hpa("batch", behavior=behavior))
    _later(clocked, minutes=6)
    wait_until(lambda: _get(clocked, ns, "deployment", "batch")["spec"]["replicas"] == 3, timeout=30,
               message="one pod removed")
    status = _status_when(clocked, ns, "batch", lambda s: s.get("desiredReplicas") == 3 and _conditions(s).get(
        "ScalingLimited"), "status at 3")
    assert _conditions(status)["ScalingLimited"] == (
        "True", "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate")
    _later(clocked, seconds=30)  # still within the policy's 60 s period: no further step
    _status_when(clocked, ns, "batch", lambda s: s.get("currentReplicas") == 3, "a pass at 3")
    assert _get(clocked, ns, "deployment", "batch")["spec"]["replicas"] == 3
    _later(clocked, seconds=31)
    wait_until(lambda: _get(clocked, ns, "deployment", "batch")["spec"]["replicas"] == 2, timeout=30,
               message="the next step once the period is over")
    spec = _get(clocked, ns, "hpa", "batch")["spec"]["behavior"]
    assert spec["scaleUp"]["policies"][0] == {"type": "Pods", "value": 4, "periodSeconds": 15}  # defaulted


def test_scales_statefulsets_and_replicasets_through_their_scale_subresource(clocked: Clocked, ns: str) -> None:
    for kind, name in (("StatefulSet", "db"), ("ReplicaSet", "rs")):
        _apply(clocked, ns, workload(kind, name, 1))
        _ready_pods(clocked, ns, name, 1)
        _use(clocked, ns, name, "900m")
        _apply(clocked, ns, hpa(name, kind=kind, maximum=3))
    _later(clocked, minutes=6)
    apps = clocked.apps
    wait_until(lambda: apps.read_namespaced_stateful_set_scale("db", ns).spec.replicas == 3, timeout=30,
               message="statefulset scaled to 3")
    wait_until(lambda: apps.read_namespaced_replica_set_scale("rs", ns).spec.replicas == 3, timeout=30,
               message="replicaset scaled to 3")
    v1 = client.AutoscalingV1Api(clocked.api_client).read_namespaced_horizontal_pod_autoscaler("db", ns)
    assert v1.status.desired_replicas == 3 and v1.status.current_cpu_utilization_percentage == 180


def test_what_it_cannot_do_it_says_in_kubes_words(clocked: Clocked, ns: str) -> None:
    _apply(clocked, ns, workload("Deployment", "norequest", 1, request=None))
    pods = _ready_pods(clocked, ns, "norequest", 1)
    _apply(clocked, ns, hpa("norequest"))
    _apply(clocked, ns, hpa("ghost"))
    _later(clocked, minutes=6)
    status = _status_when(clocked, ns, "norequest", lambda s: "ScalingActive" in _conditions(s), "ScalingActive")
    assert _conditions(status)["ScalingActive"] == (
        "False", "FailedGetResourceMetric", "the HPA was unable to compute the replica count: failed to get cpu "
        f"utilization: missing request for cpu in container main of Pod {pods[0]}")
    ghost = _status_when(clocked, ns, "ghost", lambda s: "AbleToScale" in _conditions(s), "AbleToScale")
    assert _conditions(ghost)["AbleToScale"] == (
        "False", "FailedGetScale",
        'the HPA controller was unable to get the target\'s current scale: deployments.apps "ghost" not found')
    top = clocked.kubectl("top", "nodes").stdout.splitlines()
    assert top[0].split()[:3] == ["NAME", "CPU(cores)", "CPU(%)"] and len(top) == 4
    assert datetime.now(UTC) < clocked.clock.now  # only the injected clock moved
