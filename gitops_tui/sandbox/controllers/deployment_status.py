"""A Deployment's status computed from its ReplicaSets, as the deployment controller computes it (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gitops_tui.sandbox.controllers.objects import (
    condition,
    conditions_by_type,
    int_or_percent,
    meta,
    spec,
    status,
    timestamp,
)
from gitops_tui.util.timestamps import parse_time

DEFAULT_PROGRESS_DEADLINE = 600
REVISION = "deployment.kubernetes.io/revision"


def desired_replicas(deployment: dict[str, Any]) -> int:
    """spec.replicas (1 when unset)."""
    value = spec(deployment).get("replicas")
    return 1 if value is None else int(value)


def max_unavailable(deployment: dict[str, Any]) -> int:
    """How many pods a rolling update may have unavailable (0 for Recreate)."""
    strategy = spec(deployment).get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    want = desired_replicas(deployment)
    rolling = strategy.get("rollingUpdate") or {}
    surge = int_or_percent(rolling.get("maxSurge", "25%"), want, True)
    unavailable = int_or_percent(rolling.get("maxUnavailable", "25%"), want, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return min(unavailable, want)


def deployment_status(deployment: dict[str, Any], new_rs: dict[str, Any] | None, all_rs: list[dict[str, Any]],
                      now: datetime, event: str = "") -> tuple[dict[str, Any], float | None]:
    """The status a Deployment should have now, and seconds until its progress deadline (None: no timer).

    ``event`` names what this sync did to the new ReplicaSet: "created", "found" or "" (nothing).
    """
    old = status(deployment)
    want = desired_replicas(deployment)
    counts = {key: sum(int(status(rs).get(key) or 0) for rs in all_rs)
              for key in ("replicas", "readyReplicas", "availableReplicas")}
    updated = int(status(new_rs).get("replicas") or 0) if new_rs else 0
    total_spec = sum(int(spec(rs).get("replicas") or 0) for rs in all_rs)
    new: dict[str, Any] = {"observedGeneration": meta(deployment).get("generation", 1)}
    for key, value in (("replicas", counts["replicas"]), ("updatedReplicas", updated),
                       ("readyReplicas", counts["readyReplicas"]), ("availableReplicas", counts["availableReplicas"]),
                       ("unavailableReplicas", max(0, total_spec - counts["availableReplicas"]))):
        if value:
            new[key] = value
    if old.get("collisionCount"):
        new["collisionCount"] = old["collisionCount"]
    conds = conditions_by_type(deployment)
    available = counts["availableReplicas"] >= want - max_unavailable(deployment)
    available_cond = (condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.",
                                conds.get("Available"), now) if available else
                      condition("Available", "False", "MinimumReplicasUnavailable",
                                "Deployment does not have minimum availability.", conds.get("Available"), now))
    progressing, wait = _progressing(deployment, new_rs, conds.get("Progressing"), new, want, now, event)
    new["conditions"] = [available_cond, progressing]
    return new, wait


def _progressing(deployment: dict[str, Any], new_rs: dict[str, Any] | None, prev: dict[str, Any] | None,
                 new: dict[str, Any], want: int, now: datetime, event: str) -> tuple[dict[str, Any], float | None]:
    rs_name = meta(new_rs).get("name", "") if new_rs else ""
    if spec(deployment).get("paused"):
        return condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", prev, now), None
    complete = (new.get("updatedReplicas", 0) == want and new.get("replicas", 0) == want
                and new.get("availableReplicas", 0) == want)
    if complete:
        return condition("Progressing", "True", "NewReplicaSetAvailable",
                         f'ReplicaSet "{rs_name}" has successfully progressed.', prev, now), None
    old = status(deployment)
    moved = any(int(new.get(k, 0)) > int(old.get(k) or 0) for k in ("updatedReplicas", "readyReplicas",
                                                                    "availableReplicas"))
    moved = moved or int(new.get("replicas", 0)) < int(old.get("replicas") or 0)
    if event == "created":
        cond = condition("Progressing", "True", "NewReplicaSetCreated", f'Created new replica set "{rs_name}"',
                         prev, now)
    elif event == "found" or prev is None or prev.get("reason") == "NewReplicaSetAvailable":
        cond = condition("Progressing", "True", "FoundNewReplicaSet", f'Found new replica set "{rs_name}"', prev, now)
    elif prev.get("reason") == "ProgressDeadlineExceeded" and not moved:
        return prev, None
    elif moved:
        cond = condition("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.',
                         prev, now)
        cond["lastUpdateTime"] = timestamp(now)
    else:
        cond = dict(prev)
    deadline = int(spec(deployment).get("progressDeadlineSeconds") or DEFAULT_PROGRESS_DEADLINE)
    since = parse_time(cond.get("lastUpdateTime")) or now
    remaining = deadline - (now - since).total_seconds()
    if remaining <= 0:
        return condition("Progressing", "False", "ProgressDeadlineExceeded",
                         f'ReplicaSet "{rs_name}" has timed out progressing.', prev, now), None
    return cond, remaining
