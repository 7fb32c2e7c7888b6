"""Object-level work of server-side apply: merge a config into a live object, diff, prune."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_tui.sandbox.apply.fieldpaths import FREEFORM_MAPS, Path, Schema, item_elements


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
        lhs = dict(zip(pl, lv, strict=False))
        rhs = dict(zip(pr, rv, strict=False))
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


@dataclass
class Diff:
    """What changed between two objects, by path (added/removed list whole subtrees)."""

    modified: set[Path] = field(default_factory=set)
    added: set[Path] = field(default_factory=set)
    removed: set[Path] = field(default_factory=set)
    owned: set[Path] = field(default_factory=set)  # members an Update writer takes

    @property
    def changed(self) -> set[Path]:
        """Modified or added paths: the ones that conflict with other owners."""
        return self.modified | self.added

    def empty(self) -> bool:
        """Whether nothing changed."""
        return not (self.modified or self.added or self.removed)


def diff(old: dict | None, new: dict, schema: Schema) -> Diff:
    """Compare two objects the way structured-merge-diff does."""
    result = Diff()
    lists = schema.lists
    creating = old is None

    def subtree(value: Any, names: tuple[str, ...], path: Path, into: set[Path],
                owned: set[Path] | None, root: bool) -> None:
        into.add(path)
        if isinstance(value, dict):
            spec = lists.get(names)
            atomic = spec is not None and spec.list_type == "atomic"
            if owned is not None and (not value or atomic or (root and not creating
                                                               and len(path) > 1)
                                      or names[-1] in FREEFORM_MAPS):
                owned.add(path)
            if atomic:
                return
            for key, child in value.items():
                subtree(child, names + (key,), path + ("f:" + key,), into, owned, False)
        elif isinstance(value, list):
            pes = item_elements(value, lists.get(names), strict=False) if value else None
            if pes is None or (owned is not None and root and not creating and len(path) > 1):
                if owned is not None:
                    owned.add(path)
                if pes is None:
                    return
            for pe, item in zip(pes, value, strict=False):
                subtree_item(item, names, path + (pe,), into, owned)
        elif owned is not None:
            owned.add(path)

    def compare_maps(a: dict, b: dict, names: tuple[str, ...], path: Path) -> None:
        for key, bv in b.items():
            child_names, child_path = names + (key,), path + ("f:" + key,)
            if key not in a:
                subtree(bv, child_names, child_path, result.added, result.owned, True)
            else:
                compare(a[key], bv, child_names, child_path)
        for key, av in a.items():
            if key not in b:
                subtree(av, names + (key,), path + ("f:" + key,), result.removed, None, True)

    def compare(a: Any, b: Any, names: tuple[str, ...], path: Path) -> None:
        if a == b and type(a) is type(b):
            return
        if isinstance(a, dict) and isinstance(b, dict):
            spec = lists.get(names)
            if spec is None or spec.list_type != "atomic":
                compare_maps(a, b, names, path)
                return
        elif isinstance(a, list) and isinstance(b, list):
            spec = lists.get(names)
            pa = item_elements(a, spec, strict=False) if a else []
            pb = item_elements(b, spec, strict=False) if b else []
            if spec is not None and spec.list_type != "atomic" and pa is not None and pb is not None:
                compare_lists(a, b, pa, pb, names, path)
                return
        result.modified.add(path)
        result.owned.add(path)
        if isinstance(a, (dict, list)):
            _children(a, names, path, result.removed)
        if isinstance(b, (dict, list)):
            _children(b, names, path, result.added)

    def _children(value: Any, names: tuple[str, ...], path: Path, into: set[Path]) -> None:
        scratch: set[Path] = set()
        subtree(value, names, path, scratch, None, False)
        scratch.discard(path)
        into |= scratch

    def compare_lists(a: list, b: list, pa: list[str], pb: list[str],
                      names: tuple[str, ...], path: Path) -> None:
        old_items = dict(zip(pa, a, strict=False))
        new_pes = set(pb)
        for pe, item in zip(pb, b, strict=False):
            item_path = path + (pe,)
            if pe not in old_items:
                subtree_item(item, names, item_path, result.added, result.owned)
            elif isinstance(item, dict) and isinstance(old_items[pe], dict):
                compare_maps(old_items[pe], item, names, item_path)
            elif item != old_items[pe]:
                result.modified.add(item_path)
                result.owned.add(item_path)
        for pe, item in zip(pa, a, strict=False):
            if pe not in new_pes:
                subtree_item(item, names, path + (pe,), result.removed, None)

    def subtree_item(item: Any, names: tuple[str, ...], item_path: Path, into: set[Path],
                     owned: set[Path] | None) -> None:
        into.add(item_path)
        if owned is not None:
            owned.add(item_path)
        if isinstance(item, dict):
            for key, child in item.items():
                subtree(child, names + (key,), item_path + ("f:" + key,), into, owned, False)

    old_top = dict(schema.top_items(old)) if old else {}
    new_top = dict(schema.top_items(new))
    old_top.setdefault("metadata", {})
    new_top.setdefault("metadata", {})
    for key in ("spec", "status"):  # Kubernetes compares against zero-valued structs
        if isinstance(new_top.get(key), dict):
            old_top.setdefault(key, {})
    compare_maps(old_top, new_top, (), ())
    # A change below metadata never makes "metadata" itself owned.
    result.owned.discard(("f:metadata",))
    return result
