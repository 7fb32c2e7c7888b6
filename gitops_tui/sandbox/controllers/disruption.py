"""The disruption controller: a PodDisruptionBudget's status from the pods its selector matches."""

from __future__ import annotations

import math
from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.kinds import PDBS, PODS
from gitops_tui.sandbox.controllers.objects import (
    conditions_by_type,
    deleting,
    int_or_percent,
    meta,
    pod_active,
    pod_ready,
    selector_matches,
    spec,
    timestamp,
    utc_now,
)


def budget_status(pdb: dict[str, Any], pods: list[dict[str, Any]]) -> dict[str, Any]:
    """currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed and the DisruptionAllowed condition."""
    matched = [p for p in pods if pod_active(p) and selector_matches(spec(pdb).get("selector"),
                                                                      meta(p).get("labels"))]
    expected = len(matched)
    healthy = sum(1 for p in matched if pod_ready(p))
    if spec(pdb).get("minAvailable") is not None:
        desired = int_or_percent(spec(pdb)["minAvailable"], expected, True)
    elif spec(pdb).get("maxUnavailable") is not None:
        desired = max(0, expected - int_or_percent(spec(pdb)["maxUnavailable"], expected, True))
    else:
        desired = expected
    allowed = max(0, healthy - desired) if expected else 0
    old = conditions_by_type(pdb).get("DisruptionAllowed") or {}
    state = "True" if allowed else "False"
    cond = {"type": "DisruptionAllowed", "status": state, "observedGeneration": meta(pdb).get("generation", 1),
            "lastTransitionTime": old.get("lastTransitionTime") if old.get("status") == state
            else timestamp(utc_now()),
            "reason": "SufficientPods" if allowed else "InsufficientPods", "message": ""}
    return {"observedGeneration": meta(pdb).get("generation", 1), "currentHealthy": healthy,
            "desiredHealthy": int(math.ceil(desired)), "expectedPods": expected, "disruptionsAllowed": allowed,
            "conditions": [cond]}


class DisruptionController(Controller):
    """Keeps each PodDisruptionBudget's status current."""

    name = "disruption"

    def setup(self) -> None:
        """Reconcile a budget when it changes, or when a pod of its namespace does."""
        self.on(PDBS, lambda kind, old, new: self.enqueue_obj(new))
        def budgets_of_the_namespace(kind: str, old: Any, new: Any) -> None:
            for budget in self.ctx.items(PDBS, meta(new or old).get("namespace", "")):
                self.enqueue_obj(budget)

        self.on(PODS, budgets_of_the_namespace)

    def start(self) -> None:
        """Look at every budget once."""
        for obj in self.ctx.items(PDBS):
            self.enqueue_obj(obj)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Write one budget's status."""
        pdb = self.ctx.cache(PDBS, namespace, name)
        if pdb is None or deleting(pdb):
            return None
        self.ctx.write_status(PDBS, pdb, budget_status(pdb, self.ctx.items(PODS, namespace)))
        return None
