"""Endpoints and EndpointSlices of each Service with a selector, from the Pods it selects (ready or not)."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.kinds import ENDPOINTS, ENDPOINTSLICES, PODS, SERVICES
from gitops_tui.sandbox.controllers.objects import (
    controller_uid,
    deleting,
    map_matches,
    meta,
    owner_reference,
    pod_ready,
    pod_terminal,
    random_suffix,
    spec,
    status,
)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"


def _target_port(port: dict[str, Any], pod: dict[str, Any]) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for container in spec(pod).get("containers") or []:
        for declared in container.get("ports") or []:
            if declared.get("name") == target and declared.get("protocol", "TCP") == port.get("protocol", "TCP"):
                return int(declared.get("containerPort"))
    return None


def _backends(svc: dict[str, Any], pods: list[dict[str, Any]]) -> list[tuple[dict[str, Any], bool]]:
    """The selected pods that have an address, with whether each is ready."""
    return sorted(((p, pod_ready(p)) for p in pods
                   if map_matches(spec(svc).get("selector"), meta(p).get("labels"))
                   and status(p).get("podIP") and not pod_terminal(p) and not deleting(p)),
                  key=lambda pair: str(status(pair[0]).get("podIP")))


def _target_ref(pod: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "Pod", "namespace": meta(pod).get("namespace", ""), "name": meta(pod).get("name", ""),
            "uid": meta(pod).get("uid", "")}


def endpoints_subsets(svc: dict[str, Any], backends: list[tuple[dict[str, Any], bool]]) -> list[dict[str, Any]]:
    """The subsets of a Service's Endpoints: one per distinct resolved port set."""
    groups: dict[tuple, dict[str, Any]] = {}
    for pod, ready in backends:
        ports = []
        for port in spec(svc).get("ports") or []:
            number = _target_port(port, pod)
            if number is None:
                continue
            entry: dict[str, Any] = {"port": number, "protocol": port.get("protocol", "TCP")}
            if port.get("name"):
                entry["name"] = port["name"]
            ports.append(entry)
        key = tuple(sorted((p.get("name", ""), p["port"], p["protocol"]) for p in ports))
        subset = groups.setdefault(key, {"ports": ports} if ports else {})
        address = {"ip": status(pod).get("podIP"), "nodeName": spec(pod).get("nodeName"), "targetRef": _target_ref(pod)}
        subset.setdefault("addresses" if ready else "notReadyAddresses", []).append(address)
    return list(groups.values())


def slice_body(svc: dict[str, Any], backends: list[tuple[dict[str, Any], bool]]) -> dict[str, Any]:
    """The endpoints and ports of a Service's EndpointSlice."""
    endpoints = [{"addresses": [status(p).get("podIP")],
                  "conditions": {"ready": ready, "serving": ready, "terminating": False},
                  "nodeName": spec(p).get("nodeName"), "targetRef": _target_ref(p)} for p, ready in backends]
    ports = []
    first = backends[0][0] if backends else None
    for port in spec(svc).get("ports") or []:
        number = _target_port(port, first) if first else None
        if first is not None and number is None:
            continue
        ports.append({"name": port.get("name", ""), "port": number, "protocol": port.get("protocol", "TCP")})
    return {"addressType": "IPv4", "endpoints": endpoints, "ports": ports or None}


def _labels_patch(current: dict[str, Any], labels: dict[str, Any]) -> dict[str, Any]:
    """The merge patch making an object's labels exactly ``labels``."""
    return {**{k: None for k in meta(current).get("labels") or {} if k not in labels}, **labels}


class EndpointsController(Controller):
    """Keeps each selector Service's Endpoints and EndpointSlice in step with its pods."""

    name = "endpoints"

    def setup(self) -> None:
        """Reconcile a Service when it, its pods, its Endpoints or its slice change."""
        self.on(SERVICES, lambda kind, old, new: self.enqueue_obj(new or old))

        def pod_changed(kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
            namespace = meta(new or old).get("namespace", "")
            for svc in self.ctx.items(SERVICES, namespace):
                selector = spec(svc).get("selector")
                if any(obj and map_matches(selector, meta(obj).get("labels")) for obj in (old, new)):
                    self.enqueue_obj(svc)

        self.on(PODS, pod_changed)
        self.on(ENDPOINTS, lambda kind, old, new: self.enqueue_obj(new or old))
        self.on(ENDPOINTSLICES, lambda kind, old, new: self.enqueue(
            meta(new or old).get("namespace", ""), (meta(new or old).get("labels") or {}).get(SERVICE_NAME_LABEL, ""))
            if (meta(new or old).get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY else None)

    def start(self) -> None:
        """Look at every Service once."""
        for obj in self.ctx.items(SERVICES):
            self.enqueue_obj(obj)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Write the Endpoints and the EndpointSlice of one Service (or remove the Endpoints of a gone one)."""
        if not name:
            return None
        svc = self.ctx.cache(SERVICES, namespace, name)
        current = self.ctx.cache(ENDPOINTS, namespace, name)
        if svc is None or deleting(svc):
            if current is not None and svc is None:
                self.ctx.delete(ENDPOINTS, current)
            return None
        if not spec(svc).get("selector"):
            return None  # endpoints of a Service without a selector are the user's to write
        backends = _backends(svc, self.ctx.items(PODS, namespace))
        self._endpoints(svc, current, endpoints_subsets(svc, backends))
        self._slice(svc, slice_body(svc, backends))
        return None

    def _endpoints(self, svc: dict[str, Any], current: dict[str, Any] | None, subsets: list[dict[str, Any]]) -> None:
        labels = dict(meta(svc).get("labels") or {})
        if current is None:
            body: dict[str, Any] = {"apiVersion": "v1", "kind": "Endpoints",
                                    "metadata": {"name": meta(svc)["name"], "namespace": meta(svc)["namespace"],
                                                 "labels": labels}}
            if subsets:
                body["subsets"] = subsets
            self.ctx.create(ENDPOINTS, body)
        elif (current.get("subsets") or []) != subsets or (meta(current).get("labels") or {}) != labels:
            self.ctx.patch(ENDPOINTS, current, {"metadata": {"labels": _labels_patch(current, labels)},
                                                "subsets": subsets or None})

    def _slice(self, svc: dict[str, Any], body: dict[str, Any]) -> None:
        name, namespace = meta(svc)["name"], meta(svc)["namespace"]
        mine = [s for s in self.ctx.items(ENDPOINTSLICES, namespace) if controller_uid(s) == meta(svc).get("uid")]
        labels = {**(meta(svc).get("labels") or {}), SERVICE_NAME_LABEL: name, MANAGED_BY_LABEL: MANAGED_BY}
        if not mine:
            self.ctx.create(ENDPOINTSLICES, {
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": f"{name}-{random_suffix()}", "namespace": namespace, "labels": labels,
                             "ownerReferences": [owner_reference(svc)]},
                **{k: v for k, v in body.items() if v is not None}})
            return
        for extra in mine[1:]:
            self.ctx.delete(ENDPOINTSLICES, extra)
        current = mine[0]
        if any(current.get(k) != body[k] for k in body) or (meta(current).get("labels") or {}) != labels:
            self.ctx.patch(ENDPOINTSLICES, current, {"metadata": {"labels": _labels_patch(current, labels)}, **body})
