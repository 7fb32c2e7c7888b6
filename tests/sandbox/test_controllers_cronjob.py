"""The CronJob controller against kube-controller-manager's (pkg/controller/cronjob, kubernetes v1.32).

Time is the controllers' injected clock, moved by hand (`clocked.at(...)`), never slept; the
controllers act as clients of the server, and the tests read what they wrote through the official
Python client and kubectl.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from tests.sandbox.clocked import Clocked, clocked, ns  # noqa: F401 - fixtures
from tests.waiting import wait_until


def cronjob(name: str, schedule: str = "*/5 * * * *", image: str = "busybox:1.36", **spec: Any) -> dict[str, Any]:
    """A batch/v1 CronJob whose Jobs carry the label cron=<name>."""
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name}, "spec": {
        "schedule": schedule, **spec, "jobTemplate": {"metadata": {"labels": {"cron": name}}, "spec": {
            "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": image}]}}}}}}


def _create(c: Clocked, ns: str, body: dict[str, Any]) -> dict[str, Any]:
    return json.loads(c.batch.create_namespaced_cron_job(ns, body, _preload_content=False).data)


def _created_at(obj: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(obj["metadata"]["creationTimestamp"].replace("Z", "+00:00"))


def _next_boundary(after: datetime, minutes: int = 5) -> datetime:
    base = after.replace(second=0, microsecond=0)
    return base + timedelta(minutes=minutes - base.minute % minutes)


def _jobs(c: Clocked, ns: str) -> dict[str, dict[str, Any]]:
    """The Jobs of a namespace as the server wrote them (JSON, times as RFC 3339 text)."""
    items = json.loads(c.batch.list_namespaced_job(ns, _preload_content=False).data)["items"]
    return {j["metadata"]["name"]: j for j in items}


def _cron(c: Clocked, ns: str, name: str) -> dict[str, Any]:
    return json.loads(c.batch.read_namespaced_cron_job(name, ns, _preload_content=False).data)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_job_at_the_scheduled_time_named_owned_and_annotated_as_kube_does(clocked: Clocked, ns: str) -> None:
    cj = _create(clocked, ns, cronjob("tick"))
    due = _next_boundary(_created_at(cj))
    clocked.at(due - timedelta(seconds=30))
    assert not _jobs(clocked, ns)  # nothing before its time
    clocked.at(due + timedelta(seconds=1))
    name = f"tick-{int(due.timestamp()) // 60}"  # getJobName: minutes since the epoch
    job = wait_until(lambda: _jobs(clocked, ns).get(name), timeout=20, message="the scheduled job")
    assert job["metadata"]["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "tick",
                                                    "uid": cj["metadata"]["uid"], "controller": True,
                                                    "blockOwnerDeletion": True}]
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == _stamp(due)
    assert job["metadata"]["labels"]["cron"] == "tick"
    running = wait_until(lambda: (o := _cron(clocked, ns, "tick"))["status"].get("active") and o,
                         timeout=20, message="status.active")
    assert running["status"]["lastScheduleTime"] == _stamp(due)
    assert running["status"]["active"][0]["name"] == name and running["status"]["active"][0]["kind"] == "Job"
    # the Job runs to completion: it leaves `active`, and its completion is the last successful time
    done = wait_until(lambda: (o := _cron(clocked, ns, "tick"))["status"].get("lastSuccessfulTime") and o,
                      timeout=30, message="lastSuccessfulTime")
    assert "active" not in done["status"] or not done["status"]["active"]
    completed = _jobs(clocked, ns)[name]["status"]["completionTime"]
    assert done["status"]["lastSuccessfulTime"] == completed
    out = clocked.kubectl("get", "cronjob", "tick", "-n", ns).stdout.splitlines()
    assert out[0].split()[:6] == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST"]
    assert out[1].split()[:5] == ["tick", "*/5", "*", "*", "*"]


def test_forbid_skips_while_a_job_runs_and_replace_replaces_it(clocked: Clocked, ns: str) -> None:
    # an image tagged `fail` never starts, so its Job stays active
    forbid = _create(clocked, ns, cronjob("forbid", image="busybox:fail", concurrencyPolicy="Forbid"))
    replace = _create(clocked, ns, cronjob("replace", image="busybox:fail", concurrencyPolicy="Replace"))
    first = _next_boundary(max(_created_at(forbid), _created_at(replace)))
    clocked.at(first + timedelta(seconds=1))
    wait_until(lambda: len(_jobs(clocked, ns)) == 2, timeout=20, message="one job each")
    wait_until(lambda: all(_cron(clocked, ns, n)["status"].get("active") for n in ("forbid", "replace")),
               timeout=20, message="both active")
    second = first + timedelta(minutes=5)
    clocked.at(second + timedelta(seconds=1))
    replaced = f"replace-{int(second.timestamp()) // 60}"
    wait_until(lambda: set(_jobs(clocked, ns)) == {f"forbid-{int(first.timestamp()) // 60}", replaced},
               timeout=20, message="Replace deleted its old job; Forbid made no new one")
    status = wait_until(lambda: (s := _cron(clocked, ns, "replace")["status"]).get("lastScheduleTime")
                        == _stamp(second) and s, timeout=20, message="replace status")
    assert [ref["name"] for ref in status["active"]] == [replaced]
    assert _cron(clocked, ns, "forbid")["status"]["lastScheduleTime"] == _stamp(first)


def test_allow_runs_jobs_side_by_side_and_suspend_starts_none(clocked: Clocked, ns: str) -> None:
    allow = _create(clocked, ns, cronjob("allow", image="busybox:fail"))
    _create(clocked, ns, cronjob("paused", suspend=True))
    first = _next_boundary(_created_at(allow))
    clocked.at(first + timedelta(seconds=1))
    wait_until(lambda: len(_jobs(clocked, ns)) == 1, timeout=20, message="first allow job")
    clocked.at(first + timedelta(minutes=5, seconds=1))
    wait_until(lambda: len(_cron(clocked, ns, "allow")["status"].get("active") or []) == 2, timeout=20,
               message="two active jobs")
    assert all(name.startswith("allow-") for name in _jobs(clocked, ns))  # the suspended CronJob started none


def test_starting_deadline_seconds_skips_a_time_missed_by_too_much(clocked: Clocked, ns: str) -> None:
    late = _create(clocked, ns, cronjob("late", startingDeadlineSeconds=10))
    on_time = _create(clocked, ns, cronjob("ontime", startingDeadlineSeconds=120))
    due = _next_boundary(max(_created_at(late), _created_at(on_time)))
    clocked.at(due + timedelta(seconds=60))  # 60 s after their time: too late with 10 s, in time with 120 s
    wait_until(lambda: any(n.startswith("ontime-") for n in _jobs(clocked, ns)), timeout=20,
               message="the one within its deadline")
    assert _cron(clocked, ns, "ontime")["status"]["lastScheduleTime"] == _stamp(due)
    assert not any(n.startswith("late-") for n in _jobs(clocked, ns))
    assert "lastScheduleTime" not in (_cron(clocked, ns, "late").get("status") or {})


def test_time_zone_sets_when_and_the_annotation_offset(clocked: Clocked, ns: str) -> None:
    cj = _create(clocked, ns, cronjob("tokyo", schedule="0 9 * * *", timeZone="Asia/Tokyo"))
    tokyo = timezone(timedelta(hours=9))  # Japan keeps no daylight saving time
    created = _created_at(cj).astimezone(tokyo)
    due = created.replace(hour=9, minute=0, second=0, microsecond=0)
    if due <= created:
        due += timedelta(days=1)
    clocked.at(due + timedelta(seconds=1))
    name = f"tokyo-{int(due.timestamp()) // 60}"
    job = wait_until(lambda: _jobs(clocked, ns).get(name), timeout=20, message="the 09:00 Tokyo job")
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
        due.strftime("%Y-%m-%dT%H:%M:%S+09:00")
    out = json.loads(clocked.kubectl("get", "cronjob", "tokyo", "-n", ns, "-o", "json").stdout)
    assert out["status"]["lastScheduleTime"] == _stamp(due)


def test_history_limits_keep_the_newest_finished_jobs(clocked: Clocked, ns: str) -> None:
    keep = _create(clocked, ns, cronjob("keep", successfulJobsHistoryLimit=1, failedJobsHistoryLimit=0))
    start = _next_boundary(_created_at(keep))
    names = []
    for step in range(3):
        when = start + timedelta(minutes=5 * step)
        clocked.at(when + timedelta(seconds=1))
        names.append(f"keep-{int(when.timestamp()) // 60}")
        wait_until(lambda: (j := _jobs(clocked, ns).get(names[-1])) and any(
            c["type"] == "Complete" and c["status"] == "True" for c in j["status"].get("conditions") or []),
            timeout=30, message=f"job {names[-1]} complete")
    clocked.manager.clock_moved()
    wait_until(lambda: set(_jobs(clocked, ns)) == {names[-1]}, timeout=20, message="only the newest success kept")
    # a failed Job (its status written as the job controller writes a failure) goes at once with a limit of 0
    failed_at = start + timedelta(minutes=15)
    failing = f"keep-{int(failed_at.timestamp()) // 60}"
    keep_obj = _cron(clocked, ns, "keep")
    clocked.batch.patch_namespaced_cron_job(
        "keep", ns, {"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
            {"name": "main", "image": "busybox:fail"}]}}}}}})
    clocked.at(failed_at + timedelta(seconds=1))
    wait_until(lambda: failing in _jobs(clocked, ns), timeout=20, message="the job that will fail")
    now = _stamp(datetime.now(UTC))
    clocked.batch.patch_namespaced_job_status(failing, ns, {"status": {"conditions": [
        {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded", "message": "x",
         "lastProbeTime": now, "lastTransitionTime": now},
        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
         "message": "Job has reached the specified backoff limit", "lastProbeTime": now,
         "lastTransitionTime": now}]}})
    wait_until(lambda: failing not in _jobs(clocked, ns), timeout=20, message="failed job pruned")
    assert keep_obj["spec"]["failedJobsHistoryLimit"] == 0
