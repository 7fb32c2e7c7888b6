"""The scheduler: binds each unscheduled Pod to the least busy Ready node that fits, through pods/binding."""

from __future__ import annotations

import threading
from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.kinds import NODES, PODS
from gitops_tui.sandbox.controllers.objects import (
    conditions_by_type,
    controller_uid,
    deleting,
    meta,
    pod_terminal,
    spec,
    status,
    timestamp,
    utc_now,
)
from gitops_tui.sandbox.controllers.rest import ApiException, status_of

SCHEDULER_MANAGER = "kube-scheduler"
DEFAULT_SCHEDULER = "default-scheduler"


def wants_scheduling(pod: dict[str, Any] | None) -> bool:
    """Whether the default scheduler should bind this pod."""
    if not pod or deleting(pod) or pod_terminal(pod) or spec(pod).get("nodeName"):
        return False
    return spec(pod).get("schedulerName") in (None, "", DEFAULT_SCHEDULER)


def _tolerated(pod: dict[str, Any], taint: dict[str, Any]) -> bool:
    if taint.get("effect") not in ("NoSchedule", "NoExecute"):
        return True
    for tol in spec(pod).get("tolerations") or []:
        if tol.get("operator") == "Exists" and not tol.get("key"):
            return True
        if tol.get("key") == taint.get("key") and tol.get("effect") in (None, "", taint.get("effect")):
            if tol.get("operator") == "Exists" or tol.get("value") == taint.get("value"):
                return True
    return False


def fits(pod: dict[str, Any], node: dict[str, Any]) -> bool:
    """Whether ``pod`` may run on ``node``: Ready, schedulable, node selector and taints."""
    ready = conditions_by_type(node).get("Ready") or {}
    if ready.get("status") != "True" or spec(node).get("unschedulable") or deleting(node):
        return False
    labels = meta(node).get("labels") or {}
    if any(labels.get(k) != v for k, v in (spec(pod).get("nodeSelector") or {}).items()):
        return False
    return all(_tolerated(pod, taint) for taint in spec(node).get("taints") or [])


def _room(node: dict[str, Any], used: int) -> bool:
    allowed = str((status(node).get("allocatable") or {}).get("pods") or "110")
    return used < (int(allowed) if allowed.isdigit() else 110)


def choose_node(pod: dict[str, Any], nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> str | None:
    """The fitting node with room, the fewest pods of the same controller, then the fewest pods (or None)."""
    owner = controller_uid(pod)
    load: dict[str, list[int]] = {}
    for other in pods:
        where = spec(other).get("nodeName")
        if where and not pod_terminal(other):
            counts = load.setdefault(where, [0, 0])
            counts[0] += bool(owner) and controller_uid(other) == owner
            counts[1] += 1
    candidates = sorted((*load.get(meta(n).get("name", ""), [0, 0]), meta(n).get("name", "")) for n in nodes
                        if fits(pod, n) and _room(n, load.get(meta(n).get("name", ""), [0, 0])[1]))
    return candidates[0][2] if candidates else None


class Scheduler(Controller):
    """Binds pods; says why in the PodScheduled condition when no node fits."""

    name = "scheduler"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._lock = threading.Lock()

    def setup(self) -> None:
        """Look at every pod that needs a node, and at all of them again when nodes change."""
        def retry_all(kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
            for pod in self.ctx.items(PODS):
                if wants_scheduling(pod):
                    self.enqueue_obj(pod)

        def pod_changed(kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
            if wants_scheduling(new):
                self.enqueue_obj(new)
            elif spec(old).get("nodeName") and (new is None or pod_terminal(new)):
                retry_all(kind, old, new)  # room freed on a node: the pending pods may fit now

        self.on(PODS, pod_changed)
        self.on(NODES, retry_all)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Bind one pod, or record that it cannot be scheduled."""
        pod = self.ctx.cache(PODS, namespace, name)
        if pod is None or not wants_scheduling(pod):
            return None
        nodes = self.ctx.items(NODES)
        with self._lock:  # one decision at a time, each assumed at once: the next pods see it (kube-scheduler's cache)
            chosen = choose_node(pod, nodes, self.ctx.items(PODS))
            if chosen is not None:
                self.ctx.informer(PODS).upsert({**pod, "spec": {**spec(pod), "nodeName": chosen}}, assumed=True)
        if chosen is None:
            self._unschedulable(pod, nodes)
            return None
        binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name, "namespace": namespace},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": chosen}}
        try:
            self.ctx.rest.request("POST", PODS.path(namespace, name, "binding"),
                                  {"fieldManager": SCHEDULER_MANAGER}, binding)
        except ApiException as exc:
            if status_of(exc) in (404, 409):
                return None
            self.ctx.informer(PODS).upsert(pod, assumed=True)  # forget the assumption: try again
            raise
        return None

    def _unschedulable(self, pod: dict[str, Any], nodes: list[dict[str, Any]]) -> None:
        total = len(nodes)
        fitting = sum(1 for n in nodes if fits(pod, n))
        reasons = []
        if fitting:
            reasons.append(f"{fitting} Too many pods")
        if total - fitting:
            reasons.append(f"{total - fitting} node(s) didn't match Pod's node affinity/selector")
        message = (f"0/{total} nodes are available: {', '.join(reasons)}. preemption: 0/{total} nodes are "
                   f"available: {total} Preemption is not helpful for scheduling.")
        old = conditions_by_type(pod).get("PodScheduled") or {}
        if old.get("status") == "False" and old.get("message") == message:
            return
        cond = {"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                "lastTransitionTime": old.get("lastTransitionTime") or timestamp(utc_now()),
                "reason": "Unschedulable", "message": message}
        others = [c for c in status(pod).get("conditions") or [] if c.get("type") != "PodScheduled"]
        self.ctx.patch(PODS, pod, {"status": {"conditions": [*others, cond]}}, SCHEDULER_MANAGER, "status")
