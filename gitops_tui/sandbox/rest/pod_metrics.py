"""`metrics.k8s.io/v1beta1` PodMetrics and NodeMetrics, as metrics-server answers them, from figures tests set.

A sandbox runs no containers, so there is no usage to measure: a Pod's CPU and memory usage is what
its annotations `metrics.sandbox.gitops-tui.io/cpu` and `.../memory` say (quantities: `250m`,
`64Mi`; 0 when absent), reported for its first container. As metrics-server does, only running
Pods have metrics, and a Node's usage is the sum of its running Pods'. Read-only: get and list
(with label selectors), which is what the HPA controller and `kubectl top` use.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gitops_tui.sandbox.schema.quantity import parse_quantity
from gitops_tui.sandbox.serving.common import ApiRequest, Response, now
from gitops_tui.sandbox.serving.errors import method_not_allowed, not_found
from gitops_tui.sandbox.serving.query import labels_match, parse_label_selector
from gitops_tui.sandbox.serving.routing import ResourceRoute
from gitops_tui.sandbox.storage.store import Store

GROUP, VERSION = "metrics.k8s.io", "v1beta1"
CPU_ANNOTATION = "metrics.sandbox.gitops-tui.io/cpu"
MEMORY_ANNOTATION = "metrics.sandbox.gitops-tui.io/memory"
WINDOW = "15s"  # metrics-server's default resolution


def serves(route: ResourceRoute) -> bool:
    """Whether ``route`` is a metrics.k8s.io resource."""
    return route.group == GROUP and route.version == VERSION and route.plural in ("pods", "nodes")


def _amount(value: Any) -> Decimal:
    amount = parse_quantity(value) if value is not None else None
    return amount if amount is not None and amount > 0 else Decimal(0)


def _usage(cpu: Decimal, memory: Decimal) -> dict[str, str]:
    """Usage as metrics-server writes it: CPU in nanocores, memory in KiB."""
    return {"cpu": f"{int(cpu * 1_000_000_000)}n", "memory": f"{int(memory) // 1024}Ki"}


def pod_usage(pod: dict[str, Any]) -> tuple[Decimal, Decimal]:
    """A Pod's (cpu cores, memory bytes) usage from its annotations."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    return _amount(annotations.get(CPU_ANNOTATION)), _amount(annotations.get(MEMORY_ANNOTATION))


def _running(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and not (pod.get("metadata") or {}).get(
        "deletionTimestamp")


def _pod_metrics(pod: dict[str, Any], stamp: str) -> dict[str, Any]:
    m = pod.get("metadata") or {}
    cpu, memory = pod_usage(pod)
    containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or [] if isinstance(c, dict)]
    return {"metadata": {"name": m.get("name"), "namespace": m.get("namespace"), "creationTimestamp": stamp,
                         "labels": dict(m.get("labels") or {})},
            "timestamp": stamp, "window": WINDOW,
            "containers": [{"name": name, "usage": _usage(cpu, memory) if i == 0 else _usage(Decimal(0), Decimal(0))}
                           for i, name in enumerate(containers)]}


def _node_metrics(node: dict[str, Any], pods: list[dict[str, Any]], stamp: str) -> dict[str, Any]:
    name = (node.get("metadata") or {}).get("name")
    cpu = memory = Decimal(0)
    for pod in pods:
        if (pod.get("spec") or {}).get("nodeName") == name:
            pod_cpu, pod_memory = pod_usage(pod)
            cpu, memory = cpu + pod_cpu, memory + pod_memory
    return {"metadata": {"name": name, "creationTimestamp": stamp,
                         "labels": dict((node.get("metadata") or {}).get("labels") or {})},
            "timestamp": stamp, "window": WINDOW, "usage": _usage(cpu, memory)}


def handle(store: Store, route: ResourceRoute, req: ApiRequest) -> Response:
    """GET one PodMetrics / NodeMetrics or a list of them."""
    if req.method != "GET" or req.flag("watch") or route.watch_path or route.subresource:
        raise method_not_allowed()
    stamp = now()
    pods = [p for p in store.list("", "pods", route.namespace if route.plural == "pods" else None)[0]
            if _running(p)]
    if route.plural == "pods":
        kind = "PodMetrics"
        items = [_pod_metrics(p, stamp) for p in pods]
    else:
        kind = "NodeMetrics"
        items = [_node_metrics(n, pods, stamp) for n in store.list("", "nodes")[0]]
    if route.name is not None:
        found = [i for i in items if i["metadata"]["name"] == route.name]
        if not found:
            raise not_found(GROUP, route.plural, route.name)
        return Response(200, {"kind": kind, "apiVersion": f"{GROUP}/{VERSION}", **found[0]})
    selector = parse_label_selector(req.query.get("labelSelector"))
    items = [i for i in items if labels_match(selector, i)]
    return Response(200, {"kind": f"{kind}List", "apiVersion": f"{GROUP}/{VERSION}", "metadata": {},
                          "items": items})
