"""Object surgery for server-side apply: merge a config into a live object, remove pruned fields."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.fieldpaths import Path, Schema, item_elements


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON-like value (much cheaper than copy.deepcopy)."""
    if type(value) is dict:
        return {k: copy_json(v) for k, v in value.items()}
    if type(value) is list:
        return [copy_json(v) for v in value]
    return value


def merge(live: dict, config: dict, schema: Schema) -> dict:
    """Merge an apply config into a live object (fresh result; keyed lists merge by key)."""
    lists = schema.lists

    def merge_value(lv: Any, rv: Any, names: tuple[str, ...]) -> Any:
        if rv is None:
            return None
        if isinstance(lv, dict) and isinstance(rv, dict):
            spec = lists.get(names)
            if spec is not None and spec.list_type == "atomic":
                return copy_json(rv)
            return merge_map(lv, rv, names)
        if isinstance(lv, list) and isinstance(rv, list) and lv and rv:
            spec = lists.get(names)
            pr = item_elements(rv, spec, strict=False)
            pl = item_elements(lv, spec, strict=False) if pr is not None else None
            if pr is not None and pl is not None:
                return merge_lists(lv, rv, pl, pr, names)
        return copy_json(rv)

    def merge_map(lv: dict, rv: dict, names: tuple[str, ...]) -> dict:
        out: dict = {}
        for key, value in lv.items():
            if key in rv:
                merged = merge_value(value, rv[key], names + (key,))
                if merged is not None:
                    out[key] = merged
            else:
                out[key] = copy_json(value)
        for key, value in rv.items():
            if key not in lv and value is not None:
                out[key] = copy_json(value)
        return out

    def merge_lists(lv: list, rv: list, pl: list[str], pr: list[str],
                    names: tuple[str, ...]) -> list:
        # Port of structured-merge-diff's ordering: shared items follow the config's order,
        # live-only items keep their place, config-only items come where the config has them.
        lhs = dict(zip(pl, lv))
        rhs = dict(zip(pr, rv))
        shared = [pe for pe in pr if pe in lhs]
        shared_at = 0
        next_shared = shared[0] if shared else None
        out: list = []
        done: set[str] = set()
        li = ri = 0

        def item(pe: str) -> None:
            value = merge_value(lhs[pe], rhs[pe], names) if pe in lhs else copy_json(rhs[pe])
            if value is not None:
                out.append(value)

        while li < len(pl) or ri < len(pr):
            if li < len(pl) and ri < len(pr):
                pe = pl[li]
                if pe == pr[ri]:
                    done.add(pe)
                    item(pe)
                    li += 1
                    ri += 1
                    shared_at += 1
                    next_shared = shared[shared_at] if shared_at < len(shared) else None
                    continue
                if pe in rhs and next_shared is not None and next_shared != pe:
                    li += 1
                    continue
            if li < len(pl):
                pe = pl[li]
                if pe not in rhs:
                    out.append(copy_json(lhs[pe]))
                    li += 1
                    continue
                if pe in done:
                    li += 1
                    continue
            if ri < len(pr):
                pe = pr[ri]
                done.add(pe)
                item(pe)
                ri += 1
                if next_shared == pe:
                    shared_at += 1
                    next_shared = shared[shared_at] if shared_at < len(shared) else None
        return out

    return merge_map(live, config, ())


def remove_paths(obj: dict, paths: set[Path], keep: set[Path], schema: Schema) -> None:
    """Remove each path (with its subtree) from ``obj`` in place, shallowest first.

    Maps and lists left empty by a removal go too, unless ``keep`` holds their path.
    """
    removed: set[Path] = set()
    for path in sorted(paths, key=len):
        if any(path[:end] in removed for end in range(1, len(path))):
            continue
        if _remove_one(obj, path, keep, schema):
            removed.add(path)


def _remove_one(obj: dict, path: Path, keep: set[Path], schema: Schema) -> bool:
    """Remove one path from ``obj``; False when it is not there."""
    lists = schema.lists
    trail: list[tuple[Any, Any]] = []  # (container, key or index) along the path
    node: Any = obj
    names: tuple[str, ...] = ()
    for pe in path:
        if pe.startswith("f:"):
            key = pe[2:]
            if not isinstance(node, dict) or key not in node:
                return False
            trail.append((node, key))
            names += (key,)
            node = node[key]
        else:
            if not isinstance(node, list):
                return False
            pes = item_elements(node, lists.get(names), strict=False)
            if pes is None or pe not in pes:
                return False
            index = pes.index(pe)
            trail.append((node, index))
            node = node[index]
    depth = len(path)
    while trail:
        container, key = trail.pop()
        del container[key]
        depth -= 1
        if container or depth <= 1 or path[:depth] in keep:
            break
    return True
