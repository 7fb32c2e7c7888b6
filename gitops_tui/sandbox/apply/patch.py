"""Merge patch (RFC 7386), JSON patch (RFC 6902) and Kubernetes strategic merge patch. Pure."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.apply.fieldsets import copy_json
from gitops_tui.sandbox.apply.merge_keys import ListSpec, lookup

_DIRECTIVE = "$patch"
_RETAIN = "$retainKeys"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"
_ORDER = "$setElementOrder/"


class PatchError(ValueError):
    """A patch that cannot be applied (bad path, failed test, malformed directive)."""


# ---------------------------------------------------------------- RFC 7386 merge patch


def merge_patch(target: dict, patch: dict) -> dict:
    """Apply a JSON merge patch (RFC 7386): objects merge, null deletes, the rest replaces."""
    if not isinstance(patch, dict):
        raise PatchError("a merge patch must be a JSON object")
    out = copy_json(target) if isinstance(target, dict) else {}
    _merge_into(out, patch)
    return out


def _merge_into(out: dict, patch: dict) -> None:
    """RFC 7386 MergePatch into a fresh map, in place."""
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict):
            current = out.get(key)
            if not isinstance(current, dict):
                current = out[key] = {}
            _merge_into(current, value)
        else:
            out[key] = copy_json(value)


# ---------------------------------------------------------------- RFC 6902 JSON patch


def _pointer(path: Any) -> list[str]:
    """The reference tokens of a JSON pointer."""
    if not isinstance(path, str):
        raise PatchError(f"JSON patch path must be a string, not {type(path).__name__}")
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"JSON pointer {path!r} must start with '/'")
    return [token.replace("~1", "/").replace("~0", "~") for token in path[1:].split("/")]


def _index(container: list, token: str, path: str, *, adding: bool) -> int:
    """A list index from a pointer token ("-" appends when adding)."""
    if adding and token == "-":
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise PatchError(f"invalid array index {token!r} in path {path!r}")
    index = int(token)
    limit = len(container) if adding else len(container) - 1
    if index > limit:
        raise PatchError(f"array index {index} out of range in path {path!r}")
    return index


def _child(node: Any, token: str, path: str) -> Any:
    """The member ``token`` of an object or array while walking ``path``."""
    if isinstance(node, dict):
        if token not in node:
            raise PatchError(f"path {path!r} does not exist")
        return node[token]
    if isinstance(node, list):
        return node[_index(node, token, path, adding=False)]
    raise PatchError(f"path {path!r} does not exist")


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    """The container that holds the last token of ``path``."""
    node = doc
    for token in tokens[:-1]:
        node = _child(node, token, path)
    return node


def _get(doc: Any, path: str) -> Any:
    """The value at a JSON pointer."""
    node = doc
    for token in _pointer(path):
        node = _child(node, token, path)
    return node


def _add(doc: Any, path: str, value: Any) -> Any:
    """RFC 6902 add; returns the (possibly new) document."""
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, path)
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, tokens[-1], path, adding=True), value)
    else:
        raise PatchError(f"path {path!r} does not exist")
    return doc


def _remove(doc: Any, path: str) -> Any:
    """RFC 6902 remove; returns the removed value."""
    tokens = _pointer(path)
    if not tokens:
        raise PatchError("cannot remove the whole document")
    parent = _parent(doc, tokens, path)
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            raise PatchError(f"path {path!r} does not exist")
        return parent.pop(tokens[-1])
    if isinstance(parent, list):
        return parent.pop(_index(parent, tokens[-1], path, adding=False))
    raise PatchError(f"path {path!r} does not exist")


def _equal(a: Any, b: Any) -> bool:
    """JSON equality (booleans are not numbers)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def json_patch(target: dict, operations: list) -> dict:
    """Apply a JSON patch (RFC 6902: add, remove, replace, move, copy, test)."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a JSON array of operations")
    doc: Any = copy_json(target)
    for number, operation in enumerate(operations):
        if not isinstance(operation, dict) or "op" not in operation:
            raise PatchError(f"JSON patch operation {number} has no 'op'")
        op, path = operation["op"], operation.get("path")
        if path is None:
            raise PatchError(f"JSON patch operation {number} ({op}) has no 'path'")
        if op in ("add", "replace", "test") and "value" not in operation:
            raise PatchError(f"JSON patch operation {number} ({op}) has no 'value'")
        if op == "add":
            doc = _add(doc, path, copy_json(operation["value"]))
        elif op == "remove":
            _remove(doc, path)
        elif op == "replace":
            _get(doc, path)
            tokens = _pointer(path)
            if not tokens:
                doc = copy_json(operation["value"])
            else:
                _remove(doc, path)
                doc = _add(doc, path, copy_json(operation["value"]))
        elif op in ("move", "copy"):
            source = operation.get("from")
            if source is None:
                raise PatchError(f"JSON patch operation {number} ({op}) has no 'from'")
            if op == "move" and path != source and path.startswith(str(source) + "/"):
                raise PatchError(f"cannot move {source!r} into its own child {path!r}")
            value = _remove(doc, source) if op == "move" else copy_json(_get(doc, source))
            doc = _add(doc, path, value)
        elif op == "test":
            if not _equal(_get(doc, path), operation["value"]):
                raise PatchError(f"test operation failed: the value at {path!r} differs")
        else:
            raise PatchError(f"unknown JSON patch operation {op!r}")
    if not isinstance(doc, dict):
        raise PatchError("a JSON patch must leave the object a JSON object")
    return doc


# ---------------------------------------------------------------- strategic merge patch


def strategic_merge_patch(target: dict, patch: dict, api_version: str, kind: str) -> dict:
    """Apply a Kubernetes strategic merge patch (lists merge by their patchMergeKey)."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object")
    lists = lookup(api_version or str(target.get("apiVersion", "")), kind or str(target.get("kind", "")))
    result = _smp_map(target if isinstance(target, dict) else {}, patch, (), lists)
    return result if result is not None else {}


def _smp_map(original: dict, patch: dict, names: tuple[str, ...],
             lists: dict[tuple[str, ...], ListSpec]) -> dict | None:
    """Strategic-merge ``patch`` into the map ``original``; None means delete the map."""
    directive = patch.get(_DIRECTIVE)
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy_json(v) for k, v in patch.items() if not k.startswith("$")}
    if directive not in (None, "merge"):
        raise PatchError(f"unknown $patch directive {directive!r}")
    out = {k: copy_json(v) for k, v in original.items()}
    retain = patch.get(_RETAIN)
    for key, value in patch.items():
        if key.startswith(_DELETE_PRIMITIVE):
            field = key[len(_DELETE_PRIMITIVE):]
            if not isinstance(value, list):
                raise PatchError(f"{key} must be a list")
            if isinstance(out.get(field), list):
                out[field] = [item for item in out[field] if item not in value]
            continue
        if key.startswith("$"):
            continue
        if value is None:
            out.pop(key, None)
            continue
        child_names = names + (key,)
        current = out.get(key)
        if isinstance(value, dict):
            merged = _smp_map(current if isinstance(current, dict) else {}, value, child_names, lists)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        elif isinstance(value, list):
            out[key] = _smp_list(current if isinstance(current, list) else [], value,
                                 lists.get(child_names), child_names, lists)
        else:
            out[key] = value
    for key, value in patch.items():
        if key.startswith(_ORDER) and isinstance(out.get(key[len(_ORDER):]), list):
            field = key[len(_ORDER):]
            if not isinstance(value, list):
                raise PatchError(f"{key} must be a list")
            out[field] = _reorder(out[field], value, lists.get(names + (field,)))
    if retain is not None:
        if not isinstance(retain, list):
            raise PatchError("$retainKeys must be a list")
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _smp_list(original: list, patch: list, spec: ListSpec | None, names: tuple[str, ...],
              lists: dict[tuple[str, ...], ListSpec]) -> list:
    """Strategic-merge a list: by merge key, as a set of primitives, or replaced."""
    key = spec.patch_merge_key if spec is not None else None
    if key is None:
        if spec is not None and spec.list_type == "set" and "merge" in spec.patch_strategy:
            out = list(original)
            for item in patch:
                if isinstance(item, dict) and item.get(_DIRECTIVE) == "replace":
                    return [copy_json(i) for i in patch if not isinstance(i, dict)]
                if item not in out:
                    out.append(copy_json(item))
            return out
        return [copy_json(item) for item in patch
                if not (isinstance(item, dict) and _DIRECTIVE in item and len(item) == 1)]
    if any(isinstance(item, dict) and item.get(_DIRECTIVE) == "replace" for item in patch):
        return [_strip(item) for item in patch
                if not (isinstance(item, dict) and item.get(_DIRECTIVE) == "replace")]
    out = [copy_json(item) for item in original]
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"list {'.'.join(names)} merges by {key!r} and holds only objects")
        if key not in item:
            raise PatchError(f"an item of list {'.'.join(names)} lacks its merge key {key!r}")
        position = next((i for i, existing in enumerate(out)
                         if isinstance(existing, dict) and existing.get(key) == item[key]), None)
        if item.get(_DIRECTIVE) == "delete":
            out = [e for e in out if not (isinstance(e, dict) and e.get(key) == item[key])]
            continue
        if position is None:
            out.append(_strip(item))
        else:
            merged = _smp_map(out[position], item, names, lists)
            if merged is None:
                del out[position]
            else:
                out[position] = merged
    return out


def _strip(item: Any) -> Any:
    """A patch item without its directives."""
    if isinstance(item, dict):
        return {k: _strip(v) for k, v in item.items() if not k.startswith("$")}
    return copy_json(item)


def _reorder(items: list, order: list, spec: ListSpec | None) -> list:
    """Order a merged list by $setElementOrder; items it does not name keep their relative place."""
    key = spec.patch_merge_key if spec is not None else None

    def ident(item: Any) -> Any:
        if key is not None and isinstance(item, dict):
            return ("k", repr(item.get(key)))
        return ("v", repr(item))

    wanted = [ident(entry) for entry in order]
    rank = {ident_: i for i, ident_ in enumerate(wanted)}
    named = sorted((item for item in items if ident(item) in rank), key=lambda i: rank[ident(i)])
    out: list = []
    named_iter = iter(named)
    for item in items:
        out.append(next(named_iter) if ident(item) in rank else item)
    return out
