"""Dry-run diff: what a server-side apply would change on the live object, field by field, and who owns those fields."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kubernetes.dynamic import DynamicClient

from gitops_tui.kube.apply import apply_object, get_object
from gitops_tui.kube.inventory import ObjectRef, describe, ref_of

#: Metadata the server owns; never part of a drift.
_SERVER_METADATA = ("managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink")
#: Paths of a Secret whose values a diff never shows (like `kubectl diff`, they read "***").
_SECRET_VALUE_FIELDS = (".data", ".stringData")


def _mask(value: Any) -> Any:
    """A Secret value as a diff shows it: "***" when set, None when absent."""
    return None if value is None else "***"


@dataclass
class FieldChange:
    """One changed field: its path, the live and desired values, and the managers owning it live."""

    path: str
    live: Any
    desired: Any
    managers: list[str] = field(default_factory=list)


@dataclass
class ObjectDrift:
    """The drift of one object: missing on the cluster, or modified fields."""

    ref: ObjectRef
    missing: bool = False
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def managers(self) -> list[str]:
        """Return every manager owning a changed field, sorted."""
        return sorted({m for change in self.fields for m in change.managers})

    def summary(self) -> str:
        """Return one line naming the object, the changed fields and who changed them."""
        if self.missing:
            return f"{describe(self.ref)} is missing on the cluster"
        paths = ", ".join(change.path for change in self.fields[:8])
        more = f" and {len(self.fields) - 8} more" if len(self.fields) > 8 else ""
        by = ", ".join(self.managers) or "an unknown manager"
        return f"{describe(self.ref)} changed {paths}{more} (by {by})"

    def to_dict(self) -> dict:
        """Return a JSON-ready form for the command line and the console."""
        return {
            "object": describe(self.ref),
            "id": self.ref.id,
            "missing": self.missing,
            "fields": [
                {"path": c.path, "live": c.live, "desired": c.desired, "managers": c.managers} for c in self.fields
            ],
        }


def _strip(obj: dict | None) -> dict:
    if not obj:
        return {}
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = {k: v for k, v in (out.get("metadata") or {}).items() if k not in _SERVER_METADATA}
    out["metadata"] = meta
    return out


_Segment = tuple[str, Any]  # ("key", name) or ("item", (index, live element))


def _render(segments: list[_Segment]) -> str:
    text = ""
    for kind, value in segments:
        if kind == "key":
            text += f".{value}"
        else:
            index, element = value
            if isinstance(element, dict) and "name" in element:
                text += f"[name={element['name']}]"
            else:
                text += f"[{index}]"
    return text


def _walk(live: Any, desired: Any, segments: list[_Segment], out: list[tuple[list[_Segment], Any, Any]]) -> None:
    if isinstance(live, dict) and isinstance(desired, dict):
        for key in sorted(set(live) | set(desired)):
            if live.get(key) != desired.get(key):
                _walk(live.get(key), desired.get(key), [*segments, ("key", key)], out)
        return
    if isinstance(live, list) and isinstance(desired, list):
        named = all(isinstance(e, dict) and "name" in e for e in live + desired)
        if named:
            live_by = {e["name"]: (i, e) for i, e in enumerate(live)}
            desired_by = {e["name"]: e for e in desired}
            for name in sorted(set(live_by) | set(desired_by)):
                index, element = live_by.get(name, (None, {"name": name}))
                if element != desired_by.get(name) or name not in live_by:
                    _walk(
                        element if name in live_by else None,
                        desired_by.get(name),
                        [*segments, ("item", (index, element))],
                        out,
                    )
            return
        if len(live) == len(desired):
            for index, (a, b) in enumerate(zip(live, desired, strict=True)):
                if a != b:
                    _walk(a, b, [*segments, ("item", (index, a))], out)
            return
    out.append((segments, live, desired))


def _matches(key: str, element: Any, index: int | None) -> bool:
    if key.startswith("k:") and isinstance(element, dict):
        try:
            wanted = json.loads(key[2:])
        except ValueError:
            return False
        return all(element.get(k) == v for k, v in wanted.items())
    if key.startswith("v:"):
        try:
            return json.loads(key[2:]) == element
        except ValueError:
            return False
    if key.startswith("i:"):
        return index is not None and key == f"i:{index}"
    return False


def _owned_depth(fields_v1: dict, segments: list[_Segment]) -> int:
    """Return how deep along ``segments`` the field set reaches (len(segments) when it owns the field)."""
    node: Any = fields_v1
    for depth, (kind, value) in enumerate(segments):
        if not isinstance(node, dict):
            return depth
        if kind == "key":
            nxt = node.get(f"f:{value}")
        else:
            index, element = value
            nxt = next((v for k, v in node.items() if _matches(k, element, index)), None)
        if nxt is None:
            return depth
        node = nxt
    return len(segments)


def owners(live: dict, segments: list[_Segment]) -> list[str]:
    """Return the managers whose managedFields own the field at ``segments`` (deepest match wins)."""
    best: dict[str, int] = {}
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        # Subresource writers count too: `kubectl scale` owns .spec.replicas through "scale".
        depth = _owned_depth(entry.get("fieldsV1") or {}, segments)
        if depth > 1:
            manager = entry.get("manager", "")
            best[manager] = max(best.get(manager, 0), depth)
    if not best:
        return []
    deepest = max(best.values())
    return sorted(m for m, d in best.items() if d == deepest)


def compare(live: dict | None, would_be: dict, ref: ObjectRef | None = None) -> ObjectDrift | None:
    """Compare the live object with the dry-run apply result; return the drift, or None when equal."""
    ref = ref or ref_of(would_be)
    if live is None:
        return ObjectDrift(ref=ref, missing=True)
    a, b = _strip(live), _strip(would_be)
    if a == b:
        return None
    found: list[tuple[list[_Segment], Any, Any]] = []
    _walk(a, b, [], found)
    secret = ref.kind == "Secret" and not ref.group
    changes = []
    for segments, lv, dv in found:
        path = _render(segments)
        if secret and path.startswith(_SECRET_VALUE_FIELDS):
            lv, dv = _mask(lv), _mask(dv)
        changes.append(FieldChange(path=path, live=lv, desired=dv, managers=owners(live, segments)))
    return ObjectDrift(ref=ref, fields=changes) if changes else None


def diff_object(dynamic: DynamicClient, desired: dict) -> ObjectDrift | None:
    """Return what applying ``desired`` would change on the cluster (dry-run apply), or None."""
    ref = ref_of(desired)
    live = get_object(dynamic, ref.api_version, ref.kind, ref.name, ref.namespace or None)
    if live is None:
        return ObjectDrift(ref=ref, missing=True)
    would_be = apply_object(dynamic, desired, dry_run=True)
    return compare(live, would_be, ref)
