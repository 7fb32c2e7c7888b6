"""The Job controller: pods up to spec.parallelism until spec.completions succeed, then Complete."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.kinds import JOBS, PODS
from gitops_tui.sandbox.controllers.objects import (
    conditions_by_type,
    deleting,
    meta,
    owned_by,
    pod_active,
    pod_ready,
    random_suffix,
    spec,
    status,
    timestamp,
    utc_now,
)
from gitops_tui.sandbox.controllers.replicaset import new_pod
from gitops_tui.sandbox.rest.defaults_workloads import JOB_NAME_LABEL, JOB_UID_LABEL

DONE_MESSAGE = "Reached expected number of succeeded pods"


def _finished(job: dict[str, Any]) -> bool:
    conds = conditions_by_type(job)
    return any((conds.get(kind) or {}).get("status") == "True" for kind in ("Complete", "Failed"))


def _condition(kind: str, reason: str, message: str, now: str) -> dict[str, Any]:
    return {"type": kind, "status": "True", "lastProbeTime": now, "lastTransitionTime": now, "reason": reason,
            "message": message}


class JobController(Controller):
    """Runs a Job's pods and marks it Complete when enough have succeeded."""

    name = "job"

    def setup(self) -> None:
        """Reconcile on changes of Jobs and of their pods."""
        self.on(JOBS, lambda kind, old, new: self.enqueue_obj(new or old))
        self.on(PODS, self.enqueue_owner(JOBS))

    def start(self) -> None:
        """Look at every Job once."""
        for obj in self.ctx.items(JOBS):
            self.enqueue_obj(obj)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Start pods while completions are missing; write the status."""
        job = self.ctx.cache(JOBS, namespace, name)
        if job is None or _finished(job):
            return None
        pods = owned_by(self.ctx.items(PODS, namespace), job)
        active = [p for p in pods if pod_active(p)]
        succeeded = sum(1 for p in pods if status(p).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if status(p).get("phase") == "Failed")
        completions = int(spec(job).get("completions") or 1)
        declared = spec(job).get("parallelism")
        parallelism = int(declared) if declared is not None else 1
        suspended = bool(spec(job).get("suspend"))
        if not deleting(job):
            if suspended or succeeded >= completions:
                for pod in active:
                    self.ctx.delete(PODS, pod)
                active = []
            else:
                labels = {JOB_UID_LABEL: meta(job).get("uid", ""), JOB_NAME_LABEL: name,
                          "controller-uid": meta(job).get("uid", ""), "job-name": name}
                for _ in range(max(0, min(parallelism, completions - succeeded) - len(active))):
                    made = self.ctx.create(PODS, new_pod(job, spec(job).get("template") or {},
                                                         f"{name}-{random_suffix()}", labels))
                    if made is not None:
                        active.append(made)
        now = timestamp(utc_now())
        old = status(job)
        new: dict[str, Any] = {"startTime": old.get("startTime") or now, "active": len(active),
                               "ready": sum(1 for p in active if pod_ready(p)), "terminating": 0,
                               "uncountedTerminatedPods": {}}
        if succeeded:
            new["succeeded"] = succeeded
        if failed:
            new["failed"] = failed
        if suspended:
            new["conditions"] = [_condition("Suspended", "JobSuspended", "Job suspended", now)]
            new.pop("startTime")
        elif succeeded >= completions:
            new["completionTime"] = now
            new["conditions"] = [_condition("SuccessCriteriaMet", "CompletionsReached", DONE_MESSAGE, now),
                                 _condition("Complete", "CompletionsReached", DONE_MESSAGE, now)]
        elif old.get("conditions"):
            new["conditions"] = old["conditions"]
        self.ctx.write_status(JOBS, job, new)
        return None
