"""The Helm step of a cluster's apply: render every HelmRelease first, install after the plain objects, uninstall removed ones."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError

from gitops_tui.helm.crds import helm_crd_manifests, is_helm_release, tenant_role
from gitops_tui.helm.errors import HelmReleaseFailed
from gitops_tui.kube.apply import UnknownKind, apply_object, get_object, resolver_for
from gitops_tui.kube.impersonation import own_client
from gitops_tui.kube.inventory import ObjectRef, ref_of
from gitops_tui.kube.outbound import FetchPolicy
from gitops_tui.reconciler.ownership import Claim
from gitops_tui.reconciler.status import Failure

if TYPE_CHECKING:  # the installer loads Helm (a Go library, ~50 MiB): only when a HelmRelease is rendered
    from gitops_tui.helm import installer

log = logging.getLogger(__name__)


#: The kinds whose CRDs the Helm step installs.
HELM_KINDS = frozenset({"HelmRelease", "HelmRepository", "HelmChart", "OCIRepository"})
#: Connections (their Resolver) on which the Helm kinds' tenant role was applied by this process.
_ROLE_MADE: set[int] = set()


class HelmStepFailed(Exception):
    """A HelmRelease of the revision failed; the message names it and carries Helm's own words.

    ``retry_after``: seconds until a RetryOnFailure release is tried again (None: the source's own back-off).
    """

    def __init__(self, reason: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


def helm_releases(manifests: Iterable[dict]) -> list[dict]:
    """Return the HelmRelease manifests of a revision."""
    return [m for m in manifests if is_helm_release(m)]


def release_claims(prepared: Iterable[installer.PreparedRelease]) -> list[Claim]:
    """Return the objects the prepared releases will write, as the ownership check sees them ("ns/name" release)."""
    prepared = tuple(prepared)
    if not prepared:  # a revision without HelmReleases: Helm's Go library stays unloaded
        return []
    from gitops_tui.helm import installer

    return [Claim(installer.owned_object(obj, item.target, {}), f"{item.target.namespace}/{item.target.name}")
            for item in prepared for obj in item.rendered.objects]


def release_refs(prepared: Iterable[installer.PreparedRelease]) -> tuple[ObjectRef, ...]:
    """Return the refs of every object of the prepared releases (they join the cluster's inventory)."""
    return tuple(ref_of(claim.obj) for claim in release_claims(prepared))


def ensure_crds(dynamic: DynamicClient, manifests: list[dict]) -> None:
    """Install Flux's HelmRelease/HelmRepository/HelmChart/OCIRepository CRDs on the cluster when the revision needs them."""
    kinds = {m.get("kind") for m in manifests}
    if not kinds & HELM_KINDS:
        return
    dynamic = own_client(dynamic)  # CRDs and their role are the reconciler's own writes, never a tenant's
    resolver = resolver_for(dynamic)
    try:
        resolver.resource("helm.toolkit.fluxcd.io/v2", "HelmRelease")
        resolver.resource("source.toolkit.fluxcd.io/v1", "HelmRepository")
        resolver.resource("source.toolkit.fluxcd.io/v1", "HelmChart")
        resolver.resource("source.toolkit.fluxcd.io/v1", "OCIRepository")
        missing = False
    except UnknownKind:
        missing = True
    for crd in helm_crd_manifests() if missing else ():
        apply_object(dynamic, crd)
    if missing or id(resolver) not in _ROLE_MADE:  # once per connection: projects' ServiceAccounts may write them
        apply_object(dynamic, tenant_role())
        _ROLE_MADE.add(id(resolver))
    if missing:
        dynamic.resources.invalidate_cache()


def prepare_all(
    dynamic: DynamicClient, manifests: list[dict], checkout: Path, cache_dir: Path,
    fetch_policy: FetchPolicy | None = None, cluster_scoped: bool = False,
) -> list[installer.PreparedRelease]:
    """Render and validate every HelmRelease of the revision for this cluster; nothing of the revision is written.

    ``cluster_scoped``: releases may hold cluster-scoped objects (a platform project's).

    On failure, a HelmRelease already on the cluster (from an earlier revision) gets Ready/Released
    False with Helm's message, as Flux shows it; then HelmStepFailed names the release.
    """
    from gitops_tui.helm import installer
    from gitops_tui.reconciler.flux import releases as flux_releases

    prepared = []
    try:  # HelmRelease dependsOn (docs/flux.md): dependencies first; those outside the revision Ready on the cluster
        ordered = flux_releases.install_order(helm_releases(manifests))
        in_revision = {(r["metadata"].get("namespace", ""), r["metadata"]["name"]) for r in ordered}
        for release in ordered:
            flux_releases.outside_dependencies_ready(dynamic, release, in_revision)
    except flux_releases.ReleaseOrderError as exc:
        raise HelmStepFailed(flux_releases.REASON_DEPENDENCY_NOT_READY, f"HelmRelease/{exc.release}: {exc.message}") from None
    for release in ordered:
        try:
            prepared.append(installer.prepare(dynamic, release, checkout=checkout, manifests=manifests,
                                              cache_dir=cache_dir, fetch_policy=fetch_policy,
                                              cluster_scoped=cluster_scoped))
        except HelmReleaseFailed as exc:
            record_failure(dynamic, release, exc.reason, exc.message, datetime.now(UTC))
            raise HelmStepFailed(exc.reason, f"HelmRelease/{release['metadata']['name']}: {exc.message}") from None
    return prepared


class HelmRefused(Exception):
    """A HelmRelease could not be prepared on one or more clusters: the revision is refused everywhere."""

    def __init__(self, failed: dict[str, Failure], unreachable: dict[str, str], *, everywhere: bool) -> None:
        """``failed``: each failing cluster's failure; ``unreachable``: why others could not be asked;
        ``everywhere`` when no cluster prepared fine."""
        self.failed = failed
        self.unreachable = unreachable
        messages = {f.message for f in failed.values()}
        if everywhere and len(messages) == 1:
            message = messages.pop()
        else:
            message = "; ".join(f"{cluster}: {f.message}" for cluster, f in sorted(failed.items()))
        self.failure = Failure(failed[min(failed)].reason, message, stalled=True)
        super().__init__(message)


def prepare_clusters(
    connections: dict[str, DynamicClient], manifests: list[dict] | dict[str, list[dict]], checkout: Path,
    cache_dir: Path, fetch_policy: FetchPolicy | None = None, cluster_scoped: bool = False,
) -> tuple[dict[str, tuple[installer.PreparedRelease, ...]], dict[str, str]]:
    """Prepare the revision's releases on every cluster before deciding; return (prepared, unreachable -> why).

    ``manifests`` is the revision's objects, or each cluster's own (its overrides applied: per-cluster values).

    Each cluster's Helm failure is recorded on its own HelmRelease (prepare_all); then any failure raises
    HelmRefused naming every failing cluster. A transport failure only sets that cluster aside, as in validation.
    """
    prepared: dict[str, tuple[installer.PreparedRelease, ...]] = {}
    failed: dict[str, Failure] = {}
    unreachable: dict[str, str] = {}
    for cluster, dynamic in connections.items():
        try:
            objects = manifests.get(cluster, []) if isinstance(manifests, dict) else manifests
            prepared[cluster] = tuple(prepare_all(dynamic, objects, checkout, cache_dir, fetch_policy, cluster_scoped))
        except HelmStepFailed as exc:
            failed[cluster] = Failure(exc.reason, exc.message, stalled=True)
        except Exception as exc:  # noqa: BLE001 - transport failures: this cluster only
            unreachable[cluster] = f"cannot reach the cluster ({type(exc).__name__})"
    if failed:
        raise HelmRefused(failed, unreachable, everywhere=not prepared)
    return prepared, unreachable


def install_all(
    dynamic: DynamicClient,
    prepared: list[installer.PreparedRelease],
    *,
    labels: dict[str, str],
    now: datetime,
    stop: Callable[[], bool],
    cluster: str = "",
) -> list[installer.ReleaseOutcome]:
    """Install or upgrade each prepared release and write its status; stop before any write once asked.

    Each release follows its strategy (helm/strategy.py): Helm's wait, then on failure the count, the remediation
    and the retry Flux's install/upgrade strategy give; HelmStepFailed says what failed (its ``retry_after``: when a
    RetryOnFailure release wants to be tried again).
    """
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    outcomes: list[installer.ReleaseOutcome] = []
    for item in prepared:
        outcome = release_one(dynamic, item, labels=labels, stamp=stamp, modified_at=int(now.timestamp()), stop=stop,
                              cluster=cluster)
        if outcome is None:
            return outcomes
        outcomes.append(outcome)
    return outcomes


def release_one(dynamic: DynamicClient, item: installer.PreparedRelease, *, labels: dict[str, str], stamp: str,
                modified_at: int, stop: Callable[[], bool], cluster: str = "") -> installer.ReleaseOutcome | None:
    """One release's install or upgrade with its strategy; None when stopped; HelmStepFailed when it failed."""
    from gitops_tui.helm import installer
    from gitops_tui.helm import strategy as strategies
    from gitops_tui.helm.errors import WaitFailed
    from gitops_tui.helm.status import write_status

    name = item.helm_release["metadata"]["name"]
    if item.unchanged:  # a release back to its last good state turns Ready again
        outcome = installer.install(dynamic, item, labels=labels, now=stamp, modified_at=modified_at, should_stop=stop)
        write_status(dynamic, item.helm_release, outcome=outcome, failure=None, now=stamp)
        return outcome
    digest = item.rendered.digest
    live = _live_status(dynamic, item.helm_release)
    action = strategies.action_of(item.previous, live, digest)
    reason = "UpgradeFailed" if action == strategies.UPGRADE else "InstallFailed"
    try:
        chosen = strategies.strategy_of(item.helm_release, action)
    except strategies.StrategyInvalid as exc:
        raise HelmStepFailed(reason, f"HelmRelease/{name}: {exc}") from None
    failed_before = strategies.failures(live, action, digest)
    if chosen.exhausted(failed_before):  # Flux: no more attempts for this chart and values
        raise HelmStepFailed(reason, f"HelmRelease/{name}: {action} retries exhausted ({chosen.describe(failed_before)})"
                                     f": {_last_message(live)}; change the chart or its values to try again")

    def wait(objects: list[dict]) -> None:
        from gitops_tui.reconciler.errors import ObjectFailure
        from gitops_tui.reconciler.health_wait import wait_healthy

        try:
            wait_healthy(cluster or "the cluster", own_client(dynamic), [ref_of(o) for o in objects], chosen.timeout,
                         stop)
        except ObjectFailure as exc:
            raise WaitFailed(exc.message) from None

    try:
        outcome = installer.install(dynamic, item, labels=labels, now=stamp, modified_at=modified_at,
                                    should_stop=stop, wait=wait if chosen.wait else None)
    except (DynamicApiError, HelmReleaseFailed) as exc:
        message = exc.message if isinstance(exc, HelmReleaseFailed) else exc.summary()[:300]
        counted = strategies.counters(live, digest, action, failed=True)
        done = ""
        if chosen.remediates(counted[strategies.FAILURE_FIELDS[action]]):
            from gitops_tui.helm.remediation import remediate

            done = remediate(dynamic, item, chosen, labels=labels, now=stamp, modified_at=modified_at, stop=stop)
        text = f"HelmRelease/{name}: {message}" + (f"; {done}" if done else "")
        write_status(dynamic, item.helm_release, outcome=None, failure=(reason, text), now=stamp, extra=counted)
        raise HelmStepFailed(reason, text, retry_after=chosen.retry_interval if chosen.retrying else None) from None
    if outcome is None:
        return None
    write_status(dynamic, item.helm_release, outcome=outcome, failure=None, now=stamp,
                 extra=strategies.counters(live, digest, action, failed=False))
    return outcome


def _live_status(dynamic: DynamicClient, helm_release: dict) -> dict:
    """The status of the release's HelmRelease on the cluster ({} when it has none yet)."""
    meta = helm_release.get("metadata") or {}
    try:
        live = get_object(own_client(dynamic), "helm.toolkit.fluxcd.io/v2", "HelmRelease", meta.get("name", ""),
                          meta.get("namespace"))
    except Exception:  # noqa: BLE001 - no HelmRelease kind yet: nothing recorded
        return {}
    return dict((live or {}).get("status") or {})


def _last_message(status: dict) -> str:
    ready: dict = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    return str(ready.get("message") or "the last attempt failed")


def record_failure(dynamic: DynamicClient, helm_release: dict, reason: str, message: str, now: datetime) -> None:
    """Write a failed Ready/Released status on the cluster's HelmRelease, when it exists there."""
    meta = helm_release.get("metadata") or {}
    try:
        if get_object(dynamic, "helm.toolkit.fluxcd.io/v2", "HelmRelease", meta.get("name", ""), meta.get("namespace")) is None:
            return
    except Exception:  # noqa: BLE001 - no HelmRelease kind on the cluster yet
        return
    from gitops_tui.helm.status import write_status

    try:
        write_status(dynamic, helm_release, outcome=None, failure=(reason, message), now=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    except Exception:  # noqa: BLE001 - the HelmRelease may not be on the cluster yet
        log.debug("no HelmRelease %s to record the failure on", helm_release["metadata"]["name"])


def uninstall_removed(dynamic: DynamicClient, removed: Iterable[ObjectRef], stop: Callable[[], bool]) -> list[str]:
    """Uninstall the releases of HelmReleases that left the revision; return their names."""
    names = []
    for ref in removed:
        if ref.kind != "HelmRelease" or stop():
            continue
        stub = {"metadata": {"name": ref.name, "namespace": ref.namespace}, "spec": {}}
        try:
            live = get_object(dynamic, ref.api_version, ref.kind, ref.name, ref.namespace or None)
        except UnknownKind:
            live = None
        from gitops_tui.helm import installer

        release = installer.last_release(dynamic, live or stub)
        if installer.uninstall(dynamic, live or stub):
            names.append(ref.name)
            if live is not None and release is not None:
                record_failure(dynamic, live, "UninstallSucceeded", _uninstalled_message(release), datetime.now(UTC))
    return names


def _uninstalled_message(release: dict) -> str:
    meta = (release.get("chart") or {}).get("metadata") or {}
    return (f"Helm uninstall succeeded for release {release.get('namespace')}/{release.get('name')}.v{release.get('version')}"
            f" with chart {meta.get('name')}@{meta.get('version')}")
