"""Local APIServices: one per served group-version, as kube-apiserver's autoregistration controllers keep them."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.kinds import APISERVICES, CRDS
from gitops_tui.sandbox.controllers.objects import deleting, meta, spec, timestamp, utc_now

AUTOMANAGED = "kube-aggregator.kubernetes.io/automanaged"
#: kube-apiserver's (groupPriorityMinimum, versionPriority) of the built-in group-versions.
PRIORITIES: dict[tuple[str, str], tuple[int, int]] = {
    ("", "v1"): (18000, 1), ("apiregistration.k8s.io", "v1"): (18000, 1), ("apps", "v1"): (17800, 15),
    ("events.k8s.io", "v1"): (17750, 15), ("authentication.k8s.io", "v1"): (17700, 15),
    ("authorization.k8s.io", "v1"): (17600, 15), ("autoscaling", "v1"): (17500, 15),
    ("autoscaling", "v2"): (17500, 30), ("batch", "v1"): (17400, 15), ("certificates.k8s.io", "v1"): (17300, 15),
    ("networking.k8s.io", "v1"): (17200, 15), ("policy", "v1"): (17100, 15),
    ("rbac.authorization.k8s.io", "v1"): (17000, 15), ("storage.k8s.io", "v1"): (16800, 15),
    ("admissionregistration.k8s.io", "v1"): (16700, 15), ("apiextensions.k8s.io", "v1"): (16400, 15),
    ("scheduling.k8s.io", "v1"): (16600, 15), ("coordination.k8s.io", "v1"): (16500, 15),
    ("node.k8s.io", "v1"): (16300, 15), ("discovery.k8s.io", "v1"): (16200, 15),
    ("flowcontrol.apiserver.k8s.io", "v1"): (16100, 21), ("metrics.k8s.io", "v1beta1"): (100, 100),
}
CRD_PRIORITY = (1000, 100)
_AVAILABLE = {"type": "Available", "status": "True", "reason": "Local",
              "message": "Local APIServices are always available"}


def api_service(group: str, version: str, from_crd: bool) -> dict[str, Any]:
    """The local APIService of one served group-version."""
    group_min, version_prio = CRD_PRIORITY if from_crd else PRIORITIES.get((group, version), (1000, 15))
    return {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": f"{version}.{group}", "labels": {AUTOMANAGED: "true" if from_crd else "onstart"}},
            "spec": {"group": group, "version": version, "groupPriorityMinimum": group_min,
                     "versionPriority": version_prio}}


class APIServiceController(Controller):
    """Lists what discovery serves and keeps an automanaged APIService per group-version."""

    name = "apiservice"

    def setup(self) -> None:
        """Resync when CRDs change or an APIService goes."""
        self.on(CRDS, lambda kind, old, new: self.enqueue("", "all", 0.05))
        self.on(APISERVICES, lambda kind, old, new: self.enqueue("", "all", 0.05) if new is None else None)

    def start(self) -> None:
        """Register the built-in group-versions."""
        self.enqueue("", "all")

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Create the missing local APIServices and remove the automanaged ones no longer served."""
        served = [("", v) for v in self.ctx.rest.get("/api").get("versions") or []]
        for group in self.ctx.rest.get("/apis").get("groups") or []:
            served += [(group.get("name", ""), v.get("version", "")) for v in group.get("versions") or []]
        crd_groups = {spec(crd).get("group") for crd in self.ctx.items(CRDS)}
        wanted = {f"{v}.{g}": (g, v) for g, v in served}
        for svc in self.ctx.items(APISERVICES):
            svc_name = meta(svc).get("name", "")
            if svc_name not in wanted and (meta(svc).get("labels") or {}).get(AUTOMANAGED) and not deleting(svc):
                self.ctx.delete(APISERVICES, svc)
        now = timestamp(utc_now())
        for svc_name, (group, version) in wanted.items():
            current = self.ctx.cache(APISERVICES, "", svc_name)
            if current is None:
                current = self.ctx.create(APISERVICES, api_service(group, version, group in crd_groups))
            if current is not None and not (current.get("status") or {}).get("conditions"):
                self.ctx.write_status(APISERVICES, current, {"conditions": [{**_AVAILABLE,
                                                                             "lastTransitionTime": now}]})
        return None
