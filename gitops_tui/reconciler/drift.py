"""Drift: compare live objects with the desired revision by dry-run apply, and correct what changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError

from gitops_tui.kube.apply import FIELD_MANAGER, UnknownKind, apply_object, get_object
from gitops_tui.kube.diff import ObjectDrift, compare
from gitops_tui.kube.impersonation import own_client
from gitops_tui.kube.inventory import describe, ref_of
from gitops_tui.reconciler.drift_watch import ClusterView
from gitops_tui.reconciler.propagate import ClusterWork, apply_objects, listing


@dataclass
class ClusterDrift:
    """The drift found on one cluster, or why it could not be computed."""

    cluster: str
    objects: list[ObjectDrift] = field(default_factory=list)
    error: str = ""

    @property
    def drifted(self) -> bool:
        """True when at least one object differs from git."""
        return bool(self.objects)

    def to_dict(self) -> dict:
        """Return a JSON-ready form."""
        return {"cluster": self.cluster, "error": self.error, "objects": [d.to_dict() for d in self.objects]}


def _diff(dynamic: DynamicClient, obj: dict, view: ClusterView | None) -> tuple[ObjectDrift | None, dict | None]:
    """The drift of one object and the live object it was measured on: the watch cache's copy when known, else a GET."""
    ref = ref_of(obj)
    known, live = view.live(obj) if view is not None else (False, None)
    if not known:  # a read: the reconciler's own; the dry-run below is the project's ServiceAccount's
        live = get_object(own_client(dynamic), ref.api_version, ref.kind, ref.name, ref.namespace or None)
    if live is None:
        return ObjectDrift(ref=ref, missing=True), None
    return compare(live, apply_object(dynamic, obj, dry_run=True), ref), live


def detect(cluster: str, dynamic: DynamicClient, manifests: list[dict], view: ClusterView | None = None,
           *, drifted: bool = False) -> ClusterDrift:
    """Return the drift of the desired objects on one cluster (no writes: a dry-run apply each, and a GET unless the
    watch cache holds the object).

    With ``view``, only the objects changed since they were last checked are checked (all in a full pass; with
    ``drifted`` also those last found drifted), and what each check found is recorded in the view.
    """
    result = ClusterDrift(cluster)
    for obj in manifests if view is None else view.to_check(manifests, drifted=drifted):
        try:
            found, live = _diff(dynamic, obj, view)
        except UnknownKind as exc:
            result.error = f"{describe(ref_of(obj))}: {exc}"
            return result
        except DynamicApiError as exc:
            result.error = f"{describe(ref_of(obj))}: dry-run apply failed with HTTP {getattr(exc, 'status', '?')}"
            return result
        if view is not None:
            view.record(obj, live, clean=found is None)
        if found is not None:
            result.objects.append(found)
    if view is not None:
        view.done()
    return result


def event_message(cluster: str, drift: ObjectDrift) -> str:
    """Return the Event text for one drifted object: object, fields and the managers that changed them."""
    if drift.missing:
        return f"drift on {cluster}: {describe(drift.ref)} was deleted outside gitops-tui"
    managers = [m for m in drift.managers if m != FIELD_MANAGER] or drift.managers
    paths = ", ".join(change.path for change in drift.fields[:10])
    more = f" and {len(drift.fields) - 10} more" if len(drift.fields) > 10 else ""
    by = ", ".join(managers) if managers else "an unknown manager"
    return f"drift on {cluster}: {describe(drift.ref)} fields {paths}{more} changed by {by}"


def correct(
    cluster: str, dynamic: DynamicClient, manifests: list[dict], drift: ClusterDrift, stop: Callable[[], bool],
    view: ClusterView | None = None,
) -> list[str]:
    """Re-apply the drifted objects (stop checked before each write); return their descriptions."""
    wanted = {d.ref.id for d in drift.objects}
    targets = [obj for obj in manifests if ref_of(obj).id in wanted]
    report = apply_objects(cluster, dynamic, targets, stop, view=view)
    return [describe(ref) for ref in report.applied]


def reconcile_drift(
    work: ClusterWork,
    dynamic: DynamicClient,
    manifests: list[dict],
    stop: Callable[[], bool],
    now: Callable[[], datetime],
    view: ClusterView | None = None,
) -> None:
    """Compare one cluster with the applied revision; emit an Event per drifted object and correct it.

    With ``view`` (the watch cache), only what changed since last checked is compared, so an idle source
    costs the cluster nothing.
    """
    try:
        found = detect(work.name, dynamic, manifests, view, drifted=True)
    except Exception as exc:  # noqa: BLE001 - transport failures
        work.fail("ClusterNotReachable", f"drift check on {work.name} failed ({type(exc).__name__})")
        return
    if found.error:
        work.fail("DriftCheckFailed", found.error)
        return
    if not found.drifted:
        return
    for item in found.objects:
        work.events.append(("Warning", "DriftDetected", event_message(work.name, item)))
    fixed: list[str] = []
    if not work.attempt(lambda: fixed.extend(correct(work.name, dynamic, manifests, found, stop, view))):
        return
    work.entry["lastSyncTime"] = now().strftime("%Y-%m-%dT%H:%M:%SZ")
    work.changed = True
    work.events.append(("Normal", "DriftCorrected", f"corrected on {work.name}: {listing(fixed)}"))
    work.corrections.append(("drift-corrected", fixed, "; ".join(event_message(work.name, i) for i in found.objects)))
