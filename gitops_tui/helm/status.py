"""The status of a HelmRelease on its cluster: Ready and Released conditions with Flux's reasons, and history."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kubernetes.dynamic import DynamicClient

from gitops_tui.helm.crds import HELMRELEASE_API_VERSION
from gitops_tui.kube.impersonation import own_client

if TYPE_CHECKING:
    from gitops_tui.helm.installer import ReleaseOutcome


def _condition(kind: str, status: bool, reason: str, message: str, generation: int, now: str, old: list[dict]) -> dict:
    previous: dict = next((c for c in old if c.get("type") == kind), {})
    status_text = "True" if status else "False"
    changed = not previous or previous.get("status") != status_text
    return {
        "type": kind,
        "status": status_text,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": now if changed else previous.get("lastTransitionTime", now),
    }


def history_snapshots(releases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return Flux's status.history (newest first) from stored Helm releases."""
    snapshots = []
    for release in sorted(releases, key=lambda r: int(r.get("version", 0)), reverse=True):
        meta = (release.get("chart") or {}).get("metadata") or {}
        info = release.get("info") or {}
        snapshots.append({
            "name": release.get("name"),
            "namespace": release.get("namespace"),
            "version": int(release.get("version", 0)),
            "status": info.get("status"),
            "chartName": meta.get("name"),
            "chartVersion": str(meta.get("version", "")),
            "appVersion": str(meta.get("appVersion", "") or ""),
            "firstDeployed": info.get("first_deployed"),
            "lastDeployed": info.get("last_deployed"),
        })
    return snapshots


def write_status(
    dynamic: DynamicClient,
    helm_release: dict[str, Any],
    *,
    outcome: ReleaseOutcome | None,
    failure: tuple[str, str] | None,
    now: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write Ready/Released conditions and history on the cluster's HelmRelease (status subresource).

    ``extra``: more status fields (the failure counters of helm/strategy.py).
    """
    meta = helm_release["metadata"]
    dynamic = own_client(dynamic)  # status is the reconciler's report, written as itself (docs/security.md)
    resource = dynamic.resources.get(api_version=HELMRELEASE_API_VERSION, kind="HelmRelease")
    live = resource.get(name=meta["name"], namespace=meta["namespace"]).to_dict()
    generation = int(live["metadata"].get("generation", 1))
    old = (live.get("status") or {}).get("conditions") or []
    if failure is not None:
        reason, message = failure
        ok = False
    else:
        assert outcome is not None
        reason = outcome.reason
        action = "install" if reason == "InstallSucceeded" else "upgrade"
        message = (f"Helm {action} succeeded for release {outcome.namespace}/{outcome.release}.v{outcome.revision}"
                   f" with chart {outcome.chart}@{outcome.chart_version}")
        ok = True
    from gitops_tui.helm.installer import ReleaseTarget, stored_releases  # loads Helm: only with a release

    target = ReleaseTarget.of(helm_release)
    status = {
        "observedGeneration": generation,
        "conditions": [
            _condition("Ready", ok, reason, message, generation, now, old),
            _condition("Released", ok, reason, message, generation, now, old),
        ],
        "history": history_snapshots(stored_releases(dynamic, target.namespace, target.name)),
    }
    if outcome is not None:
        status["lastAttemptedRevision"] = outcome.chart_version
    status.update(extra or {})
    if (live.get("status") or {}) == {**(live.get("status") or {}), **status}:
        return
    resource.status.patch(
        name=meta["name"],
        namespace=meta["namespace"],
        body=json.loads(json.dumps({"status": status})),
        content_type="application/merge-patch+json",
    )
