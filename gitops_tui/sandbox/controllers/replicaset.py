"""ReplicaSets and ReplicationControllers: keep the wanted number of Pods from the template, and report it."""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.kinds import PODS, REPLICASETS, REPLICATIONCONTROLLERS
from gitops_tui.sandbox.controllers.objects import (
    controller_uid,
    deleting,
    map_matches,
    meta,
    owned_by,
    owner_reference,
    pod_active,
    pod_available,
    pod_ready,
    random_suffix,
    selector_matches,
    spec,
    status,
    utc_now,
)
from gitops_tui.sandbox.controllers.rest import Resource

#: Pods created or deleted per pass at most, as kube-controller-manager's burstReplicas.
BURST = 500


def want_of(owner: dict[str, Any]) -> int:
    """spec.replicas of a set (1 when unset)."""
    value = spec(owner).get("replicas")
    return 1 if value is None else int(value)


def new_pod(owner: dict[str, Any], template: dict[str, Any], name: str, extra_labels: dict[str, str] | None = None,
            node: str = "") -> dict[str, Any]:
    """A Pod made from a controller's template, owned by it."""
    template = copy.deepcopy(template or {})
    tmeta = template.get("metadata") or {}
    labels = {**(tmeta.get("labels") or {}), **(extra_labels or {})}
    pod_meta: dict[str, Any] = {"name": name, "namespace": meta(owner).get("namespace", ""), "labels": labels,
                                "ownerReferences": [owner_reference(owner)]}
    if tmeta.get("annotations"):
        pod_meta["annotations"] = tmeta["annotations"]
    pod_spec = template.get("spec") or {}
    pod_spec.setdefault("restartPolicy", "Always")
    pod_spec.setdefault("dnsPolicy", "ClusterFirst")
    pod_spec.setdefault("schedulerName", "default-scheduler")
    pod_spec.setdefault("terminationGracePeriodSeconds", 30)
    if node:
        pod_spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": pod_spec}


def deletion_order(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pods in the order a ReplicaSet gives them up: unscheduled, then not ready, then the newest."""
    def rank(pod: dict[str, Any]) -> tuple:
        return (bool(spec(pod).get("nodeName")), status(pod).get("phase") == "Running", pod_ready(pod),
                "".join(chr(0x10FFFF - ord(ch)) for ch in str(meta(pod).get("creationTimestamp", ""))))
    return sorted(pods, key=rank)


class ReplicaSetController(Controller):
    """The ReplicaSet controller (and, with ``legacy``, the ReplicationController manager)."""

    name = "replicaset"
    resource: Resource = REPLICASETS

    def setup(self) -> None:
        """Reconcile on changes of the sets and of the pods they own."""
        self.on(self.resource, lambda kind, old, new: self.enqueue_obj(new or old))
        self.on(PODS, self.enqueue_owner(self.resource))

    def start(self) -> None:
        """Look at every set once (what changed while the controllers were down)."""
        for obj in self.ctx.items(self.resource):
            self.enqueue_obj(obj)

    def selects(self, owner: dict[str, Any], labels: dict[str, Any]) -> bool:
        """Whether the set's selector matches a pod's labels."""
        return selector_matches(spec(owner).get("selector"), labels)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Create or delete pods until the set has spec.replicas of them; then write its status."""
        owner = self.ctx.cache(self.resource, namespace, name)
        if owner is None:
            return None
        pods = [p for p in owned_by(self.ctx.items(PODS, namespace), owner) if pod_active(p)]
        if not deleting(owner):
            pods += self._adopt(owner, namespace)
            want = want_of(owner)
            if len(pods) < want:
                template = spec(owner).get("template") or {}
                for _ in range(min(want - len(pods), BURST)):
                    made = self.ctx.create(PODS, new_pod(owner, template, f"{name}-{random_suffix()}"))
                    if made is not None:
                        pods.append(made)
            elif len(pods) > want:
                for pod in deletion_order(pods)[: min(len(pods) - want, BURST)]:
                    self.ctx.delete(PODS, pod)
                    pods.remove(pod)
        wait = self._write_status(owner, pods)
        return 0.0 if len(pods) != want_of(owner) and not deleting(owner) else wait

    def _adopt(self, owner: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
        """Take the orphaned pods the selector matches (after a `delete --cascade=orphan` of an older owner)."""
        adopted = []
        for pod in self.ctx.items(PODS, namespace):
            if pod_active(pod) and not controller_uid(pod) and self.selects(owner, meta(pod).get("labels") or {}):
                refs = [*(meta(pod).get("ownerReferences") or []), owner_reference(owner)]
                done = self.ctx.patch(PODS, pod, {"metadata": {"ownerReferences": refs,
                                                               "resourceVersion": meta(pod).get("resourceVersion")}})
                if done is not None:
                    adopted.append(done)
        return adopted

    def _write_status(self, owner: dict[str, Any], pods: list[dict[str, Any]]) -> float | None:
        now = utc_now()
        min_ready = int(spec(owner).get("minReadySeconds") or 0)
        labels = ((spec(owner).get("template") or {}).get("metadata") or {}).get("labels") or {}
        ready = [p for p in pods if pod_ready(p)]
        available = [p for p in ready if pod_available(p, min_ready, now)]
        new = {**{k: v for k, v in status(owner).items() if k == "conditions"},
               "replicas": len(pods), "observedGeneration": meta(owner).get("generation", 1)}
        fully = sum(1 for p in pods if all((meta(p).get("labels") or {}).get(k) == v for k, v in labels.items()))
        if fully:
            new["fullyLabeledReplicas"] = fully
        if ready:
            new["readyReplicas"] = len(ready)
        if available:
            new["availableReplicas"] = len(available)
        self.ctx.write_status(self.resource, owner, new)
        return float(min_ready) if len(available) < len(ready) else None


class ReplicationControllerManager(ReplicaSetController):
    """The ReplicationController manager: a ReplicaSet controller whose selector is a plain label map."""

    name = "replicationcontroller"
    resource = REPLICATIONCONTROLLERS

    def selects(self, owner: dict[str, Any], labels: dict[str, Any]) -> bool:
        """Whether the RC's label map matches a pod's labels."""
        return map_matches(spec(owner).get("selector"), labels)
