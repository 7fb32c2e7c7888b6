"""A GitOps source on the management cluster: read it, its project, placement and git credentials; build and write its status."""

from __future__ import annotations

import base64
import dataclasses
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.api.conditions import set_condition
from gitops_tui.api.flux_role import flux_role
from gitops_tui.api.paths import management_path, resource_path
from gitops_tui.api.pin import pin_of
from gitops_tui.api.references import ReferenceRefused, check_name
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.errors import AuthenticationFailed, ReferenceInvalid
from gitops_tui.reconciler.projects import project_for_namespace
from gitops_tui.reconciler.render import plain_copy
from gitops_tui.util.at_once import at_once

if TYPE_CHECKING:  # pragma: no cover - typing only
    from gitops_tui.reconciler.context import ReconcileContext

log = logging.getLogger(__name__)

#: Condition reasons written by the source controller.
REASON_SUCCEEDED = "ReconciliationSucceeded"
REASON_PROGRESSING = "Progressing"
REASON_PROPAGATED = "Propagated"
REASON_PROPAGATION_FAILED = "PropagationFailed"
REASON_SUSPENDED = "Suspended"
#: Propagation's reason while some clusters are held by a freeze (they keep their last result).
REASON_FROZEN = "Frozen"


def object_path(kind: str, namespace: str | None, name: str = "", subresource: str = "") -> str:
    """Return the REST path of a management object of ``kind`` (a names.KIND_* value)."""
    return management_path(kind, namespace, name or None, subresource or None)


def get_object(api: ApiClient, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    """Return a management object, or None when it does not exist."""
    try:
        return json_request(api, "GET", object_path(kind, namespace, name))
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def load_source(api: ApiClient, namespace: str, name: str) -> GitOpsSource:
    """Read the FederatedGitRepository and FederatedKustomization named ``name`` (either may be None)."""
    return GitOpsSource(
        repository=get_object(api, names.KIND_FEDERATED_GIT_REPOSITORY, namespace, name),
        kustomization=get_object(api, names.KIND_FEDERATED_KUSTOMIZATION, namespace, name),
    )


def git_credentials(ctx: ReconcileContext, namespace: str, secret_name: str) -> dict[str, bytes] | None:
    """Return the Flux-style credentials of ``secret_name`` (a FederatedSecret, else a Secret) in the project."""
    if not secret_name:
        return None
    try:
        check_name(secret_name, "spec.secretRef.name", kind="Secret")
    except ReferenceRefused as exc:
        raise ReferenceInvalid(exc.message, exc.reason) from None
    data = secret_data(ctx, namespace, secret_name)
    if data is None:
        raise AuthenticationFailed(f"the credentials secret {secret_name} does not exist in {namespace}")
    return data


def secret_data(ctx: ReconcileContext, namespace: str, secret_name: str) -> dict[str, bytes] | None:
    """The data (decoded) of a FederatedSecret, else a Secret, of the project namespace; None when neither exists."""
    data: dict[str, Any] | None = None
    fs = ctx.get(names.KIND_FEDERATED_SECRET, namespace, secret_name)
    if fs is not None:
        template = (fs.get("spec") or {}).get("template") or {}
        data = dict(template.get("data") or {})
        for key, value in (template.get("stringData") or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode("ascii")
    else:
        try:
            secret = json_request(ctx.api_client, "GET", resource_path("v1", "secrets", namespace, secret_name))
            data = secret.get("data") or {}
        except ApiException as exc:
            if exc.status != 404:
                raise
    if data is None:
        return None
    return {key: base64.b64decode(value or "") for key, value in data.items()}


def project_of(ctx: ReconcileContext, source: GitOpsSource) -> tuple[str, dict[str, Any] | None]:
    """Return (project name, project placement) of the source's namespace; (namespace, None) when no project owns it."""
    raw = project_for_namespace(ctx, source.namespace)
    if raw is None:
        return source.namespace, None
    return str(raw["metadata"]["name"]), (raw.get("spec") or {}).get("placement") or {}


def placed_clusters(ctx: ReconcileContext, source: GitOpsSource, project_placement: dict[str, Any] | None) -> list[str]:
    """Return the registered clusters the source is placed on (its placement, else the project's)."""
    clusters = ctx.list(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE)
    return source.resolve_clusters(clusters, project_placement)


@dataclass
class Failure:
    """Why a whole revision could not be used: a reason, a safe message, and whether retrying alone cannot help."""

    reason: str
    message: str
    stalled: bool = False


@dataclass
class Outcome:
    """What a reconcile found, from which the status of both objects is built."""

    generation: int
    revision: str = ""
    failure: Failure | None = None
    reconciling: bool = False
    clusters: list[dict[str, Any]] = field(default_factory=list)
    handled_requested_at: str = ""
    held: dict[str, str] = field(default_factory=dict)
    """The clusters a freeze holds, with what holds them: their entries keep their last result, outside Ready."""
    order: list[str] = field(default_factory=list)
    """The placement order of the clusters (status.clusters is written in it; others after, by name)."""
    git: bool = True
    """Whether ``revision`` is git's (it becomes the repository's artifact), not a pin's or a break glass's."""
    flux: dict[str, Any] | None = None
    """``status.flux`` (api/flux_role.py): {} removes it, None keeps what is there."""


def ordered(entries: list[dict[str, Any]], order: list[str]) -> list[dict[str, Any]]:
    """Status entries in placement order (clusters not in ``order`` last, by name)."""
    rank = {name: index for index, name in enumerate(order)}
    return sorted(entries, key=lambda e: (rank.get(str(e.get("name")), len(rank)), str(e.get("name"))))


def _held_note(outcome: Outcome) -> str:
    """``; held: prod (project freeze on prod by alice: INC-1)`` ('' when nothing is held)."""
    if not outcome.held:
        return ""
    return "; held: " + "; ".join(f"{c} ({why})" for c, why in outcome.held.items())


def _flux_note(outcome: Outcome) -> str:
    """``; Flux's own components (...) are not applied: ...`` ('' when the revision declares none)."""
    if not outcome.flux:
        return ""
    sentence = flux_role({"status": {"flux": outcome.flux}}).components_sentence()
    return f"; {sentence}" if sentence else ""


def _cluster_problems(outcome: Outcome) -> list[str]:
    problems = []
    for entry in outcome.clusters:
        if entry.get("name") in outcome.held:
            continue
        if entry.get("status"):
            problems.append(f"{entry['name']}: {entry.get('message') or entry['status']}")
        elif outcome.revision and entry.get("lastAppliedRevision") not in (
                outcome.revision, entry.get("pinnedRevision") or outcome.revision):
            problems.append(f"{entry['name']}: revision not applied yet")
    return problems


def build_conditions(old: list[dict[str, Any]] | None, outcome: Outcome, now: str) -> list[dict[str, Any]]:
    """Return the Propagation, Ready, Reconciling and Stalled conditions for ``outcome``."""
    gen = outcome.generation
    conditions = list(old or [])
    problems = _cluster_problems(outcome)
    failure = outcome.failure
    if failure is not None:
        ready = ("False", failure.reason, failure.message)
    elif outcome.reconciling:
        ready = ("Unknown", REASON_PROGRESSING, f"applying revision {outcome.revision}")
    elif problems:
        ready = ("False", REASON_PROPAGATION_FAILED, "; ".join(problems))
    else:
        ready = ("True", REASON_SUCCEEDED, f"applied revision {outcome.revision}{_held_note(outcome)}{_flux_note(outcome)}")
    if not outcome.clusters:
        propagation = ("False", REASON_PROPAGATION_FAILED, "no cluster is placed")
    elif failure is None and not problems and not outcome.reconciling:
        placed = ", ".join(c["name"] for c in outcome.clusters if c["name"] not in outcome.held) or "no cluster"
        propagation = ("True", REASON_FROZEN if outcome.held else REASON_PROPAGATED,
                       f"revision {outcome.revision} applied to {placed}{_held_note(outcome)}")
    elif failure is not None:
        propagation = ("False", failure.reason, failure.message)
    elif outcome.reconciling:
        propagation = ("False", REASON_PROGRESSING, f"applying revision {outcome.revision}")
    else:
        propagation = ("False", REASON_PROPAGATION_FAILED, "; ".join(problems))
    if outcome.reconciling:
        reconciling = ("True", REASON_PROGRESSING, f"applying revision {outcome.revision}")
    else:
        reconciling = ("False", ready[1], ready[2])
    stalled_flag = failure is not None and failure.stalled
    stalled = ("True", failure.reason, failure.message) if stalled_flag and failure else ("False", ready[1], "")
    for type_, (status, reason, message) in (
        (names.PROPAGATION, propagation),
        (names.READY, ready),
        (names.RECONCILING, reconciling),
        (names.STALLED, stalled),
    ):
        conditions = set_condition(conditions, type_, status, reason, message[:1024], now=now, observed_generation=gen)
    return conditions


def build_status(old: dict[str, Any] | None, outcome: Outcome, now: str, *, inventory: bool) -> dict[str, Any]:
    """Return the new status dict (kustomization with inventory; repository without it)."""
    new = plain_copy(old or {})
    new["observedGeneration"] = outcome.generation
    new["conditions"] = build_conditions((old or {}).get("conditions"), outcome, now)
    clusters = []
    for entry in outcome.clusters:
        entry = dict(entry)
        if not inventory:
            entry.pop("inventory", None)
        clusters.append(entry)
    new["clusters"] = ordered(clusters, outcome.order) if outcome.order else clusters
    if outcome.revision:
        new["lastAttemptedRevision"] = outcome.revision
        if outcome.failure is None and not _cluster_problems(outcome) and not outcome.reconciling:
            new["lastAppliedRevision"] = outcome.revision
    if outcome.handled_requested_at:
        new["lastHandledReconcileAt"] = outcome.handled_requested_at
    if outcome.flux is not None and inventory:
        if outcome.flux:
            new["flux"] = outcome.flux
        else:
            new.pop("flux", None)
    return new


def with_artifact(status: dict[str, Any], revision: str, now: str) -> dict[str, Any]:
    """Return a repository status with ``artifact`` set to ``revision`` (time kept when unchanged)."""
    if not revision:
        return status
    current = status.get("artifact") or {}
    if current.get("revision") == revision:
        return status
    return {**status, "artifact": {"revision": revision, "lastUpdateTime": now}}


def write_status(api: ApiClient, obj: dict[str, Any], new_status: dict[str, Any]) -> bool:
    """Write ``new_status`` through the status subresource when it differs from the object's; return True if written."""
    old = obj.get("status") or {}
    if old == new_status:
        return False
    meta = obj.get("metadata") or {}
    patch_status: dict[str, Any] = dict(new_status)
    for key in old:
        if key not in new_status:
            patch_status[key] = None
    path = object_path(obj["kind"], meta["namespace"], meta["name"], "status")
    try:
        result = json_request(api, "PATCH", path, {"status": patch_status}, content_type="application/merge-patch+json")
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    obj["status"] = result.get("status", new_status)
    if result.get("metadata"):
        obj["metadata"] = result["metadata"]
    return True


def patch_object(api: ApiClient, obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any] | None:
    """Merge-patch a management object (metadata or spec); return the result, None when it is gone."""
    meta = obj.get("metadata") or {}
    path = object_path(obj["kind"], meta["namespace"], meta["name"])
    try:
        return json_request(api, "PATCH", path, patch, content_type="application/merge-patch+json")
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def write_outcome(ctx: ReconcileContext, source: GitOpsSource, outcome: Outcome) -> None:
    """Write the status of both objects of the source (each only when it changed)."""
    now = ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    writes = []
    if source.kustomization is not None:
        fk = source.kustomization
        fk_status = build_status(fk.get("status"), outcome, now, inventory=True)
        writes.append(lambda: write_status(ctx.api_client, fk, fk_status))
    repo = source.repository
    if repo is not None:
        gen = int((repo.get("metadata") or {}).get("generation") or 0)
        repo_outcome = dataclasses.replace(outcome, generation=gen)
        pin = pin_of(source)  # the artifact is git's revision: a pinned (or break-glass) lane's never replaces it
        git = outcome.git and not (pin is not None and outcome.revision == pin.revision)
        artifact = outcome.revision if git else ""
        new = with_artifact(build_status(repo.get("status"), repo_outcome, now, inventory=False), artifact, now)
        writes.append(lambda: write_status(ctx.api_client, repo, new))
    at_once(*writes)  # two objects: written at the same time


def cluster_entry(name: str, old: dict[str, Any] | None) -> dict[str, Any]:
    """A cluster's status entry: every field present, the ``old`` entry's values kept."""
    base = {"name": name, "status": "", "message": "", "lastAppliedRevision": "", "lastAttemptedRevision": "",
            "inventory": [], "lastSyncTime": ""}
    base.update(old or {})
    return base


def cluster_entries(source: GitOpsSource) -> dict[str, dict[str, Any]]:
    """The source's recorded cluster entries, by cluster name."""
    status = (source.kustomization or {}).get("status") or {}
    return {c["name"]: dict(c) for c in status.get("clusters") or [] if c.get("name")}
