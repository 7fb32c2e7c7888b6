"""`gitops-tui get sources`: each source with its effective state per cluster (intent, hold, observed), in placement order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gitops_tui.api import freeze as fz
from gitops_tui.api import holds, names
from gitops_tui.api.effective import HOLD_ROLLOUT, Hold, SourceState
from gitops_tui.api.effective_state import source_state
from gitops_tui.api.flux_role import FluxRole, flux_role
from gitops_tui.api.formats import short_revision
from gitops_tui.api.project import Project
from gitops_tui.api.source import GitOpsSource, pair_sources
from gitops_tui.cli.freeze_cmd import freeze_cell
from gitops_tui.cli.get_cmd import Resource, Scope, register_resource
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.context import management_path
from gitops_tui.redact import hide_url_password
from gitops_tui.views.source_tree import indent, parent_of, tree_order


def _items(scope: Scope, path: str) -> list[dict[str, Any]]:
    return list(json_request(scope.api, "GET", path).get("items") or [])


def fetch(scope: Scope) -> list[dict[str, Any]]:
    """List the sources of the scope's projects (a Flux child right after its parent), with what their state needs."""
    repos = _items(scope, management_path(names.KIND_FEDERATED_GIT_REPOSITORY, scope.namespace))
    kss = _items(scope, management_path(names.KIND_FEDERATED_KUSTOMIZATION, scope.namespace))
    projects = {Project(p).namespace: p for p in _items(scope, management_path(names.KIND_PROJECT))}
    clusters = _items(scope, management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE))
    pairs = [p for p in pair_sources(repos, kss) if p.namespace in set(scope.projects)]
    ordered = tree_order(pairs, lambda p: (p.namespace, p.name), lambda p: parent_of(p.kustomization))
    return [{"repository": p.repository, "kustomization": p.kustomization, "depth": depth,
             "project": projects.get(p.namespace), "clusters": clusters} for p, depth in ordered]


def _history(source: GitOpsSource, project: dict[str, Any] | None, hold: Hold) -> list[dict[str, Any]]:
    """The recorded steps of the freeze behind ``hold`` (the project's, the operator's, or the source's own)."""
    if hold.scope == "project":
        found = fz.project_freeze(project)
    else:
        found = holds.operator_record(project, source.name).freeze or fz.source_freeze(source.kustomization)
    return list(found.history) if found is not None else []


def hold_summary(hold: Hold | None, source: GitOpsSource | None = None,
                 project: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The ``-o json`` form of a freeze or pin: who (verified or claimed), why, when, until, clusters, scope."""
    if hold is None:
        return None
    out = {"by": hold.by, "identity": hold.identity, "verified": hold.verified, "reason": hold.reason,
           "at": hold.since, "until": hold.until, "then": hold.then, "clusters": list(hold.clusters) or "all",
           "expired": hold.expired, "scope": hold.scope}
    if hold.kind == "freeze" and source is not None:
        out["history"] = _history(source, project, hold)
    if hold.revision:
        out["revision"] = hold.revision
    return out


def _pin(hold: Hold | None) -> dict[str, Any] | None:
    if hold is None:
        return None
    pin = {"revision": hold.revision, "by": hold.by, "reason": hold.reason, "at": hold.since,
           "identity": hold.identity, "verified": hold.verified}
    if hold.clusters:
        pin["clusters"] = list(hold.clusters)
    if hold.token:
        pin["untilContains"] = hold.token
    return pin


def _cluster(state: SourceState, name: str) -> dict[str, Any]:
    found = state.cluster(name)
    assert found is not None
    seen = found.observed
    return {"name": name, "status": seen.status, "message": seen.message, "lastAppliedRevision": seen.applied,
            "lastAttemptedRevision": seen.attempted, "lastSyncTime": seen.synced, "objects": seen.objects,
            "pinned": found.pin is not None, "intent": found.intent,
            "hold": found.hold.to_dict() if found.hold is not None else None, "target": found.target,
            "outcome": found.outcome, "reason": found.reason, "stale": seen.stale,
            "wave": found.wave.to_dict() if found.wave is not None else None,
            "overrides": [o.to_dict() for o in state.overrides if o.cluster == name],
            **({"staleSince": seen.stale_since} if seen.stale else {})}


def summary(raw: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """One source as `-o json` prints it: spec, its effective freeze and pin, and each placed cluster's state."""
    src = GitOpsSource(repository=raw.get("repository"), kustomization=raw.get("kustomization"))
    project = raw.get("project")
    state = source_state(src.repository, src.kustomization, project, list(raw.get("clusters") or []),
                         datetime.now(UTC))
    ready_cond = src.condition(names.READY)
    freeze = state.freeze
    return {
        "name": src.name,
        "namespace": src.namespace,
        "project": scope.projects.get(src.namespace, ""),
        "parent": parent_of(src.kustomization),
        "depth": int(raw.get("depth") or 0),
        "flux": flux_role(src.kustomization).to_dict(),
        "url": hide_url_password(src.url),
        "ref": src.ref,
        "path": src.path,
        "provider": src.provider,
        "interval": src.interval,
        "prune": src.prune,
        "suspended": state.frozen_everywhere and all(c.hold is not None and c.hold.kind != HOLD_ROLLOUT
                                                     for c in state.clusters),
        "suspendedBy": freeze.by if freeze else "",
        "suspendReason": freeze.reason if freeze else "",
        "suspendedAt": freeze.since if freeze else "",
        "held": state.held,
        "pin": _pin(state.pin),
        "freeze": hold_summary(freeze, src, project),
        "freezes": [hold_summary(f, src, project) for f in state.freezes],
        "ready": None if ready_cond is None or ready_cond.status not in ("True", "False") else ready_cond.is_true,
        "outcome": state.outcome,
        "message": ready_cond.message if ready_cond else "",
        "revision": src.artifact_revision,
        "complete": src.complete,
        "clusters": [_cluster(state, name) for name in state.names],
        "ignored": [{"kind": i.kind, "by": i.by, "message": i.message} for i in state.ignored],
        "rollout": state.rollout.to_dict() if state.rollout is not None else None,
        "windows": [w.to_dict() for w in state.windows],
    }


def _pin_cell(row: dict[str, Any]) -> str | bool:
    pin = row["pin"]
    if not pin:
        return False
    where = f" on {','.join(pin['clusters'])}" if pin.get("clusters") else ""
    who = pin["by"] + ("" if pin.get("verified", True) else " (unverified)")
    return f"{short_revision(pin['revision'])}{where} by {who}: {pin['reason']}"


def _clusters_cell(row: dict[str, Any]) -> list[str]:
    """``dev``, ``prod(frozen)``, ``staging(pinned)``, ``prod(ApplyFailed)``, ``prod(awaiting approval)``: each
    cluster in placement order (a rollout's hold by its wave's state)."""
    cells = []
    for cluster in row["clusters"]:
        note = cluster["intent"] if cluster["intent"] != "follow" else ""
        if (cluster["hold"] or {}).get("kind") == HOLD_ROLLOUT:
            note = cluster["wave"]["state"] if cluster.get("wave") else "rollout"
        hold = cluster.get("hold") or {}
        if hold.get("kind") == "window" and cluster["intent"] == "frozen":
            note = f"window {hold.get('name')}"
        if cluster["outcome"] == "failed":
            note = cluster["status"] or cluster["reason"]
        cells.append(cluster["name"] + (f"({note})" if note else ""))
    return cells


def _rollout_cell(row: dict[str, Any]) -> str:
    """``at staging (2 of 3), soaking 4m left``, ``halted at dev``, ``done`` ('' without a rollout)."""
    rollout = row.get("rollout")
    if not rollout:
        return ""
    if rollout["state"] == "halted" and rollout.get("halted"):
        return f"halted at {rollout['halted']['wave']}"
    if rollout["state"] == "done" or not rollout["currentWave"]:
        return rollout["state"]
    names = [w["name"] for w in rollout["waves"]]
    at = names.index(rollout["currentWave"]) + 1
    return f"at {rollout['currentWave']} ({at} of {len(names)}), {rollout['state']}"


def _name_cell(row: dict[str, Any]) -> str:
    """The name in the tree of sources, with `` (flux-system)`` when Flux's bootstrap Kustomization is this source."""
    return indent(row["name"], row["depth"]) + FluxRole(bootstrap=tuple(row["flux"]["bootstrap"])).tag()


def _watch_paths(scope: Scope) -> list[str]:
    """A source's state moves with its objects, its Project (a freeze) and the clusters (stale)."""
    return [management_path(names.KIND_FEDERATED_GIT_REPOSITORY, scope.namespace),
            management_path(names.KIND_FEDERATED_KUSTOMIZATION, scope.namespace),
            management_path(names.KIND_PROJECT)]


RESOURCE = Resource(
    "sources", "SourceList", fetch, summary,
    [("PROJECT", lambda r: r["project"]), ("NAME", _name_cell),
     ("READY", lambda r: r["ready"]), ("SUSPENDED", lambda r: freeze_cell(r["freeze"])),
     ("PINNED", _pin_cell), ("ROLLOUT", _rollout_cell), ("REVISION", lambda r: r["revision"]),
     ("URL", lambda r: r["url"]),
     ("CLUSTERS", _clusters_cell)],
    _watch_paths, "GitOps sources (repository + kustomization)")

register_resource(RESOURCE)
