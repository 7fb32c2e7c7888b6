"""Wait, on one cluster, until applied objects are healthy (kstatus rules, polled); pick what to wait for."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubernetes.dynamic import DynamicClient

from gitops_tui.kube.apply import get_object
from gitops_tui.kube.inventory import ObjectRef, describe, ref_of
from gitops_tui.reconciler.errors import ObjectFailure, Stopped
from gitops_tui.reconciler.health import health


def wait_healthy(
    cluster: str,
    dynamic: DynamicClient,
    refs: list[ObjectRef],
    timeout: float,
    stop: Callable[[], bool],
    poll: float = 0.5,
) -> None:
    """Wait until every ref is healthy; raise ObjectFailure naming the first unhealthy one at ``timeout``."""
    deadline = time.monotonic() + timeout
    pending = list(refs)
    why = ""
    while pending:
        if stop():
            raise Stopped(f"stopped while waiting for health on {cluster}")
        still = []
        for ref in pending:
            live = get_object(dynamic, ref.api_version, ref.kind, ref.name, ref.namespace or None)
            result = health(live)
            if result.failed:
                raise ObjectFailure("HealthCheckFailed", f"{describe(ref)} on {cluster} failed: {result.message}")
            if not result.current:
                still.append(ref)
                why = f"{describe(ref)}: {result.message or 'not ready'}"
        pending = still
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise ObjectFailure("HealthCheckFailed", f"on {cluster}, timed out after {timeout:g}s waiting for health: {why}")
        time.sleep(poll)


def health_targets(manifests: list[dict], wait: bool, health_checks: list[dict[str, Any]], namespace: str) -> list[ObjectRef]:
    """Return the refs to wait for: every applied object when ``wait``, else the listed healthChecks."""
    if wait:
        return [ref_of(obj) for obj in manifests]
    refs = []
    for check in health_checks:
        api_version = str(check.get("apiVersion") or "v1")
        group, _, version = api_version.rpartition("/")
        refs.append(ObjectRef(str(check.get("namespace") or namespace), str(check.get("name", "")),
                              group, str(check.get("kind", "")), version))
    return refs
