"""Apply one revision to one cluster: server-side apply object by object (stop checked before every write), prune, health wait."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError

from gitops_tui.api import names
from gitops_tui.kube.apply import UnknownKind, apply_object, delete_object, get_object, list_objects
from gitops_tui.kube.impersonation import own_client
from gitops_tui.kube.inventory import ObjectRef, config_hash, describe, entries, parse_entries, ref_of, stale
from gitops_tui.reconciler import metrics
from gitops_tui.reconciler.apply_waves import apply_by_rank
from gitops_tui.reconciler.errors import ObjectFailure, Stopped, api_message
from gitops_tui.reconciler.force import RECREATE_STATUSES, forced, recreate
from gitops_tui.reconciler.health_wait import health_targets, wait_healthy
from gitops_tui.reconciler.object_checks import apply_order, kind_rank, rank, validate_for_cluster
from gitops_tui.reconciler.ownership import Owner
from gitops_tui.reconciler.write_hooks import WriteRecord, add_write_hook, guarded_write

if TYPE_CHECKING:  # pragma: no cover - typing only
    from gitops_tui.reconciler.drift_watch import ClusterView

__all__ = ["ApplyOptions", "ApplyReport", "ClusterWork", "ObjectFailure", "Stopped", "WriteRecord", "add_write_hook",
           "api_message", "apply_objects", "apply_order", "apply_revision", "listing", "propagate_cluster", "prune_objects",
           "validate_for_cluster", "withdraw_cluster"]

log = logging.getLogger(__name__)

@dataclass
class ClusterWork:
    """One cluster's part of a reconcile: its status entry (updated in place) and the Events to emit."""

    name: str
    entry: dict[str, Any]
    changed: bool = False
    stopped: bool = False
    withdrawn: bool = False
    events: list[tuple[str, str, str]] = field(default_factory=list)
    #: Automatic corrections for the journal: (action, objects touched, reason).
    corrections: list[tuple[str, list[str], str]] = field(default_factory=list)
    #: Seconds until a failed Helm release asks to be tried again (its RetryOnFailure retryInterval).
    retry_after: float | None = None

    def fail(self, reason: str, message: str) -> None:
        """Mark the cluster failed with ``reason`` and record a Warning Event."""
        self.entry.update(status=reason, message=message)
        self.events.append(("Warning", reason, message))

    def attempt(self, action: Callable[[], Any], unreachable: str = "") -> bool:
        """Run ``action``; False after recording a stop, an object failure or (given ``unreachable``) a transport failure."""
        try:
            action()
        except Stopped:
            self.stopped = True
            return False
        except ObjectFailure as exc:
            self.fail(exc.reason, exc.message)
            return False
        except Exception as exc:  # noqa: BLE001 - transport failures, when the caller names them
            if not unreachable:
                raise
            self.fail("ClusterNotReachable", f"{unreachable} ({type(exc).__name__})")
            return False
        return True


@dataclass
class ApplyReport:
    """What an apply did on one cluster."""

    applied: list[ObjectRef] = field(default_factory=list)
    unchanged: list[ObjectRef] = field(default_factory=list)
    created: list[ObjectRef] = field(default_factory=list)
    pruned: list[ObjectRef] = field(default_factory=list)
    kept: list[ObjectRef] = field(default_factory=list)
    inventory: list[ObjectRef] = field(default_factory=list)


def apply_objects(cluster: str, dynamic: DynamicClient, manifests: Iterable[dict], stop: Callable[[], bool],
                  previous_ids: set[str] | None = None, view: ClusterView | None = None,
                  force: bool = False) -> ApplyReport:
    """Server-side apply each manifest in order, checking ``stop`` before each write; the objects of one apply
    rank (one kind, or kinds ranked alike) are written 4 at a time (apply_waves.py).

    With ``view`` (the watch cache, drift_watch.ClusterView), an object it holds unchanged is not written
    (it counts as applied) and every apply's answer is recorded in it. With ``force`` (or the object's own
    ``kustomize.toolkit.fluxcd.io/force: enabled``), an object the API server refuses as a conflict or as
    invalid (an immutable field changed) is deleted and applied again, as Flux does.
    """
    report = ApplyReport()
    previous_ids = previous_ids or set()
    ordered = apply_order(manifests)
    skip = {id(obj) for obj in ordered if view is not None and view.unchanged(obj)}

    def write(obj: dict) -> None:
        ref = ref_of(obj)
        try:
            result = guarded_write(cluster, "apply", ref, stop, lambda: apply_object(dynamic, obj))
        except DynamicApiError as exc:
            if int(getattr(exc, "status", 0) or 0) in RECREATE_STATUSES and forced(obj, force):
                result = recreate(cluster, dynamic, obj, ref, lambda verb, write: guarded_write(
                    cluster, verb, ref, stop, write))
            else:
                raise ObjectFailure("ApplyFailed", f"{describe(ref)} on {cluster}: {api_message(exc)}") from None
        if view is not None:
            view.applied(obj, result)

    apply_by_rank([obj for obj in ordered if id(obj) not in skip], rank, write)  # a rank's writes in parallel
    for obj in ordered:
        ref = ref_of(obj)
        report.applied.append(ref)
        if id(obj) in skip:
            report.unchanged.append(ref)
        elif ref.id not in previous_ids:
            report.created.append(ref)
    return report


def _read(cluster: str, dynamic: DynamicClient, ref: ObjectRef) -> dict | None:
    """The live object of ``ref`` (None when gone or of a kind no longer served); PruneFailed when it cannot be read."""
    try:
        return get_object(dynamic, ref.api_version, ref.kind, ref.name, ref.namespace or None)
    except UnknownKind:
        return None
    except DynamicApiError as exc:
        raise ObjectFailure("PruneFailed", f"{describe(ref)} on {cluster}: {api_message(exc)}") from None


def prune_objects(
    cluster: str, dynamic: DynamicClient, refs: Iterable[ObjectRef], stop: Callable[[], bool],
    owner: Owner | None = None, kept: list[ObjectRef] | None = None,
) -> list[ObjectRef]:
    """Delete each ref that exists (reverse apply order), checking ``stop`` before each; return those deleted.

    With ``owner``, an object whose live labels name another owner (or none) is left alone and added
    to ``kept``: prune and delete remove only what the source still owns.
    """
    refs = list(refs)
    listed: dict[tuple[str, str, str], dict[str, dict] | None] = {}
    for ref in refs:
        key = (ref.api_version, ref.kind, ref.namespace)
        if key not in listed:
            try:
                listed[key] = list_objects(dynamic, ref.api_version, ref.kind, ref.namespace or None)
            except Exception:  # noqa: BLE001 - a LIST refused or failing: read each object instead
                listed[key] = None
    wanted = []
    for ref in refs:
        group = listed[(ref.api_version, ref.kind, ref.namespace)]
        live = group.get(ref.name) if group is not None else _read(cluster, dynamic, ref)
        if live is None:
            continue
        if owner is None or owner.owns(live):
            wanted.append(ref)
        elif kept is not None:
            kept.append(ref)
    refs = wanted
    ordered = sorted(refs, key=lambda r: (-kind_rank(r.kind), r.id))
    removed: list[ObjectRef] = []
    for ref in ordered:
        try:
            existed = guarded_write(
                cluster, "delete", ref, stop,
                partial(delete_object, dynamic, ref.api_version, ref.kind, ref.name, ref.namespace or None),
            )
        except UnknownKind:
            continue
        except DynamicApiError as exc:
            raise ObjectFailure("PruneFailed", f"{describe(ref)} on {cluster}: {api_message(exc)}") from None
        if existed:
            removed.append(ref)
    return removed


def apply_revision(
    cluster: str,
    dynamic: DynamicClient,
    manifests: list[dict],
    previous: list[ObjectRef],
    *,
    prune: bool,
    stop: Callable[[], bool],
    between: Callable[[], None] | None = None,
    chart_refs: Iterable[ObjectRef] = (),
    existing_ids: set[str] | None = None,
    owner: Owner | None = None,
    view: ClusterView | None = None,
    force: bool = False,
) -> ApplyReport:
    """Apply a validated revision, run ``between`` (the Helm step), then prune what left the inventory when ``prune``.

    ``chart_refs`` (the objects of the revision's Helm releases) join the inventory; ``existing_ids``
    (the objects live before the apply) tell which objects are new, else the previous inventory does;
    prune removes only what ``owner`` still owns; ``view`` (the watch cache) spares the writes of unchanged objects.
    """
    report = apply_objects(cluster, dynamic, manifests, stop,
                           existing_ids if existing_ids is not None else {ref.id for ref in previous}, view, force)
    if between is not None:
        between()
    desired = [*(ref_of(obj) for obj in manifests), *chart_refs]
    if prune:
        removed = stale(previous, desired)
        if any(ref.kind == "HelmRelease" for ref in removed):
            from gitops_tui.reconciler import helm_step

            helm_step.uninstall_removed(dynamic, removed, stop)
        report.pruned = prune_objects(cluster, dynamic, removed, stop, owner, report.kept)
    report.inventory = desired
    return report


def _stamp(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def propagate_cluster(
    work: ClusterWork,
    dynamic: DynamicClient,
    revision: str,
    manifests: list[dict],
    previous: list[ObjectRef],
    options: ApplyOptions,
    stop: Callable[[], bool],
    now: Callable[[], datetime],
) -> None:
    """Apply ``revision`` to one cluster, install its Helm releases, prune, wait for health; update ``work``."""

    def helm_step() -> None:
        if options.helm:
            _install_helm(dynamic, options, stop, now, work.name)

    try:
        report = apply_revision(work.name, dynamic, manifests, previous, prune=options.prune, stop=stop,
                                between=helm_step, chart_refs=options.chart_refs, existing_ids=options.existing_ids,
                                owner=options.owner, view=options.view, force=options.force)
    except Stopped:
        work.stopped = True
        work.entry.update(status="ApplyStopped", message=f"apply of {revision} stopped before completion")
        work.events.append(("Normal", "ApplyStopped", f"apply of {revision} to {work.name} stopped before completion"))
        return
    except ObjectFailure as exc:
        work.fail(exc.reason, exc.message)
        return
    except Exception as exc:  # noqa: BLE001 - transport failures: the cluster went away mid-apply
        if type(exc).__name__ == "HelmStepFailed":
            work.fail(getattr(exc, "reason", "HelmReleaseFailed"), str(exc))
            work.retry_after = getattr(exc, "retry_after", None)
            return
        work.fail("ClusterNotReachable", f"apply to {work.name} failed ({type(exc).__name__})")
        return
    hashes = {ref_of(obj).id: options.hash_of(obj) for obj in manifests}
    work.entry.update(inventory=entries(report.inventory, hashes), lastAppliedRevision=revision,
                      lastAttemptedRevision=revision, status="", message=f"applied {len(report.applied)} objects",
                      lastSyncTime=_stamp(now()))
    work.changed = True
    if options.view is not None and not report.unchanged:
        options.view.done()  # every object was just applied: as good as a full dry-run pass
    text = f"applied revision {revision} to {work.name}: {len(report.applied)} objects ({len(report.created)} new)"
    if report.pruned:
        text += "; pruned " + _names(report.pruned)
        work.corrections.append(("prune", [describe(r) for r in report.pruned], f"no longer in git at {revision}"))
    if report.kept:
        text += "; not pruned (owned by another source now) " + _names(report.kept)
    work.events.append(("Normal", "Applied", text))
    metrics.count_objects(options.labels.get(names.LABEL_PROJECT, ""), work.name, len(report.applied),
                          len(report.pruned))
    targets = health_targets(manifests, options.wait, options.health_checks, options.namespace)
    if not targets:
        return
    work.attempt(lambda: wait_healthy(work.name, own_client(dynamic), targets, options.timeout, stop))


def _install_helm(dynamic: DynamicClient, options: ApplyOptions, stop: Callable[[], bool],
                  now: Callable[[], datetime], cluster: str = "") -> None:
    """Install or upgrade the prepared Helm releases (after the plain objects); raise Stopped when stopped."""
    from gitops_tui.reconciler import helm_step

    done = helm_step.install_all(dynamic, list(options.helm), labels=dict(options.labels), now=now(), stop=stop,
                                 cluster=cluster)
    if len(done) < len(options.helm):
        raise Stopped("stopped during the Helm step")


def listing(items: list[str], limit: int = 20) -> str:
    """Join the first ``limit`` items with commas, then say how many more there are."""
    text = ", ".join(items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _names(refs: list[ObjectRef], limit: int = 20) -> str:
    return listing([describe(r) for r in refs], limit)


@dataclass(frozen=True)
class ApplyOptions:
    """The kustomization settings an apply follows."""

    namespace: str
    prune: bool = True
    wait: bool = False
    health_checks: list[dict[str, Any]] = field(default_factory=list)
    timeout: float = 60.0
    helm: tuple[Any, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    chart_refs: tuple[ObjectRef, ...] = ()
    existing_ids: set[str] | None = None
    owner: Owner | None = None
    view: ClusterView | None = None
    force: bool = False
    """Recreate objects whose change is refused as immutable (Flux's ``spec.force``)."""
    hash_of: Callable[[dict[str, Any]], str] = config_hash
    """The objects' configuration hashes (kube.inventory.Hashes: each computed once per reconcile)."""


def withdraw_cluster(work: ClusterWork, dynamic: DynamicClient, prune: bool, stop: Callable[[], bool],
                     owner: Owner | None = None) -> None:
    """The cluster left the placement: prune what the source applied there and still owns (when ``prune``), then forget it."""
    refs = parse_entries(work.entry.get("inventory"))
    removed: list[ObjectRef] = []

    def prune_all() -> None:
        if any(ref.kind == "HelmRelease" for ref in refs):
            from gitops_tui.reconciler import helm_step

            helm_step.uninstall_removed(dynamic, refs, stop)
        removed.extend(prune_objects(work.name, dynamic, refs, stop, owner))

    if prune and refs and not work.attempt(prune_all, unreachable=f"cannot prune {work.name}"):
        return
    work.withdrawn = True
    if removed:
        work.corrections.append(("prune", [describe(r) for r in removed], f"{work.name} left the placement"))
    text = f"{work.name} left the placement"
    text += f"; pruned {_names(removed)}" if removed else "; its objects were kept" if refs and not prune else ""
    work.events.append(("Normal", "Withdrawn", text))
