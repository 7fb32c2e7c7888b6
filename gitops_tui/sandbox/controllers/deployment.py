"""The deployment controller: ReplicaSets per pod template, revisions for `kubectl rollout`, rolling updates."""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.deployment_status import (
    REVISION,
    deployment_status,
    desired_replicas,
)
from gitops_tui.sandbox.controllers.kinds import DEPLOYMENTS, REPLICASETS
from gitops_tui.sandbox.controllers.objects import (
    controller_uid,
    deleting,
    int_or_percent,
    meta,
    owned_by,
    owner_reference,
    pruned,
    selector_matches,
    spec,
    status,
    template_hash,
    utc_now,
)

HASH_LABEL = "pod-template-hash"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
#: Deployment annotations the controller does not copy onto its ReplicaSets.
_NOT_COPIED = {"kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY, DESIRED, MAX_REPLICAS,
               "deprecated.deployment.rollback.to"}


def _without_hash(template: Any) -> Any:
    template = pruned(template or {})
    labels = (template.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
        if not labels:
            template["metadata"].pop("labels")
    if isinstance(template.get("metadata"), dict) and not template["metadata"]:
        template.pop("metadata")
    return template


def same_template(rs: dict[str, Any], deployment: dict[str, Any]) -> bool:
    """Whether a ReplicaSet runs the Deployment's pod template (ignoring the pod-template-hash label)."""
    return _without_hash(spec(rs).get("template")) == _without_hash(spec(deployment).get("template"))


def revision_of(rs: dict[str, Any]) -> int:
    """A ReplicaSet's `deployment.kubernetes.io/revision` (0 when unset)."""
    text = str((meta(rs).get("annotations") or {}).get(REVISION) or "0")
    return int(text) if text.isdigit() else 0


def new_replica_set(deployment: dict[str, Any], revision: int, replicas: int) -> dict[str, Any]:
    """The ReplicaSet of the Deployment's current template."""
    d_meta, d_spec = meta(deployment), spec(deployment)
    digest = template_hash(d_spec.get("template"), status(deployment).get("collisionCount"))
    template = copy.deepcopy(d_spec.get("template") or {})
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = digest
    selector = copy.deepcopy(d_spec.get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = digest
    annotations = {k: v for k, v in (d_meta.get("annotations") or {}).items() if k not in _NOT_COPIED}
    annotations.update({REVISION: str(revision), DESIRED: str(desired_replicas(deployment)),
                        MAX_REPLICAS: str(desired_replicas(deployment) + _max_surge(deployment))})
    rs_spec: dict[str, Any] = {"replicas": replicas, "selector": selector, "template": template}
    if d_spec.get("minReadySeconds"):
        rs_spec["minReadySeconds"] = d_spec["minReadySeconds"]
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{d_meta.get('name')}-{digest}", "namespace": d_meta.get("namespace", ""),
                         "labels": dict(template["metadata"]["labels"]), "annotations": annotations,
                         "ownerReferences": [owner_reference(deployment)]},
            "spec": rs_spec}


def _max_surge(deployment: dict[str, Any]) -> int:
    strategy = spec(deployment).get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    return int_or_percent((strategy.get("rollingUpdate") or {}).get("maxSurge", "25%"),
                          desired_replicas(deployment), True)


class DeploymentController(Controller):
    """Rolls a Deployment's pod template out through ReplicaSets and reports progress."""

    name = "deployment"

    def setup(self) -> None:
        """Reconcile on changes of Deployments and of the ReplicaSets they own."""
        self.on(DEPLOYMENTS, lambda kind, old, new: self.enqueue_obj(new or old))
        self.on(REPLICASETS, self.enqueue_owner(DEPLOYMENTS))

    def start(self) -> None:
        """Look at every Deployment once."""
        for obj in self.ctx.items(DEPLOYMENTS):
            self.enqueue_obj(obj)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """One pass: find or create the new ReplicaSet, scale the sets, write the status."""
        deployment = self.ctx.cache(DEPLOYMENTS, namespace, name)
        if deployment is None:
            return None
        sets = owned_by(self.ctx.items(REPLICASETS, namespace), deployment)
        if not deleting(deployment):
            sets += self._adopt(deployment, namespace)
        new_rs = next((rs for rs in sets if same_template(rs, deployment)), None)
        event = ""
        if not deleting(deployment) and spec(deployment).get("paused"):
            newest = new_rs or max(sets, key=revision_of, default=None)
            if newest is not None:  # a paused Deployment still scales, but starts no rollout
                self._set_replicas(newest, desired_replicas(deployment))
        elif not deleting(deployment):
            new_rs, event = self._ensure_new(deployment, new_rs, sets)
            if new_rs is not None and new_rs not in sets:
                sets.append(new_rs)
            self._scale(deployment, new_rs, [rs for rs in sets if rs is not new_rs])
            self._prune_history(deployment, new_rs, sets)
            self._annotate(deployment, new_rs)
        sets = owned_by(self.ctx.items(REPLICASETS, namespace), deployment) or sets
        new_rs = next((rs for rs in sets if same_template(rs, deployment)), new_rs)
        current = self.ctx.cache(DEPLOYMENTS, namespace, name) or deployment
        wanted, wait = deployment_status(current, new_rs, sets, utc_now(), event)
        self.ctx.write_status(DEPLOYMENTS, current, wanted)
        return None if wait is None else wait + 0.05

    def _adopt(self, deployment: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
        adopted = []
        for rs in self.ctx.items(REPLICASETS, namespace):
            labels = meta(rs).get("labels") or {}
            if not controller_uid(rs) and not deleting(rs) and selector_matches(spec(deployment).get("selector"),
                                                                                  labels):
                refs = [*(meta(rs).get("ownerReferences") or []), owner_reference(deployment)]
                done = self.ctx.patch(REPLICASETS, rs, {"metadata": {
                    "ownerReferences": refs, "resourceVersion": meta(rs).get("resourceVersion")}})
                if done is not None:
                    adopted.append(done)
        return adopted

    def _ensure_new(self, deployment: dict[str, Any], new_rs: dict[str, Any] | None,
                    sets: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, str]:
        """The ReplicaSet of the current template, created or given the newest revision."""
        top = max((revision_of(rs) for rs in sets if rs is not new_rs), default=0)
        if new_rs is not None:
            if revision_of(new_rs) > top:
                return new_rs, ""
            history = [h for h in str((meta(new_rs).get("annotations") or {}).get(REVISION_HISTORY) or "").split(",")
                       if h]
            if revision_of(new_rs):
                history.append(str(revision_of(new_rs)))
            annotations = {REVISION: str(top + 1)}
            if history:
                annotations[REVISION_HISTORY] = ",".join(history)
            done = self.ctx.patch(REPLICASETS, new_rs, {"metadata": {"annotations": annotations}})
            return done or new_rs, "found"
        want = desired_replicas(deployment)
        strategy = (spec(deployment).get("strategy") or {}).get("type")
        old_pods = sum(int(status(rs).get("replicas") or 0) for rs in sets)
        replicas = 0 if strategy == "Recreate" and old_pods else want
        made = self.ctx.create(REPLICASETS, new_replica_set(deployment, top + 1, replicas))
        if made is None:  # the name is taken: ours already (a late cache), or a hash collision
            taken = new_replica_set(deployment, top + 1, replicas)
            found = self.ctx.rest.get(REPLICASETS.path(meta(deployment).get("namespace", ""), meta(taken)["name"]))
            if controller_uid(found) == meta(deployment).get("uid") and same_template(found, deployment):
                self.ctx.informer(REPLICASETS).upsert(found)
                return found, "found"
            count = int(status(deployment).get("collisionCount") or 0) + 1
            self.ctx.patch(DEPLOYMENTS, deployment, {"status": {"collisionCount": count}}, subresource="status")
            return None, ""
        return made, "created"

    def _scale(self, deployment: dict[str, Any], new_rs: dict[str, Any] | None, olds: list[dict[str, Any]]) -> None:
        """Move replicas to the new set: old pods go as new ones become available (or first, for Recreate)."""
        want = desired_replicas(deployment)
        recreate = (spec(deployment).get("strategy") or {}).get("type") == "Recreate"
        if new_rs is None:
            return
        old_running = sum(int(status(rs).get("replicas") or 0) for rs in olds)
        if recreate:
            for rs in olds:
                self._set_replicas(rs, 0)
            self._set_replicas(new_rs, 0 if old_running else want)
            return
        self._set_replicas(new_rs, want)
        new_available = int(status(new_rs).get("availableReplicas") or 0)
        keep = max(0, want - new_available)
        for rs in sorted(olds, key=revision_of, reverse=True):
            current = int(spec(rs).get("replicas") or 0)
            target = min(current, keep)
            keep -= target
            self._set_replicas(rs, target)

    def _set_replicas(self, rs: dict[str, Any], replicas: int) -> None:
        if int(spec(rs).get("replicas") or 0) != replicas:
            self.ctx.patch(REPLICASETS, rs, {"spec": {"replicas": replicas}})

    def _prune_history(self, deployment: dict[str, Any], new_rs: dict[str, Any] | None,
                       sets: list[dict[str, Any]]) -> None:
        """Delete the oldest empty ReplicaSets beyond spec.revisionHistoryLimit."""
        limit = spec(deployment).get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        idle = [rs for rs in sets if rs is not new_rs and not int(spec(rs).get("replicas") or 0)
                and not int(status(rs).get("replicas") or 0) and not deleting(rs)]
        for rs in sorted(idle, key=revision_of)[: max(0, len(idle) - limit)]:
            self.ctx.delete(REPLICASETS, rs)

    def _annotate(self, deployment: dict[str, Any], new_rs: dict[str, Any] | None) -> None:
        """Copy the Deployment's annotations (a change-cause) to the new ReplicaSet, and its revision back."""
        if new_rs is None:
            return
        copied = {k: v for k, v in (meta(deployment).get("annotations") or {}).items() if k not in _NOT_COPIED}
        current = meta(new_rs).get("annotations") or {}
        if any(current.get(k) != v for k, v in copied.items()):
            new_rs = self.ctx.patch(REPLICASETS, new_rs, {"metadata": {"annotations": copied}}) or new_rs
        revision = str(revision_of(new_rs))
        if (meta(deployment).get("annotations") or {}).get(REVISION) != revision:
            self.ctx.patch(DEPLOYMENTS, deployment, {"metadata": {"annotations": {REVISION: revision}}})

