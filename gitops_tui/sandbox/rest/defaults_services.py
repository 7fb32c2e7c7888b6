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
from collections.abc import Callable, Iterable
from typing import Any

_SERVICE_RANGE = ipaddress.ip_network("10.96.0.0/12")
NODE_PORTS = range(30000, 32768)
CLIENT_IP_TIMEOUT = 10800  # v1.DefaultClientIPServiceAffinitySeconds


class Taken:
    """Cluster IPs and node ports other Services hold, asked for only when a write allocates one."""

    def __init__(self, ip_taken: Callable[[str], bool] | None = None,
                 node_ports: Callable[[], Iterable[Any]] | None = None) -> None:
        """``ip_taken(address)``: whether a Service holds it; ``node_ports()``: every Service's spec.ports list."""
        self._ip_taken = ip_taken
        self._load_ports = node_ports
        self._node_ports: set[int] | None = None

    def ip_taken(self, address: str) -> bool:
        """Whether another Service holds the cluster IP ``address``."""
        return self._ip_taken is not None and self._ip_taken(address)

    @property
    def node_ports(self) -> set[int]:
        """The node ports held (read once, on first use; allocations add to it)."""
        if self._node_ports is None:
            port_lists = self._load_ports() if self._load_ports is not None else ()
            self._node_ports = {port["nodePort"] for ports in port_lists if isinstance(ports, list)
                                for port in ports if isinstance(port, dict) and isinstance(port.get("nodePort"), int)}
        return self._node_ports

    @classmethod
    def of(cls, services: list[dict[str, Any]]) -> Taken:
        """What ``services`` hold."""
        specs = [service.get("spec") or {} for service in services]
        ips = {str(spec.get("clusterIP")) for spec in specs}
        return cls(ips.__contains__, lambda: [spec.get("ports") for spec in specs])


def _cluster_ip(taken: Taken) -> str:
    while True:
        address = str(_SERVICE_RANGE[random.randrange(10, _SERVICE_RANGE.num_addresses - 1)])
        if not taken.ip_taken(address):
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
        spec["clusterIP"] = live_spec.get("clusterIP") or _cluster_ip(taken)
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
