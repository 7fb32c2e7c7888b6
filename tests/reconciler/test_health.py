"""Tests of kstatus-style health of live objects."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui.reconciler.health import CURRENT, FAILED, IN_PROGRESS, NOT_FOUND, Health, health, worst


def obj(api_version: str, kind: str, spec: dict | None = None, status: dict | None = None, **metadata: Any) -> dict:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", **metadata},
            "spec": spec or {}, "status": status or {}}


def deployment(status: dict, replicas: int = 2) -> dict:
    return obj("apps/v1", "Deployment", {"replicas": replicas}, status, generation=2)


@pytest.mark.parametrize(
    ("status", "expected", "message"),
    [
        ({"observedGeneration": 1}, IN_PROGRESS, "observe generation 2"),
        ({"observedGeneration": 2, "updatedReplicas": 1, "replicas": 1}, IN_PROGRESS, "Updated: 1/2"),
        ({"observedGeneration": 2, "updatedReplicas": 2, "replicas": 3}, IN_PROGRESS, "Pending termination: 1"),
        ({"observedGeneration": 2, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 1}, IN_PROGRESS, "Available: 1/2"),
        ({"observedGeneration": 2, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 2, "readyReplicas": 2},
         CURRENT, "Replicas: 2"),
        ({"observedGeneration": 2, "conditions": [{"type": "Progressing", "status": "False",
          "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet web-1 has timed out"}]},
         FAILED, "Progress deadline exceeded"),
    ],
)
def test_deployment(status: dict, expected: str, message: str) -> None:
    result = health(deployment(status))
    assert result.status == expected and message in result.message


def test_statefulset_and_daemonset() -> None:
    sts = obj("apps/v1", "StatefulSet", {"replicas": 2}, {"replicas": 2, "readyReplicas": 1})
    assert health(sts) == Health(IN_PROGRESS, "Ready: 1/2")
    sts["status"].update(readyReplicas=2, currentRevision="a", updateRevision="b", updatedReplicas=1)
    assert "Waiting for updated replicas" in health(sts).message
    sts["status"]["currentRevision"] = "b"
    assert health(sts).current
    ds = obj("apps/v1", "DaemonSet", {}, {"desiredNumberScheduled": 3, "currentNumberScheduled": 3,
                                          "updatedNumberScheduled": 3, "numberAvailable": 2, "numberReady": 3})
    assert health(ds) == Health(IN_PROGRESS, "Available: 2/3")
    ds["status"]["numberAvailable"] = 3
    assert health(ds).current


def test_job_and_pod() -> None:
    job = obj("batch/v1", "Job", {}, {"active": 1})
    assert health(job).status == IN_PROGRESS
    job["status"]["conditions"] = [{"type": "Complete", "status": "True"}]
    assert health(job).current
    job["status"]["conditions"] = [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]
    assert health(job).failed and "BackoffLimitExceeded" in health(job).message
    pod = obj("v1", "Pod", {}, {"phase": "Pending", "containerStatuses": [
        {"name": "app", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]})
    assert health(pod) == Health(FAILED, "Container app is in ImagePullBackOff")
    pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    assert health(pod).current


def test_generic_and_other_kinds() -> None:
    assert health(obj("v1", "ConfigMap")).current
    assert health(None).status == NOT_FOUND
    assert health(obj("v1", "ConfigMap", deletionTimestamp="2024-01-01T00:00:00Z")).status == IN_PROGRESS
    hr = obj("helm.toolkit.fluxcd.io/v2", "HelmRelease", {}, {"conditions": [
        {"type": "Ready", "status": "False", "reason": "InstallFailed", "message": "install failed"}]})
    assert health(hr) == Health(FAILED, "install failed")
    hr["status"]["conditions"] = [{"type": "Reconciling", "status": "True", "message": "installing"}]
    assert health(hr) == Health(IN_PROGRESS, "installing")
    hr["status"]["conditions"] = [{"type": "Stalled", "status": "True", "message": "bad chart"}]
    assert health(hr).failed
    lb = obj("v1", "Service", {"type": "LoadBalancer"})
    assert health(lb).status == IN_PROGRESS
    assert health(obj("v1", "PersistentVolumeClaim", {}, {"phase": "Bound"})).current


def test_worst() -> None:
    assert worst([]).current
    assert worst([Health(CURRENT, "a"), Health(FAILED, "b"), Health(IN_PROGRESS, "c")]).message == "b"
    assert worst([Health(CURRENT, "a"), Health(IN_PROGRESS, "c")]).status == IN_PROGRESS
