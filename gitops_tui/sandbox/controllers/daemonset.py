"""The DaemonSet controller: one pod on every Ready node its node selector matches, replaced on updates."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.history import HASH_LABEL as REVISION_LABEL
from gitops_tui.sandbox.controllers.history import sync_history
from gitops_tui.sandbox.controllers.kinds import CONTROLLERREVISIONS, DAEMONSETS, NODES, PODS
from gitops_tui.sandbox.controllers.objects import (
    deleting,
    meta,
    owned_by,
    pod_active,
    pod_available,
    pod_ready,
    random_suffix,
    spec,
    status,
    template_hash,
    utc_now,
)
from gitops_tui.sandbox.controllers.replicaset import new_pod
from gitops_tui.sandbox.controllers.scheduler import fits

GENERATION_LABEL = "pod-template-generation"


class DaemonSetController(Controller):
    """Keeps one up-to-date pod per eligible node."""

    name = "daemonset"

    def setup(self) -> None:
        """Reconcile on changes of DaemonSets, their pods, and nodes."""
        self.on(DAEMONSETS, lambda kind, old, new: self.enqueue_obj(new or old))
        self.on(PODS, self.enqueue_owner(DAEMONSETS))
        self.on(CONTROLLERREVISIONS, self.enqueue_owner(DAEMONSETS))
        def every_daemonset(kind: str, old: Any, new: Any) -> None:
            for ds in self.ctx.items(DAEMONSETS):
                self.enqueue_obj(ds)

        self.on(NODES, every_daemonset)

    def start(self) -> None:
        """Look at every DaemonSet once."""
        for obj in self.ctx.items(DAEMONSETS):
            self.enqueue_obj(obj)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Create missing pods, remove misplaced ones, replace one outdated pod at a time; write the status."""
        ds = self.ctx.cache(DAEMONSETS, namespace, name)
        if ds is None:
            return None
        template = spec(ds).get("template") or {}
        revision = template_hash(template, status(ds).get("collisionCount"))
        if not deleting(ds):
            _, revision = sync_history(self.ctx, ds)
        probe = {"spec": template.get("spec") or {}}
        nodes = {meta(n).get("name", ""): n for n in self.ctx.items(NODES) if fits(probe, n)}
        pods = [p for p in owned_by(self.ctx.items(PODS, namespace), ds) if pod_active(p)]
        if not deleting(ds):
            placed = {spec(p).get("nodeName") for p in pods}
            labels = {REVISION_LABEL: revision, GENERATION_LABEL: str(meta(ds).get("generation", 1))}
            for node in sorted(set(nodes) - placed):
                self.ctx.create(PODS, new_pod(ds, template, f"{name}-{random_suffix()}", labels, node))
            for pod in pods:
                if spec(pod).get("nodeName") not in nodes:
                    self.ctx.delete(PODS, pod)
            outdated = [p for p in pods if (meta(p).get("labels") or {}).get(REVISION_LABEL) != revision
                        and spec(p).get("nodeName") in nodes]
            on_delete = (spec(ds).get("updateStrategy") or {}).get("type") == "OnDelete"
            if outdated and not on_delete and all(pod_ready(p) for p in pods):
                self.ctx.delete(PODS, outdated[0])
            pods = [p for p in owned_by(self.ctx.items(PODS, namespace), ds) if pod_active(p)]
        self._write_status(ds, pods, nodes, revision)
        return None

    def _write_status(self, ds: dict[str, Any], pods: list[dict[str, Any]], nodes: dict[str, Any],
                      revision: str) -> None:
        now = utc_now()
        min_ready = int(spec(ds).get("minReadySeconds") or 0)
        scheduled = {spec(p).get("nodeName") for p in pods if spec(p).get("nodeName") in nodes}
        ready = sum(1 for p in pods if spec(p).get("nodeName") in nodes and pod_ready(p))
        available = sum(1 for p in pods if spec(p).get("nodeName") in nodes and pod_available(p, min_ready, now))
        updated = sum(1 for p in pods if (meta(p).get("labels") or {}).get(REVISION_LABEL) == revision)
        new: dict[str, Any] = {
            "observedGeneration": meta(ds).get("generation", 1), "desiredNumberScheduled": len(nodes),
            "currentNumberScheduled": len(scheduled),
            "numberMisscheduled": sum(1 for p in pods if spec(p).get("nodeName") not in nodes),
            "numberReady": ready, "updatedNumberScheduled": updated}
        if available:
            new["numberAvailable"] = available
        if len(nodes) - available > 0:
            new["numberUnavailable"] = len(nodes) - available
        self.ctx.write_status(DAEMONSETS, ds, new)
