"""Operator actions on per-cluster overrides: set (a JSON 6902 patch or Helm values), list, remove; journaled.

The item goes to the FederatedKustomization's ``spec.overrides`` (Kubefed's shape, api/overrides.py); the operator's
record of it (its digest, who, the API server's identity, why) goes to the Project first, where no project member can
write, so the effective state can tell the operator's override from a member's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions.actor import current_actor, record_action
from gitops_tui.actions.source_access import SourceActionError, patch_project
from gitops_tui.actions.state import read_source
from gitops_tui.api import overrides as ov
from gitops_tui.kube import limits
from gitops_tui.kube.client import json_request
from gitops_tui.kube.events import EventRecorder
from gitops_tui.kube.whoami import who_am_i
from gitops_tui.reconciler.status import object_path

REASON_OVERRIDDEN = "Overridden"
REASON_OVERRIDE_REMOVED = "OverrideRemoved"


def _write(api: ApiClient, fk: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge-patch the FederatedKustomization; SourceActionError in one sentence when refused."""
    meta = fk.get("metadata") or {}
    try:
        return json_request(api, "PATCH", object_path(str(fk.get("kind")), meta.get("namespace"), str(meta.get("name"))),
                            patch, content_type="application/merge-patch+json")
    except ApiException as exc:
        raise SourceActionError(f"the management cluster refused the override (HTTP {exc.status})") from None


def parse_target(text: str, values: bool = False) -> tuple[str, str]:
    """(kind, name) of ``Kind/name`` ('' name for values of every HelmRelease); SourceActionError otherwise."""
    if not text:
        if values:
            return "HelmRelease", ""
        raise SourceActionError("--target is required with --patch: name the object as Kind/name, "
                                "e.g. Deployment/podinfo")
    kind, _, name = text.strip().partition("/")
    if not kind or not name or "/" in name:
        raise SourceActionError(f"target {text!r} is not Kind/name, e.g. Deployment/podinfo")
    return kind, name


def parse_patch(text: str) -> list[dict[str, Any]]:
    """A JSON 6902 patch (a list of operations, or one operation) from ``text``; SourceActionError in one sentence."""
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceActionError(f"--patch is not JSON ({exc.msg} at column {exc.colno}): give a JSON 6902 patch "
                                "such as '[{\"op\": \"replace\", \"path\": \"/spec/replicas\", \"value\": 3}]'") from None
    ops = [loaded] if isinstance(loaded, dict) else loaded
    if not isinstance(ops, list) or not ops:
        raise SourceActionError("--patch must be a JSON 6902 patch: a list of operations {op, path, value}")
    return ops


def read_values(path: str) -> dict[str, Any]:
    """Helm values from a YAML file (one map), read with the bounded loader; SourceActionError otherwise."""
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceActionError(f"cannot read values file {path}: {getattr(exc, 'strerror', '') or exc}") from None
    try:
        documents = limits.load_documents(text, f"values file {path}")
    except limits.LimitExceeded as exc:
        raise SourceActionError(exc.message) from None
    except yaml.YAMLError:
        raise SourceActionError(f"values file {path} is not valid YAML") from None
    if len(documents) != 1 or not isinstance(documents[0], dict) or not documents[0]:
        raise SourceActionError(f"values file {path} must hold one YAML map of values")
    return documents[0]


def set_override(api: ApiClient, project: str, name: str, cluster: str, *, reason: str, target: str = "",
                 patch: list[dict[str, Any]] | None = None, values: dict[str, Any] | None = None,
                 actor: str | None = None) -> ov.Override:
    """Override ``target`` of source ``name`` on ``cluster`` (replacing that cluster's override of it, if any)."""
    actor = actor or current_actor()
    if not reason.strip():
        raise SourceActionError("a reason is required to override a source")
    if not patch and not values:
        raise SourceActionError("give --patch (a JSON 6902 patch) or --values FILE")
    reading = read_source(api, project, name)
    if cluster not in reading.state.names:
        raise SourceActionError(f"cluster {cluster!r} is not one of the clusters of source {name!r} "
                                f"({', '.join(reading.state.names) or 'none yet'})")
    kind, target_name = parse_target(target, values=bool(values) and not patch)
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    raw = ov.Override(cluster, kind, target_name, tuple(patch or ()), values or None, actor, reason.strip(), at)
    try:
        item = ov.parse_item(raw.to_item(), 0)
    except ov.OverrideRefused as exc:
        raise SourceActionError(exc.message.replace("spec.overrides[0]", "the override")) from None
    identity = str(who_am_i(api).get("user") or "")
    record = {"digest": item.digest, "by": actor, "identity": identity, "reason": reason.strip(), "at": at}
    patch_project(api, project, ov.record_patch(name, item.key, record))  # the operator's record first
    kept = [i for i in ov.items_of(reading.source.kustomization) if _key_of(i) != item.key]
    fk = _write(api, reading.source.kustomization or {}, ov.source_patch([*kept, item.to_item()]))
    done = ov.Override(item.cluster, item.kind, item.name, item.patches, item.values, actor, reason.strip(), at,
                       identity, True)
    EventRecorder(api).emit(fk, "Normal", REASON_OVERRIDDEN, done.describe())
    record_action(api, action="override", actor=actor, reason=reason.strip(), project=project, source=name,
                  clusters=[cluster], objects=[f"{done.target}: {', '.join(done.paths)}"])
    return done


def _key_of(raw: Any) -> str:
    if not isinstance(raw, dict):
        return ""
    raw_target = raw.get("target")
    target = raw_target if isinstance(raw_target, dict) else {}
    return f"{raw.get('clusterName')}/{target.get('kind')}/{target.get('name') or '*'}"


def remove_override(api: ApiClient, project: str, name: str, cluster: str, *, reason: str, target: str = "",
                    actor: str | None = None) -> list[str]:
    """Remove the overrides of ``target`` (all of the cluster's when '') on ``cluster``; return the keys removed."""
    actor = actor or current_actor()
    if not reason.strip():
        raise SourceActionError("a reason is required to remove an override")
    reading = read_source(api, project, name)
    items = ov.items_of(reading.source.kustomization)
    wanted = None
    if target:
        kind, target_name = parse_target(target, values=True)
        wanted = f"{cluster}/{kind}/{target_name or '*'}"
    gone = [_key_of(i) for i in items if _key_of(i).startswith(f"{cluster}/") and wanted in (None, _key_of(i))]
    if not gone:
        what = f"of {target} " if target else ""
        raise SourceActionError(f"source {name} has no override {what}on {cluster}")
    for key in gone:
        patch_project(api, project, ov.record_patch(name, key, None))
    fk = _write(api, reading.source.kustomization or {},
                ov.source_patch([i for i in items if _key_of(i) not in gone]))
    text = f"overrides removed on {cluster} by {actor} ({', '.join(k.split('/', 1)[1] for k in gone)}): {reason}"
    EventRecorder(api).emit(fk, "Normal", REASON_OVERRIDE_REMOVED, text)
    record_action(api, action="override-remove", actor=actor, reason=reason.strip(), project=project, source=name,
                  clusters=[cluster], objects=[k.split("/", 1)[1] for k in gone])
    return gone


def list_overrides(api: ApiClient, project: str, name: str) -> tuple[list[ov.Override], dict[str, str]]:
    """The source's overrides (verified or a member's), in placement order, and the clusters whose items are refused."""
    reading = read_source(api, project, name)
    order = {c: i for i, c in enumerate(reading.state.names)}
    found = sorted(reading.state.overrides, key=lambda o: (order.get(o.cluster, len(order)), o.cluster, o.target))
    return found, ov.problems(reading.source.kustomization)
