"""What a child source checks before it renders: its parent's suspension, its dependsOn, its postBuild variables."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.paths import resource_path
from gitops_tui.api.references import ReferenceRefused, check_kind, check_name, name_errors
from gitops_tui.api.source import GitOpsSource
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.flux.children import ANNOTATION_PARENT_PATH, LABEL_PARENT
from gitops_tui.reconciler.flux.substitute import SubstituteError, check_names
from gitops_tui.reconciler.status import Failure

REASON_DEPENDENCY_NOT_READY = "DependencyNotReady"
#: Seconds before a child waiting on a dependency looks again (Flux's --requeue-dependency is 30 s).
DEPENDENCY_REQUEUE_SECONDS = 5.0


@dataclass(frozen=True)
class Hold:
    """Why a child does not reconcile now: its parent is suspended or being deleted, or a dependency is not ready.

    ``suspended`` holds the child as if suspended; ``stopped`` (an ancestor is deleted or being deleted) writes
    nothing at all, so deleting a parent stops its children at once.
    """

    suspended: bool = False
    failure: Failure | None = None
    stopped: bool = False


def _spec(source: GitOpsSource) -> dict[str, Any]:
    return (((source.kustomization or {}).get("spec") or {}).get("template") or {}).get("spec") or {}


def parent_of(source: GitOpsSource) -> str:
    """The parent source's name, "" for a source an operator made."""
    return str((((source.kustomization or {}).get("metadata") or {}).get("labels") or {}).get(LABEL_PARENT) or "")


def _ready(dep: dict[str, Any], commit: str) -> str | None:
    """None when the dependency is Ready for its current generation (and at ``commit`` when given), else why not."""
    view = GitOpsSource(None, dep)
    status = dep.get("status") or {}
    ready: dict[str, Any] = next((c for c in status.get("conditions") or [] if c.get("type") == names.READY), {})
    if ready.get("status") != "True" or status.get("observedGeneration") != view.generation:
        return ready.get("message") or "not reconciled yet"
    rows = status.get("clusters") or []
    if commit and any(not str(r.get("lastAppliedRevision") or "").endswith(commit) for r in rows):
        return f"not applied at commit {commit[:12]} yet"
    return None


def hold(ctx: ReconcileContext, source: GitOpsSource) -> Hold | None:
    """A child's hold; None to go on.

    Stopped when its parent (or an ancestor) is gone or being deleted; suspended with a suspended ancestor; a
    failure when a dependsOn source is not Ready (or its name is not a name).
    """
    parent = parent_of(source)
    seen = {source.name}
    while parent and parent not in seen:
        seen.add(parent)
        if name_errors(parent):
            return Hold(stopped=True)
        raw = ctx.get(names.KIND_FEDERATED_KUSTOMIZATION, source.namespace, parent)
        if raw is None or (raw.get("metadata") or {}).get("deletionTimestamp"):
            return Hold(stopped=True)  # its parent is gone or going: its own deletion follows (ownerReference)
        if GitOpsSource(None, raw).suspend:
            return Hold(suspended=True)
        parent = parent_of(GitOpsSource(None, raw))
    commit = source.ref.get("commit", "")
    for index, dep in enumerate(_spec(source).get("dependsOn") or []):
        try:
            check_name(dep, f"spec.dependsOn[{index}]", kind="Kustomization")
        except ReferenceRefused as exc:
            return Hold(failure=Failure(exc.reason, exc.message, stalled=True))
        raw = ctx.get(names.KIND_FEDERATED_KUSTOMIZATION, source.namespace, str(dep))
        why = f"dependency {dep} does not exist" if raw is None else _ready(raw, commit)
        if why:
            return Hold(failure=Failure(REASON_DEPENDENCY_NOT_READY, f"dependency {dep} is not ready: {why}"
                                        if raw is not None else why))
    return None


def _decode(data: dict[str, Any]) -> dict[str, str]:
    """A Secret's data, decoded (values that are not base64 text are skipped)."""
    decoded: dict[str, str] = {}
    for key, value in data.items():
        try:
            decoded[key] = base64.b64decode(str(value), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            continue
    return decoded


def _lookup(ctx: ReconcileContext, source: GitOpsSource, artifact: Any, kind: str, name: str) -> dict[str, Any] | None:
    """A ConfigMap or Secret for substituteFrom: declared at the parent's path in this revision, else on management."""
    from gitops_tui.reconciler import render

    parent_path = (((source.kustomization or {}).get("metadata") or {}).get("annotations") or {}).get(
        ANNOTATION_PARENT_PATH)
    if parent_path:
        try:
            manifests = render.render(artifact.path, parent_path, revision=artifact.revision)
        except Exception:  # noqa: BLE001 - the parent's path is checked by the parent itself
            manifests = []
        for manifest in manifests:
            obj = manifest.obj
            if obj.get("kind") == kind and obj.get("apiVersion") == "v1" and obj["metadata"].get("name") == name:
                return obj
    from kubernetes.client.exceptions import ApiException

    from gitops_tui.kube.client import json_request

    plural = "configmaps" if kind == "ConfigMap" else "secrets"
    try:
        return json_request(ctx.api_client, "GET", resource_path("v1", plural, source.namespace, name))
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def variables(ctx: ReconcileContext, source: GitOpsSource, artifact: Any) -> dict[str, str] | None:
    """The postBuild variables (substituteFrom in order, then substitute on top); None when postBuild sets none.

    Raises SubstituteError naming a missing ConfigMap or Secret (unless ``optional``) or a bad variable name, and
    ReferenceRefused for a reference that is not a ConfigMap or Secret name (looked up in the project namespace only).
    """
    post = _spec(source).get("postBuild") or {}
    inline = {str(k): str(v) for k, v in (post.get("substitute") or {}).items()}
    refs = post.get("substituteFrom") or []
    if not inline and not refs:
        return None
    found: dict[str, str] = {}
    for index, ref in enumerate(refs):
        field = f"spec.postBuild.substituteFrom[{index}]"
        ref = ref if isinstance(ref, dict) else {}
        kind = check_kind(ref.get("kind"), ("ConfigMap", "Secret"), f"{field}.kind")
        name = check_name(ref.get("name"), f"{field}.name", kind=kind)
        obj = _lookup(ctx, source, artifact, kind, name)
        if obj is None:
            if ref.get("optional"):
                continue
            raise SubstituteError(f"postBuild.substituteFrom {kind}/{name} not found (declare it next to the "
                                  "Kustomization, or create it in the project namespace on the management cluster)")
        values = dict(obj.get("stringData") or {}) if kind == "Secret" else {}
        values = {**(_decode(obj.get("data") or {}) if kind == "Secret" else dict(obj.get("data") or {})), **values}
        check_names(values, f"{kind}/{name}")
        found.update({str(k): str(v) for k, v in values.items()})
    check_names(inline, "postBuild.substitute")
    found.update(inline)
    return found
