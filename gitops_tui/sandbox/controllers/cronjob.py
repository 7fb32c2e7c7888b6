"""The CronJob controller: Jobs on the schedule, as kube-controller-manager's cronjob ControllerV2 makes them.

Follows `pkg/controller/cronjob/cronjob_controllerv2.go` and `utils.go` (kubernetes v1.32): the
latest due time since `status.lastScheduleTime` (else the creation time), none when too late for
`startingDeadlineSeconds`; `concurrencyPolicy` Allow, Forbid (skip while a Job is active) or Replace
(delete the active ones first); a Job named `<cronjob>-<scheduled time in minutes since the epoch>`,
owned by the CronJob, carrying `batch.kubernetes.io/cronjob-scheduled-timestamp`; `status.active`,
`lastScheduleTime` and `lastSuccessfulTime`; finished Jobs beyond the history limits deleted, oldest
first. Time comes from the context's clock, which tests move by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.cron_schedule import Schedule, ScheduleError
from gitops_tui.sandbox.controllers.kinds import CRONJOBS, JOBS
from gitops_tui.sandbox.controllers.objects import (
    conditions_by_type,
    controller_uid,
    deleting,
    meta,
    owned_by,
    owner_reference,
    spec,
    status,
    timestamp,
)
from gitops_tui.util.timestamps import parse_time

SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
#: kube requeues 100 ms after the next scheduled time (nextScheduleDelta).
NEXT_DELTA = 0.1


def finished(job: dict[str, Any]) -> str:
    """'Complete' or 'Failed' for a finished Job, else ''."""
    conds = conditions_by_type(job)
    for kind in ("Complete", "Failed"):
        if (conds.get(kind) or {}).get("status") == "True":
            return kind
    return ""


def job_name(cronjob: str, scheduled: datetime) -> str:
    """`<cronjob>-<minutes since the epoch>` (getJobName)."""
    return f"{cronjob}-{int(scheduled.timestamp()) // 60}"


def job_from_template(cronjob: dict[str, Any], scheduled: datetime, schedule: Schedule) -> dict[str, Any]:
    """The Job of one scheduled time (getJobFromTemplate2)."""
    template = spec(cronjob).get("jobTemplate") or {}
    template_meta = template.get("metadata") or {}
    annotations = dict(template_meta.get("annotations") or {})
    annotations[SCHEDULED_ANNOTATION] = scheduled.astimezone(schedule.zone).isoformat().replace("+00:00", "Z")
    job_meta: dict[str, Any] = {"name": job_name(meta(cronjob)["name"], scheduled),
                                "namespace": meta(cronjob).get("namespace", ""),
                                "annotations": annotations, "ownerReferences": [owner_reference(cronjob)]}
    if template_meta.get("labels"):
        job_meta["labels"] = dict(template_meta["labels"])
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": job_meta, "spec": template.get("spec") or {}}


def _reference(job: dict[str, Any]) -> dict[str, Any]:
    m = meta(job)
    return {"apiVersion": "batch/v1", "kind": "Job", "name": m.get("name"), "namespace": m.get("namespace"),
            "resourceVersion": m.get("resourceVersion"), "uid": m.get("uid")}


class CronJobController(Controller):
    """Creates a CronJob's Jobs when they are due and keeps its status and history."""

    name = "cronjob"

    def setup(self) -> None:
        """Reconcile on changes of CronJobs and of the Jobs they own."""
        self.on(CRONJOBS, lambda kind, old, new: self.enqueue_obj(new or old))
        self.on(JOBS, self.enqueue_owner(CRONJOBS))

    def start(self) -> None:
        """Look at every CronJob once."""
        self.clock_moved()

    def clock_moved(self) -> None:
        """Look at every CronJob again (a test moved the clock)."""
        for obj in self.ctx.items(CRONJOBS):
            self.enqueue_obj(obj)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Bring status.active up to date, start the due Job, prune history; return when to look again."""
        cronjob = self.ctx.cache(CRONJOBS, namespace, name)
        if cronjob is None:
            return None
        now = self.ctx.clock()
        jobs = owned_by(self.ctx.items(JOBS, namespace), cronjob)
        new = self._observed(cronjob, jobs)
        wait = None
        if not deleting(cronjob) and not spec(cronjob).get("suspend"):
            try:
                schedule = Schedule.parse(str(spec(cronjob).get("schedule") or ""), spec(cronjob).get("timeZone"))
            except ScheduleError:
                schedule = None  # kube records an UnparseableSchedule / UnknownTimeZone Event and waits for a fix
            if schedule is not None:
                self._run_due(cronjob, schedule, now, new)
                wait = self._next_in(cronjob, new, schedule, now)
        self._prune(cronjob, jobs)
        self.ctx.write_status(CRONJOBS, cronjob, new)
        return wait

    def _observed(self, cronjob: dict[str, Any], jobs: list[dict[str, Any]]) -> dict[str, Any]:
        """The status the Jobs show: finished ones leave `active`, the newest success sets lastSuccessfulTime."""
        new = dict(status(cronjob))
        by_uid = {meta(j).get("uid"): j for j in jobs}
        active = [ref for ref in new.get("active") or [] if ref.get("uid") in by_uid
                  and not finished(by_uid[ref["uid"]])]
        # a running Job of ours missing from the list stays out of it (kube only records an UnexpectedJob Event)
        last_success = parse_time(new.get("lastSuccessfulTime"))
        for job in jobs:
            completed = parse_time(status(job).get("completionTime"))
            if finished(job) == "Complete" and completed and (last_success is None or completed > last_success):
                last_success = completed
        if last_success is not None:
            new["lastSuccessfulTime"] = timestamp(last_success)
        if active:
            new["active"] = active
        else:
            new.pop("active", None)
        return new

    def _earliest(self, cronjob: dict[str, Any], new: dict[str, Any]) -> datetime:
        return parse_time(new.get("lastScheduleTime")) or parse_time(meta(cronjob).get("creationTimestamp")) \
            or self.ctx.clock()

    def _run_due(self, cronjob: dict[str, Any], schedule: Schedule, now: datetime, new: dict[str, Any]) -> None:
        earliest = self._earliest(cronjob, new)
        deadline = spec(cronjob).get("startingDeadlineSeconds")
        if deadline is not None:
            earliest = max(earliest, now - timedelta(seconds=int(deadline)))
        due, _ = schedule.most_recent(earliest, now)
        if due is None:
            return
        if deadline is not None and due + timedelta(seconds=int(deadline)) < now:
            return  # MissSchedule: too late to start
        name = job_name(meta(cronjob)["name"], due)
        if any(ref.get("name") == name for ref in new.get("active") or []) \
                or parse_time(new.get("lastScheduleTime")) == due:
            return
        policy = spec(cronjob).get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and new.get("active"):
            return  # JobAlreadyActive
        if policy == "Replace":
            for ref in new.get("active") or []:
                job = self.ctx.cache(JOBS, meta(cronjob).get("namespace", ""), ref.get("name", ""))
                if job is not None:
                    self.ctx.delete(JOBS, job)
            new.pop("active", None)
        made = self.ctx.create(JOBS, job_from_template(cronjob, due, schedule))
        if made is None:  # it exists already: it belongs in the active list only when this CronJob controls it
            made = self.ctx.cache(JOBS, meta(cronjob).get("namespace", ""), name)
            if made is None or controller_uid(made) != meta(cronjob).get("uid"):
                return
            if any(ref.get("uid") == meta(made).get("uid") for ref in new.get("active") or []):
                return
        new["active"] = [*(new.get("active") or []), _reference(made)]
        new["lastScheduleTime"] = timestamp(due)

    def _next_in(self, cronjob: dict[str, Any], new: dict[str, Any], schedule: Schedule, now: datetime) -> float:
        """Seconds until the next scheduled time after the most recent one (nextScheduleTimeDuration)."""
        earliest = self._earliest(cronjob, new)
        latest, missed = schedule.most_recent(earliest, now)
        base = latest or (earliest if not missed else now)
        return max(0.0, (schedule.next(base) - now).total_seconds()) + NEXT_DELTA

    def _prune(self, cronjob: dict[str, Any], jobs: list[dict[str, Any]]) -> None:
        """Delete the oldest finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit."""
        for outcome, key in (("Complete", "successfulJobsHistoryLimit"), ("Failed", "failedJobsHistoryLimit")):
            limit = spec(cronjob).get(key)
            if limit is None:
                continue
            done = [j for j in jobs if finished(j) == outcome and not deleting(j)]
            done.sort(key=lambda j: (status(j).get("startTime") is None, status(j).get("startTime") or "",
                                     meta(j).get("name", "")))
            for job in done[:max(0, len(done) - int(limit))]:
                self.ctx.delete(JOBS, job)
