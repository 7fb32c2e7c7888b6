"""Before the first write of a revision: the dry-run pass and the ownership check on every cluster to apply.

Both write nothing to clusters; either may refuse the revision everywhere (``DryRunFailed``,
``OwnershipConflict``) or set a cluster aside as unreachable (it catches up later).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gitops_tui.api import names
from gitops_tui.kube.inventory import entry_hashes
from gitops_tui.reconciler import ownership, preflight
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.status import Failure

MAX_PARALLEL_CLUSTERS = 4


@dataclass
class GateResult:
    """What the gate decided: a refusal (with each cluster's own status), or per-cluster ownership findings."""

    failure: Failure | None = None
    own: dict[str, dict[str, str]] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)
    found: dict[str, ownership.ClusterOwnership] = field(default_factory=dict)


def dry_run(connections: dict[str, Any], clusters: list[str], desired: list[dict[str, Any]],
            old_entries: dict[str, dict[str, Any]]) -> GateResult:
    """Dry-run the objects that changed since each cluster's last apply; refuse the revision on any rejection."""
    hashes = {c: entry_hashes((old_entries.get(c) or {}).get("inventory")) for c in clusters}
    found = preflight.dry_run_clusters({c: connections[c] for c in clusters}, desired, hashes)
    result = GateResult(unreachable=dict(found.unreachable))
    if found.refused:
        result.failure = Failure(preflight.REASON_DRY_RUN_FAILED, found.message(), stalled=True)
        result.own = {c: {"status": preflight.REASON_DRY_RUN_FAILED, "message": why} for c, why in found.refused.items()}
    return result


def check_ownership(ctx: ReconcileContext, namespace: str, owner: ownership.Owner, connections: dict[str, Any],
                    clusters: list[str], claims: dict[str, list[ownership.Claim]]) -> GateResult:
    """Check every cluster's claims against the live objects and the project's other sources (call under project_lock)."""
    from gitops_tui.helm.installer import stored_releases

    elsewhere = ownership.declared_elsewhere(ctx.list(names.KIND_FEDERATED_KUSTOMIZATION, namespace), owner.source)
    result = GateResult()
    lock = threading.Lock()

    def check(cluster: str) -> None:
        dynamic = connections[cluster]
        alive: dict[str, bool] = {}

        def release_alive(release: str) -> bool:
            if release not in alive:
                release_namespace, _, release_name = release.partition("/")
                alive[release] = bool(stored_releases(dynamic, release_namespace, release_name))
            return alive[release]

        try:
            found = ownership.check_cluster(cluster, dynamic, claims[cluster], owner, elsewhere.get(cluster, {}),
                                            release_alive)
        except Exception as exc:  # noqa: BLE001 - transport failures: this cluster only
            with lock:
                result.unreachable[cluster] = f"cannot read the cluster's objects ({type(exc).__name__})"
            return
        with lock:
            result.found[cluster] = found

    if clusters:
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CLUSTERS, len(clusters)),
                                thread_name_prefix="ownership") as pool:
            for future in [pool.submit(check, c) for c in clusters]:
                future.result()
    conflicted = [found for _, found in sorted(result.found.items()) if found.conflicts]
    if conflicted:
        result.failure = Failure(ownership.REASON_CONFLICT, ownership.conflict_message(conflicted))
        result.own = {f.cluster: {"status": ownership.REASON_CONFLICT, "message": ownership.conflict_message([f])}
                      for f in conflicted}
    return result
