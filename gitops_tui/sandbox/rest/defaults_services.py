"""A Service's defaults and allocations as kube-apiserver v1.32 makes them on a single-stack IPv4 cluster.

SetDefaults_Service (`pkg/apis/core/v1/defaults.go`): type ClusterIP, sessionAffinity None (ClientIP
gets a 10800 s timeout), port protocol TCP and targetPort = port, externalTrafficPolicy Cluster for
NodePort and LoadBalancer, internalTrafficPolicy Cluster, allocateLoadBalancerNodePorts for
LoadBalancer. The Service REST storage (`pkg/registry/core/service/storage/alloc.go`) then allocates
the cluster IP from the service range and node ports from 30000-32767, and fills the IP families.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from typing import Any

_SERVICE_RANGE = ipaddress.ip_network("10.96.0.0/12")
NODE_PORTS = range(30000, 32768)
CLIENT_IP_TIMEOUT = 10800  # v1.DefaultClientIPServiceAffinitySeconds


@dataclass
class Taken:
    """Cluster IPs and node ports other Services hold."""

    ips: set[str] = field(default_factory=set)
    node_ports: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, services: list[dict[str, Any]]) -> Taken:
        """What ``services`` hold."""
        taken = cls()
        for service in services:
            spec = service.get("spec") or {}
            taken.ips.add(str(spec.get("clusterIP")))
            for port in spec.get("ports") or []:
                if isinstance(port, dict) and isinstance(port.get("nodePort"), int):
                    taken.node_ports.add(port["nodePort"])
        return taken


def _cluster_ip(taken: set[str]) -> str:
    while True:
        address = str(_SERVICE_RANGE[random.randrange(10, _SERVICE_RANGE.num_addresses - 1)])
        if address not in taken:
            return address


def _node_port(taken: set[int]) -> int:
    free = [p for p in NODE_PORTS if p not in taken]
    port = random.choice(free) if free else NODE_PORTS[0]
    taken.add(port)
    return port


def service_defaults(spec: dict[str, Any], live_spec: dict[str, Any], taken: Taken) -> None:
    """Fill a Service spec's defaults and allocations (in place); ``live_spec`` keeps what an update omits."""
    spec.setdefault("type", "ClusterIP")
    kind = spec["type"]
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        client_ip = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {})
        if client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": CLIENT_IP_TIMEOUT}}
    live_ports = {(p.get("port"), p.get("protocol")): p.get("nodePort")
                  for p in live_spec.get("ports") or [] if isinstance(p, dict)}
    for port in spec.get("ports") or []:
        if not isinstance(port, dict):
            continue
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
        if kind in ("NodePort", "LoadBalancer") and not port.get("nodePort"):
            kept = live_ports.get((port.get("port"), port["protocol"]))
            if not (kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is False):
                port["nodePort"] = kept or _node_port(taken.node_ports)
    if kind in ("NodePort", "LoadBalancer") and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    if kind == "ExternalName":
        return
    if spec.get("internalTrafficPolicy") is None:
        spec["internalTrafficPolicy"] = "Cluster"
    if not spec.get("clusterIP"):
        spec["clusterIP"] = live_spec.get("clusterIP") or _cluster_ip(taken.ips)
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    if spec["clusterIP"] == "None" and not spec.get("selector"):
        # headless without a selector: both families, whatever the cluster serves (initIPFamilyFields)
        spec.setdefault("ipFamilyPolicy", "RequireDualStack")
        spec.setdefault("ipFamilies", ["IPv4", "IPv6"])
    else:
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("ipFamilies", ["IPv4"])


def keep_allocated(new_spec: dict[str, Any], live_spec: dict[str, Any]) -> None:
    """An update that leaves out the allocated cluster IPs keeps them (they are immutable)."""
    for key in ("clusterIP", "clusterIPs"):
        if not new_spec.get(key) and live_spec.get(key):
            new_spec[key] = live_spec[key]
