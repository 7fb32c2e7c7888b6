"""Install, upgrade and uninstall one HelmRelease on one cluster, recording it in Helm's own storage."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError

from gitops_tui.api import names
from gitops_tui.helm import storage
from gitops_tui.helm.chart_crds import create_absent, install_crds
from gitops_tui.helm.charts import resolve_chart
from gitops_tui.helm.dependencies import refuse_unsupported
from gitops_tui.helm.errors import INSTALL_FAILED, UPGRADE_FAILED, HelmReleaseFailed, WaitFailed
from gitops_tui.helm.render import RenderedRelease, release_record, render_release
from gitops_tui.helm.stored import stored_releases
from gitops_tui.helm.values import compose_values, redact_message
from gitops_tui.kube.apply import UnknownKind, apply_object, delete_object, get_object, resolver_for
from gitops_tui.kube.limits import LimitExceeded, expanded_nodes
from gitops_tui.kube.outbound import FetchPolicy

log = logging.getLogger(__name__)

DEFAULT_MAX_HISTORY = 5
#: Concurrent requests per cluster when dry-running and applying a release's objects.
PARALLEL_WRITES = 6


@dataclass(frozen=True)
class ReleaseTarget:
    """Where a HelmRelease installs: its release name, target namespace and history limit."""

    name: str
    namespace: str
    max_history: int

    @classmethod
    def of(cls, helm_release: dict[str, Any]) -> ReleaseTarget:
        """Read releaseName, targetNamespace and maxHistory with Flux's defaults."""
        spec = helm_release.get("spec") or {}
        meta = helm_release.get("metadata") or {}
        target_ns = spec.get("targetNamespace") or meta.get("namespace", "")
        default_name = f"{spec['targetNamespace']}-{meta.get('name')}" if spec.get("targetNamespace") else meta.get("name", "")
        history = spec.get("maxHistory")
        return cls(spec.get("releaseName") or default_name, target_ns, DEFAULT_MAX_HISTORY if history is None else int(history))


@dataclass(frozen=True)
class ReleaseOutcome:
    """What one pass did: 'install', 'upgrade' or 'unchanged', with the release's revision and chart."""

    action: str
    release: str
    namespace: str
    revision: int
    chart: str
    chart_version: str

    @property
    def reason(self) -> str:
        """Return Flux's reason for the Released condition."""
        if self.action == "unchanged":
            return "UpgradeSucceeded" if self.revision > 1 else "InstallSucceeded"
        return {"install": "InstallSucceeded", "upgrade": "UpgradeSucceeded"}[self.action]


@dataclass(frozen=True)
class PreparedRelease:
    """A release rendered and validated, ready to apply: nothing has been written yet."""

    helm_release: dict[str, Any]
    target: ReleaseTarget
    chart: helm.Chart
    rendered: RenderedRelease
    revision: int
    previous: dict[str, Any] | None
    crds: tuple[dict[str, Any], ...] = ()  # the chart's crds/ folder, created on install (helm/chart_crds.py)

    @property
    def unchanged(self) -> bool:
        """True when the deployed revision already has this chart, values and manifest."""
        if not self.previous or self.previous["info"]["status"] != storage.DEPLOYED:
            return False
        return (
            self.previous.get("manifest") == self.rendered.manifest
            and (self.previous.get("config") or {}) == self.rendered.values
            and (self.previous.get("chart") or {}).get("metadata") == self.rendered.chart_metadata
        )


def _from_revision(manifests: list[dict[str, Any]], kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    """Return a ConfigMap/Secret of the revision itself (it is applied before the release is installed)."""
    for obj in manifests:
        meta = obj.get("metadata") or {}
        if obj.get("kind") == kind and meta.get("name") == name and meta.get("namespace", namespace) == namespace:
            if kind == "Secret" and obj.get("stringData"):
                encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in obj["stringData"].items()}
                return {**obj, "data": {**(obj.get("data") or {}), **encoded}}
            return obj
    return None


def prepare(
    dynamic: DynamicClient,
    helm_release: dict[str, Any],
    *,
    checkout: Path,
    manifests: list[dict[str, Any]],
    cache_dir: Path,
    fetch_policy: FetchPolicy | None = None,
    cluster_scoped: bool = False,
) -> PreparedRelease:
    """Load the chart, compose values and render: every failure here applies nothing.

    ``fetch_policy``: where a HelmRepository's URL may be fetched (kube/outbound.py; default from the environment).
    ``cluster_scoped``: the release may hold cluster-scoped objects (a platform project's, docs/flux.md).
    """
    target = ReleaseTarget.of(helm_release)
    project_ns = helm_release["metadata"]["namespace"]
    history = stored_releases(dynamic, target.namespace, target.name)
    previous = history[-1] if history else None
    reason = UPGRADE_FAILED if previous else INSTALL_FAILED
    if target.namespace != project_ns:
        raise HelmReleaseFailed(reason, f"targetNamespace {target.namespace!r} is outside the project namespace {project_ns!r}")
    refuse_unsupported(helm_release, reason)


    def read(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        in_revision = _from_revision(manifests, kind, namespace, name)
        return in_revision if in_revision is not None else get_object(dynamic, "v1", kind, name, namespace)

    def read_secret(name: str) -> dict[str, bytes] | None:
        secret = read("Secret", project_ns, name)
        if secret is None:
            return None
        return {key: base64.b64decode(value or "") for key, value in (secret.get("data") or {}).items()}

    chart = resolve_chart(helm_release, checkout, manifests, cache_dir, fetch_policy, read_secret, reason=reason)

    secrets: list[str] = []
    try:
        values = compose_values(helm_release, project_ns, read, secrets)
        expanded_nodes(values, "the composed values")
    except HelmReleaseFailed as exc:
        raise HelmReleaseFailed(reason, exc.message) from exc
    except LimitExceeded as exc:
        raise HelmReleaseFailed(reason, exc.message) from None
    from gitops_tui.kube.apply_order import namespace_pending

    pending = namespace_pending(dynamic, target.namespace, manifests)
    try:
        return _check_and_dry_run(dynamic, helm_release, target, chart, values, previous, reason, dry_run=not pending,
                                  cluster_scoped=cluster_scoped)
    except HelmReleaseFailed as exc:
        # Helm's messages and the cluster's answers may quote a value from a Secret, transformed or not.
        message = redact_message(exc.message, secrets, quotes_values=exc.quotes_values)
        raise HelmReleaseFailed(exc.reason, message, quotes_values=exc.quotes_values) from None


def _check_and_dry_run(dynamic: DynamicClient, helm_release: dict[str, Any], target: ReleaseTarget, chart: helm.Chart,
                       values: dict[str, Any], previous: dict[str, Any] | None, reason: str,
                       *, dry_run: bool = True, cluster_scoped: bool = False) -> PreparedRelease:
    """Render with ``values``, check every object stays in the target namespace (or, ``cluster_scoped``, is
    cluster-scoped), dry-run apply.

    ``dry_run`` False skips the dry-run: the target namespace is made by the same revision (docs/flux.md).
    """
    revision = int(previous["version"]) + 1 if previous else 1
    rendered = render_release(
        chart, values, release_name=target.name, namespace=target.namespace, revision=revision, failure_reason=reason
    )
    resolver = resolver_for(dynamic)
    for obj in rendered.objects:
        what = f"{obj['kind']}/{obj['metadata']['name']}"
        namespace = (obj.get("metadata") or {}).get("namespace")
        if namespace and namespace != target.namespace:
            raise HelmReleaseFailed(reason, f"{what} is in namespace {namespace!r}, outside the project")
        try:
            namespaced = resolver.namespaced(obj["apiVersion"], obj["kind"])
        except UnknownKind as exc:
            raise HelmReleaseFailed(reason, f"{what}: {exc}") from None
        if not namespaced and not cluster_scoped:
            raise HelmReleaseFailed(reason, f"{what} is cluster-scoped; a release may only hold namespaced objects "
                                            "(a platform project's may hold cluster-scoped ones)")
    prepared = PreparedRelease(helm_release, target, chart, rendered, revision, previous,
                               install_crds(helm_release, chart, cluster_scoped))
    if not prepared.unchanged and dry_run:
        _dry_run(dynamic, prepared, reason)
    return prepared


def _dry_run(dynamic: DynamicClient, prepared: PreparedRelease, reason: str) -> None:
    """Server-side dry-run apply of every object: what the cluster would refuse fails before any write."""
    def check(obj: dict[str, Any]) -> None:
        try:
            apply_object(dynamic, owned_object(obj, prepared.target, {}), dry_run=True)
        except DynamicApiError as exc:
            what = f"{obj['kind']}/{obj['metadata']['name']}"
            conflict = _ownership_conflict(dynamic, obj, prepared.target)
            if conflict:  # "field is immutable" on another owner's object says nothing of the real problem
                raise HelmReleaseFailed(names.REASON_OWNERSHIP_CONFLICT, conflict) from None
            raise HelmReleaseFailed(reason, f"{what}: {_api_summary(exc)}") from None

    _each(check, prepared.rendered.objects)


def _ownership_conflict(dynamic: DynamicClient, obj: dict[str, Any], target: ReleaseTarget) -> str:
    """When the cluster refused a chart object that exists and belongs to someone else: a sentence naming the other
    owner (a gitops-tui source, another Helm release, or its field managers); '' when it is this release's or new."""
    meta = obj.get("metadata") or {}
    try:
        live = get_object(dynamic, obj.get("apiVersion", ""), obj.get("kind", ""), meta.get("name", ""),
                          target.namespace)
    except Exception:  # noqa: BLE001 - the cluster's own answer is reported instead
        return ""
    if live is None:
        return ""
    live_meta = live.get("metadata") or {}
    annotations = live_meta.get("annotations") or {}
    labels = live_meta.get("labels") or {}
    release = (annotations.get(names.ANNOTATION_HELM_RELEASE_NAMESPACE), annotations.get(names.ANNOTATION_HELM_RELEASE_NAME))
    if release == (target.namespace, target.name):
        return ""
    if labels.get(names.LABEL_SOURCE):
        owner = f"source {labels.get(names.LABEL_PROJECT, '?')}/{labels[names.LABEL_SOURCE]}"
    elif release[1]:
        owner = f"Helm release {release[0]}/{release[1]}"
    else:
        managers = sorted({str(f.get("manager")) for f in live_meta.get("managedFields") or [] if f.get("manager")})
        owner = f"another manager ({', '.join(managers) or 'unknown'})"
    return (f"{names.REASON_OWNERSHIP_CONFLICT}: {obj.get('kind')} {target.namespace}/{meta.get('name')} is owned by "
            f"{owner}; Helm release {target.namespace}/{target.name} renders it too: an object has one owner; "
            "remove it from one of them")


def _each(fn: Callable[[dict[str, Any]], Any], objects: list[dict[str, Any]]) -> list[Any]:
    """Run ``fn`` on every object, a few at a time (requests are I/O bound); re-raise the first failure in order."""
    if len(objects) <= 1:
        return [fn(obj) for obj in objects]
    with ThreadPoolExecutor(max_workers=min(PARALLEL_WRITES, len(objects)), thread_name_prefix="helm-apply") as pool:
        futures = [pool.submit(fn, obj) for obj in objects]
        return [future.result() for future in futures]


def _api_summary(exc: DynamicApiError) -> str:
    try:
        return str(exc.summary()).replace("\n", " ")[:400]
    except Exception:  # noqa: BLE001 - summary parses the body
        return f"HTTP {getattr(exc, 'status', '?')}"


def owned_object(obj: dict[str, Any], target: ReleaseTarget, labels: dict[str, str]) -> dict[str, Any]:
    """Return a chart object as the release applies it: in the target namespace, with Helm's ownership metadata."""
    meta = dict(obj.get("metadata") or {})
    meta["namespace"] = target.namespace
    meta["labels"] = {**(meta.get("labels") or {}), **labels, names.LABEL_HELM_MANAGED_BY: "Helm"}
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        names.ANNOTATION_HELM_RELEASE_NAME: target.name,
        names.ANNOTATION_HELM_RELEASE_NAMESPACE: target.namespace,
    }
    return {**obj, "metadata": meta}


def _manifest_refs(manifest: str) -> set[tuple[str, str, str]]:
    docs = [d for d in yaml.safe_load_all(manifest or "") if isinstance(d, dict)]
    return {(d.get("apiVersion", ""), d.get("kind", ""), (d.get("metadata") or {}).get("name", "")) for d in docs}


def install(
    dynamic: DynamicClient,
    prepared: PreparedRelease,
    *,
    labels: dict[str, str],
    now: str,
    modified_at: int,
    should_stop: Callable[[], bool],
    wait: Callable[[list[dict[str, Any]]], None] | None = None,
) -> ReleaseOutcome | None:
    """Apply a prepared release, record its revision and supersede the last; None when stopped.

    ``wait`` (Helm's wait, helm/strategy.py) is given the objects once applied and raises WaitFailed when they do
    not become ready: the revision is then recorded ``failed``, as Helm records it, and HelmReleaseFailed raised.
    """
    target, rendered, previous = prepared.target, prepared.rendered, prepared.previous
    meta = rendered.chart_metadata
    if prepared.unchanged:
        assert previous is not None
        return ReleaseOutcome("unchanged", target.name, target.namespace, int(previous["version"]), meta.get("name", ""), str(meta.get("version", "")))
    def write(obj: dict[str, Any]) -> bool:
        if should_stop():
            return False
        apply_object(dynamic, owned_object(obj, target, labels))
        return True

    failure = ""
    try:
        if not previous:
            create_absent(dynamic, prepared.crds)
        if not all(_each(write, rendered.objects)):
            return None
        if previous:
            for api_version, kind, name in _manifest_refs(previous.get("manifest", "")) - _manifest_refs(rendered.manifest):
                if should_stop():
                    return None
                _delete_if_released(dynamic, api_version, kind, name, target)
        if wait is not None:
            wait([owned_object(obj, target, labels) for obj in rendered.objects])
    except WaitFailed as exc:
        failure = exc.message
    except DynamicApiError as exc:  # Helm records a failed revision when the cluster refuses a write
        failure = exc.summary()[:300]
    action = "upgrade" if previous else "install"
    record = release_record(
        rendered,
        chart=prepared.chart,
        release_name=target.name,
        namespace=target.namespace,
        revision=prepared.revision,
        status=storage.FAILED if failure else storage.DEPLOYED,
        description=(f"Release \"{target.name}\" failed: {failure}" if failure
                     else "Upgrade complete" if previous else "Install complete"),
        first_deployed=(previous or {}).get("info", {}).get("first_deployed") or now,
        now=now,
    )
    apply_object(dynamic, storage.storage_secret(record, modified_at))
    if failure:
        raise HelmReleaseFailed(UPGRADE_FAILED if previous else INSTALL_FAILED, failure, quotes_values=False)
    history = stored_releases(dynamic, target.namespace, target.name)
    for old in history:
        if int(old["version"]) < prepared.revision and old["info"]["status"] == storage.DEPLOYED:
            old["info"]["status"] = storage.SUPERSEDED
            apply_object(dynamic, storage.storage_secret(old, modified_at))
    if target.max_history > 0:
        for old in history[: max(0, len(history) - target.max_history)]:
            delete_object(dynamic, "v1", "Secret", storage.secret_name(target.name, int(old["version"])), target.namespace)
    return ReleaseOutcome(action, target.name, target.namespace, prepared.revision, meta.get("name", ""), str(meta.get("version", "")))


def last_release(dynamic: DynamicClient, helm_release: dict[str, Any]) -> dict[str, Any] | None:
    """Return the newest stored revision of a HelmRelease's release on the cluster, or None."""
    target = ReleaseTarget.of(helm_release)
    history = stored_releases(dynamic, target.namespace, target.name)
    return history[-1] if history else None


def uninstall(dynamic: DynamicClient, helm_release: dict[str, Any]) -> bool:
    """Remove a release's objects and its whole history; return False when nothing was installed."""
    target = ReleaseTarget.of(helm_release)
    history = stored_releases(dynamic, target.namespace, target.name)
    if not history:
        return False
    for api_version, kind, name in _manifest_refs(history[-1].get("manifest", "")):
        _delete_if_released(dynamic, api_version, kind, name, target)
    for old in history:
        delete_object(dynamic, "v1", "Secret", storage.secret_name(target.name, int(old["version"])), target.namespace)
    log.info("uninstalled release %s/%s", target.namespace, target.name)
    return True


def _delete_if_released(dynamic: DynamicClient, api_version: str, kind: str, name: str, target: ReleaseTarget) -> bool:
    """Delete a release's object only while its Helm annotations still name the release (another owner keeps it)."""
    try:
        live = get_object(dynamic, api_version, kind, name, target.namespace)
    except UnknownKind:
        return False
    annotations = ((live or {}).get("metadata") or {}).get("annotations") or {}
    if live is None or annotations.get(names.ANNOTATION_HELM_RELEASE_NAME) != target.name \
            or annotations.get(names.ANNOTATION_HELM_RELEASE_NAMESPACE) != target.namespace:
        if live is not None:
            log.info("kept %s %s/%s: it no longer belongs to release %s", kind, target.namespace, name, target.name)
        return False
    return delete_object(dynamic, api_version, kind, name, target.namespace)
