"""All or nothing against the cluster: server-side dry-run every object that will change, on every cluster, before any write.

An object whose configuration hash equals the one recorded in the cluster's inventory (``h``, written
when it was last applied there) is not dry-run again, so the cost follows the change, not the revision.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError

from gitops_tui.api import names
from gitops_tui.kube.apply import UnknownKind, apply_object
from gitops_tui.kube.apply_order import made_by_revision
from gitops_tui.kube.inventory import config_hash, describe, ref_of
from gitops_tui.reconciler.errors import api_message
from gitops_tui.reconciler.force import RECREATE_STATUSES, forced
from gitops_tui.reconciler.object_checks import apply_order

log = logging.getLogger(__name__)

REASON_DRY_RUN_FAILED = names.REASON_DRY_RUN_FAILED
#: Dry-run requests in flight at once, over every cluster of one revision.
MAX_PARALLEL_DRY_RUNS = 8
#: API statuses that say "the cluster would refuse this object" (others mean the cluster is in trouble).
_REFUSALS = {400, 403, 404, 409, 410, 413, 415, 422}


@dataclass
class Preflight:
    """The outcome of the dry-run pass: refusals and unreachable clusters by cluster, and how many objects were checked."""

    refused: dict[str, str] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)
    checked: dict[str, int] = field(default_factory=dict)

    def message(self) -> str:
        """One sentence naming the first refusal (cluster, object, the API server's words) and where else it failed."""
        if not self.refused:
            return ""
        first = min(self.refused)
        others = sorted(set(self.refused) - {first})
        text = self.refused[first]
        if others:
            text += f" (also refused on {', '.join(others)})"
        return f"{text}; nothing of the revision was applied"


def changed_objects(desired: list[dict[str, Any]], applied_hashes: dict[str, str],
                    hash_of: Callable[[dict[str, Any]], str] = config_hash) -> list[dict[str, Any]]:
    """Return the objects whose configuration differs from the hash recorded when last applied (all when none)."""
    return [obj for obj in desired if applied_hashes.get(ref_of(obj).id) != hash_of(obj)]


def dry_run_clusters(
    connections: dict[str, DynamicClient],
    desired: list[dict[str, Any]] | dict[str, list[dict[str, Any]]],
    applied_hashes: dict[str, dict[str, str]],
    *,
    dry_run: Callable[[DynamicClient, dict[str, Any]], Any] | None = None,
    force: bool = False,
    hash_of: Callable[[dict[str, Any]], str] = config_hash,
) -> Preflight:
    """Dry-run apply the changed objects on every cluster (``MAX_PARALLEL_DRY_RUNS`` at a time); write nothing.

    ``desired`` is the revision's objects, or each cluster's own (its overrides applied: reconciler/overrides_step.py).
    ``applied_hashes`` gives each cluster's recorded hashes by object id. A refusal by the API server
    is recorded per cluster (one refused object); a transport failure sets the cluster aside as
    unreachable. A cluster's remaining checks are skipped after its first failure. With ``force``, a forced
    object refused as a conflict or as invalid is left to the apply, which recreates it.
    """
    run = dry_run or (lambda dynamic, obj: apply_object(dynamic, obj, dry_run=True))
    result = Preflight()
    per = desired if isinstance(desired, dict) else {c: desired for c in connections}
    order: dict[int, int] = {}
    later: set[int] = set()
    for objects in {id(objects): objects for objects in per.values()}.values():
        order.update({id(obj): index for index, obj in enumerate(apply_order(objects))})
        later |= made_by_revision(objects)  # in a Namespace, or of a kind, the revision creates: checked by the apply
    tasks: list[tuple[str, dict[str, Any]]] = []
    for cluster in connections:
        changed = [o for o in changed_objects(per[cluster], applied_hashes.get(cluster) or {}, hash_of) if id(o) not in later]
        result.checked[cluster] = len(changed)
        tasks.extend((cluster, obj) for obj in sorted(changed, key=lambda o: order[id(o)]))
    failed: dict[str, tuple[int, str, bool]] = {}
    lock = threading.Lock()

    def check(cluster: str, obj: dict[str, Any]) -> None:
        with lock:
            if cluster in failed:
                return
        try:
            run(connections[cluster], obj)
            return
        except DynamicApiError as exc:
            status = int(getattr(exc, "status", 0) or 0)
            if status in RECREATE_STATUSES and forced(obj, force):
                return  # an immutable change of a forced object: the apply recreates it (Flux's force)
            if status in _REFUSALS:
                why, refusal = f"{describe(ref_of(obj))} refused by {cluster}: {api_message(exc)}", True
            else:
                why, refusal = f"cannot dry-run on {cluster} (HTTP {status})", False
        except UnknownKind as exc:
            why, refusal = f"{describe(ref_of(obj))} refused by {cluster}: {exc}", True
        except Exception as exc:  # noqa: BLE001 - transport failures: this cluster only
            why, refusal = f"cannot reach the cluster ({type(exc).__name__})", False
        with lock:  # a refusal outranks a transport failure; then the earliest object in apply order wins
            key = (not refusal, order[id(obj)])
            if cluster not in failed or key < (not failed[cluster][2], failed[cluster][0]):
                failed[cluster] = (order[id(obj)], why, refusal)

    if tasks:
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_DRY_RUNS, len(tasks)), thread_name_prefix="dry-run") as pool:
            for future in [pool.submit(check, cluster, obj) for cluster, obj in tasks]:
                future.result()
    for cluster, (_, why, refusal) in failed.items():
        (result.refused if refusal else result.unreachable)[cluster] = why
    log.debug("dry-run pass: %s", result.checked)
    return result
