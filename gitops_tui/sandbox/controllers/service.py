"""Service status: `loadBalancer: {}`, and for type LoadBalancer an address, as a cloud controller gives it."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.kinds import SERVICES
from gitops_tui.sandbox.controllers.objects import deleting, meta, spec, status

#: Addresses handed to LoadBalancer Services (the range kind's cloud-provider-kind uses).
LB_PREFIX = "172.18.255."
CLOUD_MANAGER = "cloud-controller-manager"


class ServiceController(Controller):
    """Writes each Service's status."""

    name = "service"

    def setup(self) -> None:
        """Reconcile a Service when it changes."""
        self.on(SERVICES, lambda kind, old, new: self.enqueue_obj(new))

    def start(self) -> None:
        """Look at every Service once."""
        for obj in self.ctx.items(SERVICES):
            self.enqueue_obj(obj)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Write `status.loadBalancer` (an ingress address for LoadBalancer Services)."""
        svc = self.ctx.cache(SERVICES, namespace, name)
        if svc is None or deleting(svc):
            return None
        balancer: dict[str, Any] = {}
        if spec(svc).get("type") == "LoadBalancer":
            balancer = {"ingress": [{"ip": self._address(svc), "ipMode": "VIP"}]}
        new = {**status(svc), "loadBalancer": balancer}
        if status(svc) != new:
            self.ctx.write_status(SERVICES, svc, new, CLOUD_MANAGER)
        return None

    def _address(self, svc: dict[str, Any]) -> str:
        mine = ((status(svc).get("loadBalancer") or {}).get("ingress") or [{}])[0].get("ip")
        if mine:
            return str(mine)
        taken = {i.get("ip") for other in self.ctx.items(SERVICES) if meta(other).get("uid") != meta(svc).get("uid")
                 for i in (status(other).get("loadBalancer") or {}).get("ingress") or []}
        return next((f"{LB_PREFIX}{n}" for n in range(1, 255) if f"{LB_PREFIX}{n}" not in taken), f"{LB_PREFIX}254")
