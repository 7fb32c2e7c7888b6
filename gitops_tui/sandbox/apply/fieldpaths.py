"""Field paths and field sets as structured-merge-diff sees them: fieldsV1 encoding, walks, diffs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gitops_tui.sandbox.apply.merge_keys import ListSpec

Path = tuple[str, ...]  # path elements: "f:spec", 'k:{"name":"main"}', 'v:"x"', "i:0"
FieldSet = set[Path]  # member paths only

# Never part of a field set (kube-apiserver's stripmeta plus deletion bookkeeping).
ROOT_SKIP = frozenset({"apiVersion", "kind"})
META_SKIP = frozenset({
    "name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation",
    "managedFields", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
})
# Map-valued fields whose node is itself owned when an update adds it (as kube-apiserver shows).
FREEFORM_MAPS = frozenset({
    "labels", "annotations", "nodeSelector", "data", "stringData", "binaryData", "matchLabels",
    "limits", "requests", "capacity", "allocatable", "hard", "used",
})
_TYPE_RANK = {"f": 0, "k": 1, "v": 2, "i": 3}


class ListKeyError(ValueError):
    """A keyed list item misses its key field or repeats a key."""


def _dumps(value: Any) -> str:
    """Compact JSON as Kubernetes writes it inside path elements."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


_CACHE: dict[Any, str] = {}
_CACHE_LIMIT = 20000


def _element(prefix: str, value: Any) -> str:
    """A "v:" path element (memoised)."""
    try:
        cache_key = (prefix, type(value), value)
        found = _CACHE.get(cache_key)
    except TypeError:
        return prefix + _dumps(value)
    if found is None:
        found = prefix + _dumps(value)
        if len(_CACHE) < _CACHE_LIMIT:
            _CACHE[cache_key] = found
    return found


def _key_element(keys: tuple[str, ...], values: list[Any]) -> str:
    """A "k:" path element for key fields ``keys`` (sorted) with ``values`` (memoised)."""
    try:
        cache_key = (keys, tuple(values), tuple(type(v) for v in values))
        found = _CACHE.get(cache_key)
    except TypeError:
        return "k:" + _dumps(dict(zip(keys, values, strict=False)))
    if found is None:
        found = "k:" + _dumps(dict(zip(keys, values, strict=False)))
        if len(_CACHE) < _CACHE_LIMIT:
            _CACHE[cache_key] = found
    return found


def item_elements(items: list, spec: ListSpec | None, *, strict: bool) -> list[str] | None:
    """Path elements of the items of a keyed or set list; None when the list is atomic.

    With ``strict`` a malformed list (missing key, duplicate) raises ListKeyError, else it is atomic.
    """
    if spec is None or spec.list_type == "atomic":
        return None
    out: list[str] = []
    if spec.list_type == "set":
        for item in items:
            if isinstance(item, (dict, list)):
                if strict:
                    raise ListKeyError("a set list may only hold plain values")
                return None
            out.append(_element("v:", item))
    else:
        keys = spec.sorted_keys
        defaults = spec.key_defaults
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                if strict:
                    raise ListKeyError(f"element {index} of a keyed list is not an object")
                return None
            values = []
            for name in keys:
                value = item.get(name)
                if value is None:
                    for default_name, default in defaults:
                        if default_name == name:
                            value = default
                            break
                    else:
                        if strict:
                            raise ListKeyError(
                                f"element {index} omits key field {name!r} of the keyed list"
                            )
                        return None
                values.append(value)
            out.append(_key_element(keys, values))
    if len(set(out)) != len(out):
        if strict:
            dup = next(pe for pe in out if out.count(pe) > 1)
            raise ListKeyError(f"duplicate entries for key {element_string(dup)}")
        return None
    return out


def element_string(pe: str) -> str:
    """One path element as kube-apiserver prints it (".image", '[name="main"]', '[="x"]')."""
    kind, body = pe[0], pe[2:]
    if kind == "f":
        return "." + body
    if kind == "k":
        fields = json.loads(body)
        return "[" + ",".join(f"{name}={_dumps(value)}" for name, value in fields.items()) + "]"
    if kind == "v":
        return "[=" + body + "]"
    return "[" + body + "]"


def path_string(path: Path) -> str:
    """A whole path as kube-apiserver prints it in conflicts (".spec.replicas")."""
    return "".join(element_string(pe) for pe in path)


def decode_fields_v1(fields: dict | None) -> FieldSet:
    """The member paths of a fieldsV1 document."""
    out: FieldSet = set()

    def walk(node: dict, prefix: Path) -> None:
        for pe, child in node.items():
            if pe == ".":
                continue
            path = prefix + (pe,)
            if not isinstance(child, dict):
                out.add(path)
                continue
            if not child or "." in child:
                out.add(path)
            if child:
                walk(child, path)

    if isinstance(fields, dict):
        walk(fields, ())
    return out


def _order(pe: str) -> tuple[int, str]:
    """Sort order of sibling path elements (fields, keys, values, indices)."""
    return (_TYPE_RANK.get(pe[0], 4), pe)


def encode_fields_v1(fields: FieldSet) -> dict:
    """The fieldsV1 document of a set of member paths ("." marks a member with children)."""
    tree: dict = {}
    for path in fields:
        node = tree
        for pe in path:
            node = node.setdefault(pe, {})
        node["."] = {}

    def emit(node: dict) -> dict:
        children = [pe for pe in node if pe != "."]
        if not children:
            return {}
        out: dict = {}
        if "." in node:
            out["."] = {}
        for pe in sorted(children, key=_order):
            out[pe] = emit(node[pe])
        return out

    return emit(tree)


def with_ancestors(fields: FieldSet) -> set[Path]:
    """Every member path and all its ancestors (the nodes a set touches)."""
    out: set[Path] = set()
    for path in fields:
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            if prefix in out:
                break
            out.add(prefix)
    return out


@dataclass
class Schema:
    """What the walks need to know of one kind: list rules by field path, and skipped parts."""

    lists: dict[tuple[str, ...], ListSpec]
    ignore_status: bool = False
    only_status: bool = False

    def top_items(self, obj: dict) -> list[tuple[str, Any]]:
        """The root fields that take part in field sets (metadata filtered)."""
        out = []
        for key, value in obj.items():
            if key in ROOT_SKIP:
                continue
            if key == "status" and self.ignore_status:
                continue
            if self.only_status and key != "status":
                continue
            if key == "metadata" and isinstance(value, dict):
                value = {k: v for k, v in value.items() if k not in META_SKIP}
            out.append((key, value))
        return out


def field_set(obj: dict, schema: Schema, *, strict: bool = False) -> FieldSet:
    """The fields an object sets, as server-side apply records them for its applier."""
    out: FieldSet = set()
    lists = schema.lists

    def walk_value(value: Any, names: tuple[str, ...], path: Path) -> None:
        if isinstance(value, dict):
            spec = lists.get(names)
            if not value or (spec is not None and spec.list_type == "atomic"):
                out.add(path)
            else:
                walk_map(value, names, path)
        elif isinstance(value, list):
            pes = item_elements(value, lists.get(names), strict=strict) if value else None
            if pes is None:
                if value or lists.get(names) is None or lists[names].list_type == "atomic":
                    out.add(path)
                return
            for pe, item in zip(pes, value, strict=False):
                item_path = path + (pe,)
                out.add(item_path)
                if isinstance(item, dict):
                    walk_map(item, names, item_path)
        else:
            out.add(path)

    def walk_map(value: dict, names: tuple[str, ...], path: Path) -> None:
        for key, child in value.items():
            walk_value(child, names + (key,), path + ("f:" + key,))

    for key, value in schema.top_items(obj):
        if key == "metadata":
            if isinstance(value, dict):
                walk_map(value, ("metadata",), ("f:metadata",))
            continue
        walk_value(value, (key,), ("f:" + key,))
    return out
