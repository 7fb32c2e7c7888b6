"""Simulated Nodes, kwok-style: a few Ready nodes per cluster that register themselves and come back if deleted."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.kinds import NODES
from gitops_tui.sandbox.controllers.objects import conditions_by_type, meta, owner_reference, timestamp, utc_now
from gitops_tui.sandbox.controllers.rest import Resource

LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")
LEASE_NAMESPACE = "kube-node-lease"

NODE_COUNT = 3
KUBELET_MANAGER = "kubelet"
CAPACITY = {"cpu": "4", "ephemeral-storage": "102400Mi", "memory": "16384Mi", "pods": "110"}
OS_IMAGE = "gitops-tui sandbox (simulated node)"


def node_names(cluster: str, count: int = NODE_COUNT) -> list[str]:
    """The names of a cluster's simulated nodes."""
    return [f"{cluster}-node-{index}" for index in range(1, count + 1)]


def node_index(name: str) -> int:
    """The number a simulated node's name ends with (its place in the pod and node address ranges)."""
    tail = name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def node_ip(name: str) -> str:
    """A simulated node's InternalIP."""
    return f"172.18.0.{node_index(name) + 1}"


def node_object(name: str) -> dict[str, Any]:
    """A new Node as a kubelet registers it."""
    index = node_index(name)
    labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok"}
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels,
                         "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"}},
            "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]}}


def node_status(node: dict[str, Any], version: str) -> dict[str, Any]:
    """The status a healthy simulated kubelet reports."""
    name = meta(node).get("name", "")
    now = utc_now()
    old = conditions_by_type(node)
    checks = (("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
              ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
              ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
              ("Ready", "True", "KubeletReady", "kubelet is posting ready status"))
    conditions = []
    for kind, state, reason, message in checks:
        previous = old.get(kind) or {}
        since = previous.get("lastTransitionTime") if previous.get("status") == state else None
        conditions.append({"type": kind, "status": state,
                           "lastHeartbeatTime": previous.get("lastHeartbeatTime") or timestamp(now),
                           "lastTransitionTime": since or timestamp(now), "reason": reason, "message": message})
    return {
        "capacity": dict(CAPACITY), "allocatable": dict(CAPACITY), "conditions": conditions,
        "addresses": [{"type": "InternalIP", "address": node_ip(name)}, {"type": "Hostname", "address": name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "6.1.0-sandbox",
                     "osImage": OS_IMAGE, "containerRuntimeVersion": "containerd://1.7.24",
                     "kubeletVersion": version, "kubeProxyVersion": version, "operatingSystem": "linux",
                     "architecture": "amd64"},
    }


def node_lease(node: dict[str, Any]) -> dict[str, Any]:
    """The node's Lease in kube-node-lease, as a kubelet registers it (never renewed: an idle sandbox stays idle)."""
    name = meta(node).get("name", "")
    owner = {**owner_reference(node, block=False), "apiVersion": "v1", "kind": "Node"}
    owner.pop("controller")
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": name, "namespace": LEASE_NAMESPACE, "ownerReferences": [owner]},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40,
                     "renewTime": utc_now().strftime("%Y-%m-%dT%H:%M:%S.000000Z")}}


class NodeController(Controller):
    """Registers the cluster's simulated nodes and keeps their status healthy."""

    name = "node"

    def setup(self) -> None:
        """Look again at one of our nodes whenever it changes or goes."""
        mine = set(node_names(self.ctx.cluster))

        def changed(kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
            name = meta(new or old).get("name")
            if name in mine:
                self.enqueue("", name)

        self.on(NODES, changed)

    def start(self) -> None:
        """Register every node."""
        for name in node_names(self.ctx.cluster):
            self.enqueue("", name)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Create the node if missing, then report its status."""
        node = self.ctx.cache(NODES, "", name)
        if node is None:
            node = self.ctx.create(NODES, node_object(name), KUBELET_MANAGER) or self.ctx.cache(NODES, "", name)
        if node is None or meta(node).get("deletionTimestamp"):
            return None
        self.ctx.write_status(NODES, node, node_status(node, self.ctx.version), KUBELET_MANAGER)
        self.ctx.create(LEASES, node_lease(node), KUBELET_MANAGER)  # once: it exists already is fine
        return None
