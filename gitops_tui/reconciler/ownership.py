"""One owner per object: who owns a live object, the conflicts that refuse a revision, adoption, and the prune guard.

Rules (docs/reconciler.md#one-owner-per-object): an object another source of the project declares on
the cluster (its inventory there), or that a live Helm release or another project owns, refuses the
revision with ``OwnershipConflict``; an object nobody owns any more is adopted (an ``Adopted``
Event); a chart's objects follow Helm's own adoption rule (validate.go ``checkOwnership``); prune
and delete touch only objects whose labels still name the source.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kubernetes.dynamic import DynamicClient

from gitops_tui.api import names
from gitops_tui.kube.apply import list_objects
from gitops_tui.kube.inventory import ObjectRef, describe, parse_entries, ref_of

REASON_CONFLICT = names.REASON_OWNERSHIP_CONFLICT
REASON_ADOPTED = names.REASON_ADOPTED
HELM_RELEASE_NAME = names.ANNOTATION_HELM_RELEASE_NAME
HELM_RELEASE_NAMESPACE = names.ANNOTATION_HELM_RELEASE_NAMESPACE
HELM_MANAGED_BY = names.LABEL_HELM_MANAGED_BY

_PROJECT_LOCKS: dict[str, threading.Lock] = {}
_PROJECT_LOCKS_GUARD = threading.Lock()


@contextmanager
def project_lock(namespace: str) -> Iterator[None]:
    """Serialise the ownership check and the recording of intent of a project's sources (one process)."""
    with _PROJECT_LOCKS_GUARD:
        lock = _PROJECT_LOCKS.setdefault(namespace, threading.Lock())
    with lock:
        yield


@dataclass(frozen=True)
class Owner:
    """A source that applies objects: its project and name."""

    project: str
    source: str

    def owns(self, live: dict[str, Any]) -> bool:
        """True when the live object's labels name this source (the prune guard)."""
        labels = (live.get("metadata") or {}).get("labels") or {}
        return labels.get(names.LABEL_PROJECT) == self.project and labels.get(names.LABEL_SOURCE) == self.source


@dataclass(frozen=True)
class Claim:
    """An object a revision will write on a cluster: plainly, or through the Helm release ``release`` ("ns/name")."""

    obj: dict[str, Any]
    release: str = ""


@dataclass
class ClusterOwnership:
    """What the check found on one cluster: conflicts (messages), objects to adopt, and the ids already live."""

    cluster: str
    conflicts: list[str] = field(default_factory=list)
    adopted: list[ObjectRef] = field(default_factory=list)
    live_ids: set[str] = field(default_factory=set)


def helm_release_of(live: dict[str, Any]) -> str:
    """Return "namespace/name" of the Helm release a live object's annotations name, or ""."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    name = annotations.get(HELM_RELEASE_NAME)
    return f"{annotations.get(HELM_RELEASE_NAMESPACE, '')}/{name}" if name else ""


def helm_ownership_problem(live: dict[str, Any], release: str) -> str:
    """Helm's checkOwnership: "" when the live object may join ``release`` ("ns/name"), else Helm's own words."""
    namespace, _, name = release.partition("/")
    meta = live.get("metadata") or {}
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    errors = []
    for where, values, key, wanted in (("label", labels, HELM_MANAGED_BY, "Helm"),
                                       ("annotation", annotations, HELM_RELEASE_NAME, name),
                                       ("annotation", annotations, HELM_RELEASE_NAMESPACE, namespace)):
        if key not in values:
            errors.append(f'{where} validation error: missing key "{key}": must be set to "{wanted}"')
        elif values[key] != wanted:
            errors.append(f'{where} validation error: key "{key}" must equal "{wanted}": current value is "{values[key]}"')
    if not errors:
        return ""
    return "; ".join(["invalid ownership metadata", *errors])


def declared_elsewhere(kustomizations: Iterable[dict[str, Any]], me: str) -> dict[str, dict[str, str]]:
    """Return {cluster: {object id: source}} of what the project's *other* sources declare (their inventories)."""
    found: dict[str, dict[str, str]] = {}
    for fk in kustomizations:
        name = str((fk.get("metadata") or {}).get("name") or "")
        if name == me:
            continue
        for entry in ((fk.get("status") or {}).get("clusters") or []):
            ids = found.setdefault(str(entry.get("name") or ""), {})
            for ref in parse_entries(entry.get("inventory")):
                ids.setdefault(ref.id, name)
    return found


def live_objects(dynamic: DynamicClient, refs: Iterable[ObjectRef]) -> dict[str, dict[str, Any]]:
    """Return the live objects among ``refs`` by id (one LIST per kind and namespace)."""
    wanted: dict[tuple[str, str, str], set[str]] = {}
    for ref in refs:
        wanted.setdefault((ref.api_version, ref.kind, ref.namespace), set()).add(ref.name)
    found: dict[str, dict[str, Any]] = {}
    for (api_version, kind, namespace), wanted_names in wanted.items():
        for name, item in list_objects(dynamic, api_version, kind, namespace or None).items():
            if name in wanted_names:
                found[ref_of({**item, "apiVersion": api_version, "kind": kind}).id] = item
    return found


def check_cluster(cluster: str, dynamic: DynamicClient, claims: list[Claim], me: Owner,
                  elsewhere: dict[str, str], release_alive: Callable[[str], bool],
                  live: dict[str, dict[str, Any]] | None = None) -> ClusterOwnership:
    """Check every claim against the cluster and the project's other sources; nothing is written.

    ``elsewhere`` maps object ids to the other source declaring them on this cluster; ``release_alive``
    says whether a Helm release ("ns/name") still has a stored revision there.
    """
    result = ClusterOwnership(cluster)
    if live is None:  # else every claimed object is known live (the watch cache): nothing to LIST
        live = live_objects(dynamic, [ref_of(c.obj) for c in claims])
    result.live_ids = set(live)
    claimed: dict[str, str] = {}
    for claim in claims:
        ref = ref_of(claim.obj)
        what = f"{describe(ref)} on {cluster}"
        mine = f"source {me.source}" + (f" (Helm release {claim.release})" if claim.release else "")
        if ref.id in claimed:
            result.conflicts.append(f"{what} is rendered twice by source {me.source}: {claimed[ref.id]} and "
                                    f"{'Helm release ' + claim.release if claim.release else 'its manifests'}")
            continue
        claimed[ref.id] = f"Helm release {claim.release}" if claim.release else "its manifests"
        if ref.id in elsewhere:
            result.conflicts.append(f"{what} is declared by source {elsewhere[ref.id]}; {mine} renders it too")
            continue
        current = live.get(ref.id)
        if current is None:
            continue
        labels = (current.get("metadata") or {}).get("labels") or {}
        project = labels.get(names.LABEL_PROJECT)
        if project and project != me.project:
            result.conflicts.append(f"{what} belongs to project {project} (source {labels.get(names.LABEL_SOURCE)}); "
                                    f"{mine} renders it too")
            continue
        release = helm_release_of(current)
        if claim.release:
            problem = helm_ownership_problem(current, claim.release)
            if problem:
                helm_what = f'{ref.kind} "{ref.name}" in namespace "{ref.namespace}"'
                result.conflicts.append(f"{what}: {helm_what} exists and cannot be imported into the current "
                                        f"release: {problem}")
            continue
        if release and release_alive(release):
            result.conflicts.append(f"{what} is owned by Helm release {release}; {mine} renders it too")
            continue
        if not me.owns(current):
            result.adopted.append(ref)
    return result


def conflict_message(results: Iterable[ClusterOwnership]) -> str:
    """One sentence naming the first conflict (object, cluster, other owner) and how many more there are."""
    conflicts = [c for r in results for c in r.conflicts]
    if not conflicts:
        return ""
    more = f" (and {len(conflicts) - 1} more conflict(s))" if len(conflicts) > 1 else ""
    return f"{conflicts[0]}{more}: an object has one owner; remove it from one of them"
