"""Inventory of applied objects in Flux's format ({id: <ns>_<name>_<group>_<Kind>, v: <version>}): build, parse, diff."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from gitops_tui.api.formats import ObjectRef

__all__ = ["Hashes", "ObjectRef", "config_hash", "describe", "entries", "entry_hashes", "parse_entries", "ref_of", "stale"]


def ref_of(obj: dict) -> ObjectRef:
    """Return the ObjectRef of a manifest or live object."""
    return ObjectRef.from_object(obj)


def describe(ref: ObjectRef) -> str:
    """Return a human name like 'Deployment apps/podinfo' (kind, namespace/name)."""
    where = f"{ref.namespace}/{ref.name}" if ref.namespace else ref.name
    return f"{ref.kind} {where}"


def entries(refs: Iterable[ObjectRef], hashes: dict[str, str] | None = None) -> list[dict]:
    """Return sorted, de-duplicated inventory entries for the refs.

    ``hashes`` maps an id to the hash of the configuration last applied for it on this cluster
    (recorded as ``h``; see config_hash), so an unchanged object is not dry-run again.
    """
    seen: dict[str, ObjectRef] = {}
    for ref in refs:
        seen[ref.id] = ref
    out = []
    for key in sorted(seen):
        entry: dict = seen[key].to_entry()
        if hashes and hashes.get(key):
            entry["h"] = hashes[key]
        out.append(entry)
    return out


def entry_hashes(items: Iterable[dict] | None) -> dict[str, str]:
    """Return {id: configuration hash} of status inventory entries that carry one."""
    return {str(item["id"]): str(item["h"]) for item in items or [] if item.get("id") and item.get("h")}


def config_hash(obj: dict) -> str:
    """Return the hash of an object's applied configuration: sha256 of its canonical JSON, 16 hex digits."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Hashes:
    """config_hash of the objects of one reconcile, each computed once, by identity (a source's objects are hashed
    by the dry-run pass, the watch check and the inventory of every cluster): the objects must not change meanwhile."""

    def __init__(self) -> None:
        """Start empty."""
        self._found: dict[int, tuple[dict, str]] = {}

    def __call__(self, obj: dict) -> str:
        """The configuration hash of ``obj``."""
        found = self._found.get(id(obj))
        if found is not None and found[0] is obj:
            return found[1]
        value = config_hash(obj)
        self._found[id(obj)] = (obj, value)  # the object is kept: its id names nothing else meanwhile
        return value


def parse_entries(items: Iterable[dict] | None) -> list[ObjectRef]:
    """Parse status inventory entries, skipping malformed ones."""
    out: list[ObjectRef] = []
    for item in items or []:
        try:
            out.append(ObjectRef.from_entry(item))
        except (KeyError, ValueError):
            continue
    return out


def union(*groups: Iterable[ObjectRef]) -> list[ObjectRef]:
    """Return the refs of every group, de-duplicated by id (later groups win), sorted by id."""
    seen: dict[str, ObjectRef] = {}
    for group in groups:
        for ref in group:
            seen[ref.id] = ref
    return [seen[key] for key in sorted(seen)]


def stale(previous: Iterable[ObjectRef], desired: Iterable[ObjectRef]) -> list[ObjectRef]:
    """Return the refs of ``previous`` whose id is not in ``desired`` (what prune removes)."""
    keep = {ref.id for ref in desired}
    out = {ref.id: ref for ref in previous if ref.id not in keep}
    return [out[key] for key in sorted(out)]
