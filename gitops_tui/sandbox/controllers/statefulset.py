"""The StatefulSet controller: ordinal pods <name>-0..N-1, in order, with revisions and rolling updates."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.history import HASH_LABEL as REVISION_LABEL
from gitops_tui.sandbox.controllers.history import sync_history
from gitops_tui.sandbox.controllers.kinds import CONTROLLERREVISIONS, PODS, STATEFULSETS
from gitops_tui.sandbox.controllers.objects import (
    deleting,
    meta,
    owned_by,
    pod_active,
    pod_available,
    pod_ready,
    spec,
    status,
    template_hash,
    utc_now,
)
from gitops_tui.sandbox.controllers.replicaset import new_pod


def update_revision(sts: dict[str, Any]) -> str:
    """The name of the revision of the StatefulSet's current template."""
    return f"{meta(sts).get('name')}-{template_hash(spec(sts).get('template'), status(sts).get('collisionCount'))}"


def ordinal(pod: dict[str, Any], sts_name: str) -> int:
    """A pod's ordinal (-1 when its name is not <sts>-<n>)."""
    tail = str(meta(pod).get("name", ""))[len(sts_name) + 1:]
    return int(tail) if tail.isdigit() else -1


class StatefulSetController(Controller):
    """Creates, deletes and replaces a StatefulSet's pods one ordinal at a time (or all at once for Parallel)."""

    name = "statefulset"

    def setup(self) -> None:
        """Reconcile on changes of StatefulSets and of their pods."""
        self.on(STATEFULSETS, lambda kind, old, new: self.enqueue_obj(new or old))
        self.on(PODS, self.enqueue_owner(STATEFULSETS))
        self.on(CONTROLLERREVISIONS, self.enqueue_owner(STATEFULSETS))

    def start(self) -> None:
        """Look at every StatefulSet once."""
        for obj in self.ctx.items(STATEFULSETS):
            self.enqueue_obj(obj)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """One step toward spec.replicas pods at the update revision; then the status."""
        sts = self.ctx.cache(STATEFULSETS, namespace, name)
        if sts is None:
            return None
        pods = {ordinal(p, name): p for p in owned_by(self.ctx.items(PODS, namespace), sts) if not deleting(p)}
        revision = status(sts).get("updateRevision") or update_revision(sts)
        if not deleting(sts):
            revision, _ = sync_history(self.ctx, sts)
            self._step(sts, pods, revision)
            pods = {ordinal(p, name): p for p in owned_by(self.ctx.items(PODS, namespace), sts) if not deleting(p)}
        self._write_status(sts, pods, revision)
        return None

    def _step(self, sts: dict[str, Any], pods: dict[int, dict[str, Any]], revision: str) -> None:
        name = meta(sts).get("name", "")
        want = int(spec(sts).get("replicas", 1) if spec(sts).get("replicas") is not None else 1)
        parallel = spec(sts).get("podManagementPolicy") == "Parallel"
        for index in range(want):
            pod = pods.get(index)
            if pod is None:
                labels = {REVISION_LABEL: revision, "statefulset.kubernetes.io/pod-name": f"{name}-{index}",
                          "apps.kubernetes.io/pod-index": str(index)}
                made = new_pod(sts, spec(sts).get("template") or {}, f"{name}-{index}", labels)
                made["spec"].update(hostname=f"{name}-{index}", subdomain=spec(sts).get("serviceName") or name)
                self.ctx.create(PODS, made)
                if not parallel:
                    return
            elif not parallel and not pod_ready(pod):
                return
        for index in sorted((i for i in pods if i >= want or i < 0), reverse=True):
            self.ctx.delete(PODS, pods[index])
            if not parallel:
                return
        if (spec(sts).get("updateStrategy") or {}).get("type") == "OnDelete":
            return
        partition = int(((spec(sts).get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition") or 0)
        if all(pod_ready(p) for p in pods.values()):
            for index in sorted((i for i in pods if partition <= i < want), reverse=True):
                if (meta(pods[index]).get("labels") or {}).get(REVISION_LABEL) != revision:
                    self.ctx.delete(PODS, pods[index])
                    return

    def _write_status(self, sts: dict[str, Any], pods: dict[int, dict[str, Any]], revision: str) -> None:
        live = [p for p in pods.values() if pod_active(p)]
        now = utc_now()
        min_ready = int(spec(sts).get("minReadySeconds") or 0)
        updated = [p for p in live if (meta(p).get("labels") or {}).get(REVISION_LABEL) == revision]
        old = status(sts)
        current_revision = old.get("currentRevision") or revision
        want = int(spec(sts).get("replicas", 1) if spec(sts).get("replicas") is not None else 1)
        if len(updated) == len(live) == want:
            current_revision = revision
        current = [p for p in live if (meta(p).get("labels") or {}).get(REVISION_LABEL) == current_revision]
        new = {"observedGeneration": meta(sts).get("generation", 1), "replicas": len(live),
               "readyReplicas": sum(1 for p in live if pod_ready(p)),
               "availableReplicas": sum(1 for p in live if pod_available(p, min_ready, now)),
               "currentReplicas": len(current), "updatedReplicas": len(updated),
               "currentRevision": current_revision, "updateRevision": revision,
               "collisionCount": int(old.get("collisionCount") or 0)}
        self.ctx.write_status(STATEFULSETS, sts, new)
