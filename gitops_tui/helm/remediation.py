"""Remediate a failed Helm action as Flux does (helm/strategy.py): uninstall the release, or roll it back.

A rollback re-applies the last deployed revision's objects, deletes what the failed revision added (only what still
names the release), and records a new revision ``Rollback to N`` carrying that revision's chart, values and
manifest, as ``helm rollback`` does; the failed revision is marked superseded.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import yaml
from kubernetes.dynamic import DynamicClient

from gitops_tui.helm import storage
from gitops_tui.helm.installer import (
    PreparedRelease,
    ReleaseTarget,
    owned_object,
    stored_releases,
    uninstall,
)
from gitops_tui.helm.strategy import ROLLBACK, Strategy
from gitops_tui.kube.apply import apply_object, delete_object, get_object


def _objects(manifest: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(manifest or "") if isinstance(d, dict) and d.get("kind")]


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    return str(obj.get("apiVersion")), str(obj.get("kind")), str((obj.get("metadata") or {}).get("name"))


def rollback(dynamic: DynamicClient, target: ReleaseTarget, *, labels: dict[str, str], now: str, modified_at: int,
             stop: Callable[[], bool]) -> int | None:
    """Roll the release back to its last deployed revision; return the new revision (None: nothing to roll back to)."""
    history = stored_releases(dynamic, target.namespace, target.name)
    deployed = [r for r in history[:-1] if (r.get("info") or {}).get("status") in (storage.DEPLOYED,
                                                                                   storage.SUPERSEDED)]
    if not history or not deployed:
        return None
    good, failed = deployed[-1], history[-1]
    keep = _objects(good.get("manifest", ""))
    for obj in keep:
        if stop():
            return None
        apply_object(dynamic, owned_object(obj, target, labels))
    wanted = {_key(obj) for obj in keep}
    for obj in _objects(failed.get("manifest", "")):
        api_version, kind, name = _key(obj)
        if (api_version, kind, name) in wanted or stop():
            continue
        live = get_object(dynamic, api_version, kind, name, target.namespace)
        annotations = ((live or {}).get("metadata") or {}).get("annotations") or {}
        if live is not None and annotations.get("meta.helm.sh/release-name") == target.name:
            delete_object(dynamic, api_version, kind, name, target.namespace)
    revision = int(history[-1]["version"]) + 1
    record = copy.deepcopy(good)
    record["version"] = revision
    record["info"] = {**(good.get("info") or {}), "status": storage.DEPLOYED, "last_deployed": now,
                      "description": f"Rollback to {good['version']}"}
    apply_object(dynamic, storage.storage_secret(record, modified_at))
    for old in history:
        if (old.get("info") or {}).get("status") in (storage.DEPLOYED, storage.FAILED):
            old["info"]["status"] = storage.SUPERSEDED
            apply_object(dynamic, storage.storage_secret(old, modified_at))
    if target.max_history > 0:
        for old in history[: max(0, len(history) + 1 - target.max_history)]:
            delete_object(dynamic, "v1", "Secret", storage.secret_name(target.name, int(old["version"])),
                          target.namespace)
    return revision


def remediate(dynamic: DynamicClient, prepared: PreparedRelease, strategy: Strategy, *, labels: dict[str, str],
              now: str, modified_at: int, stop: Callable[[], bool]) -> str:
    """Remediate the failed action as ``strategy`` says; return what was done, in words ("" when nothing)."""
    target = prepared.target
    where = f"{target.namespace}/{target.name}"
    if strategy.remediation == ROLLBACK:
        revision = rollback(dynamic, target, labels=labels, now=now, modified_at=modified_at, stop=stop)
        if revision is not None:
            return f"rolled back release {where} to its last deployed revision (now v{revision})"
    if uninstall(dynamic, prepared.helm_release):
        return f"uninstalled release {where}"
    return ""
