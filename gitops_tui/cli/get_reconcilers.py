"""`gitops-tui get reconcilers`: each live reconciler process and the shards (and so projects) it holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gitops_tui.api import names, shards
from gitops_tui.api.paths import resource_path
from gitops_tui.cli.common import age
from gitops_tui.cli.get_cmd import Resource, Scope, register_resource
from gitops_tui.kube.client import json_request

NOBODY = "(nobody)"


def fetch(scope: Scope) -> list[dict[str, Any]]:
    """One row per live member (and per other live shard holder), then one for shards nobody holds."""
    path = resource_path("coordination.k8s.io/v1", "leases", names.SYSTEM_NAMESPACE)
    leases = list(json_request(scope.api, "GET", path, query={"labelSelector": shards.ROLE_LABEL}).get("items") or [])
    fleet = shards.fleet(leases, datetime.now(UTC))
    per_shard: dict[int, int] = {}
    for namespace in scope.projects:
        index = shards.shard_of(namespace, fleet.count)
        per_shard[index] = per_shard.get(index, 0) + 1
    holders = sorted(set(fleet.members) | {h for h in fleet.holders.values() if h})
    rows = []
    for identity in holders:
        spec = (fleet.members.get(identity) or {}).get("spec") or {}
        held = fleet.held_by(identity)
        parts = identity.split("/")  # <host>/<pid>/<uuid> (run) or console@<host>/<pid> (a console)
        rows.append({"identity": identity, "host": parts[0], "pid": parts[1] if len(parts) > 1 else "",
                     "shards": held, "shardCount": fleet.count, "projects": sum(per_shard.get(i, 0) for i in held),
                     "started": spec.get("acquireTime") or "", "renewed": spec.get("renewTime") or ""})
    if fleet.unheld():
        rows.append({"identity": NOBODY, "host": "", "pid": "", "shards": fleet.unheld(), "shardCount": fleet.count,
                     "projects": sum(per_shard.get(i, 0) for i in fleet.unheld()), "started": "", "renewed": ""})
    return rows


def summary(raw: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """The row as `-o json` prints it (fetch built it)."""
    return raw


RESOURCE = Resource(
    "reconcilers",
    "ReconcilerList",
    fetch,
    summary,
    [
        ("RECONCILER", lambda r: r["identity"]),
        ("SHARDS", lambda r: f"{shards.ranges(r['shards']) or '-'} of {r['shardCount']}"),
        ("PROJECTS", lambda r: r["projects"]),
        ("STARTED", lambda r: age(r["started"])),
        ("RENEWED", lambda r: age(r["renewed"])),
    ],
    lambda scope: [resource_path("coordination.k8s.io/v1", "leases", names.SYSTEM_NAMESPACE)],
    "reconciler processes and the shards of projects each holds",
)

# get_cmd imports this module to find RESOURCE; register too in case this module was imported first.
register_resource(RESOURCE)
