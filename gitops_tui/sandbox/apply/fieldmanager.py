"""Server-side apply and managedFields (fieldsV1) bookkeeping, as structured-merge-diff does it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_tui.sandbox.apply.fieldpaths import (
    FieldSet,
    ListKeyError,
    Path,
    Schema,
    decode_fields_v1,
    encode_fields_v1,
    field_set,
    path_string,
    with_ancestors,
)
from gitops_tui.sandbox.apply.fieldsets import copy_json, diff, merge, remove_paths
from gitops_tui.sandbox.apply.merge_keys import lookup
from gitops_tui.util.fields import dict_field

BEFORE_FIRST_APPLY = "before-first-apply"
_TYPE_RANK = {"f": 0, "k": 1, "v": 2, "i": 3}


@dataclass
class Conflict:
    """One field another manager owns with a different value than the applier wants."""

    manager: str
    field: str  # ".spec.replicas", '.spec.template.spec.containers[name="main"].image'
    operation: str = "Apply"
    api_version: str = ""
    subresource: str = ""

    @property
    def who(self) -> str:
        """The manager as kube-apiserver prints it ('"mgr"', '"mgr" using apps/v1')."""
        text = f'"{self.manager}"'
        if self.subresource:
            text += f' with subresource "{self.subresource}"'
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text

    def cause(self) -> dict[str, str]:
        """The Status cause kube-apiserver reports for this conflict."""
        return {"reason": "FieldManagerConflict", "message": f"conflict with {self.who}",
                "field": self.field}


class ApplyConflict(Exception):
    """An apply would change fields other managers own (HTTP 409, reason Conflict)."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = list(conflicts)
        super().__init__(_conflict_message(self.conflicts))

    def causes(self) -> list[dict[str, str]]:
        """The Status details.causes list (type FieldManagerConflict)."""
        return [conflict.cause() for conflict in self.conflicts]


class ApplyError(ValueError):
    """The apply request itself is invalid (HTTP 400/422)."""


def _conflict_message(conflicts: list[Conflict]) -> str:
    """The kube-apiserver wording of an apply conflict."""
    if len(conflicts) == 1:
        only = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {only.who}: {only.field}"
    by_who: dict[str, list[str]] = {}
    order: dict[str, str] = {}
    for conflict in conflicts:
        by_who.setdefault(conflict.who, []).append(conflict.field)
        order[conflict.who] = conflict.manager
    lines: list[str] = []
    for who in sorted(by_who, key=lambda w: (order[w], w)):
        lines.append(f"conflicts with {who}:")
        lines.extend(f"- {path}" for path in by_who[who])
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


@dataclass
class _Entry:
    """One managedFields entry, with its field set decoded."""

    manager: str
    operation: str
    api_version: str
    time: str | None
    subresource: str
    fields: FieldSet
    raw: dict | None = None  # the untouched fieldsV1, reused when the set does not change
    changed: bool = False

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """What makes two entries one (Update entries are per apiVersion)."""
        version = self.api_version if self.operation != "Apply" else ""
        return (self.manager, self.operation, version, self.subresource)

    def subtract(self, paths: set[Path]) -> None:
        """Drop ``paths`` from this entry's set."""
        if paths and not self.fields.isdisjoint(paths):
            self.fields = self.fields - paths
            self.changed = True

    def encode(self) -> dict[str, Any]:
        """The managedFields entry as Kubernetes writes it."""
        out: dict[str, Any] = {"manager": self.manager, "operation": self.operation,
                               "apiVersion": self.api_version}
        if self.time:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = (copy_json(self.raw) if self.raw is not None and not self.changed
                           else encode_fields_v1(self.fields))
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def _parse(managed: Any) -> list[_Entry]:
    """Decode metadata.managedFields (malformed entries are dropped)."""
    entries: list[_Entry] = []
    if not isinstance(managed, list):
        return entries
    for raw in managed:
        if not isinstance(raw, dict) or not raw.get("manager") and not raw.get("operation"):
            continue
        fields_v1 = dict_field(raw, "fieldsV1")
        entries.append(_Entry(
            manager=str(raw.get("manager", "")), operation=str(raw.get("operation", "Update")),
            api_version=str(raw.get("apiVersion", "")), time=raw.get("time"),
            subresource=str(raw.get("subresource", "")), fields=decode_fields_v1(fields_v1),
            raw=fields_v1,
        ))
    return entries


def _is_key_field(path: Path, kept: set[Path]) -> bool:
    """Whether ``path`` is a key field of a keyed list item that stays (never strip its key)."""
    if len(path) < 2 or not path[-2].startswith("k:") or path[:-1] not in kept:
        return False
    return f'"{path[-1][2:]}":' in path[-2]


def _same_entries(a: Any, b: Any) -> bool:
    """Whether two managedFields lists say the same (times may be formatted differently)."""
    if a == b:
        return True

    def summary(managed: Any) -> list[tuple]:
        return sorted((e.identity, frozenset(e.fields)) for e in _parse(managed))

    return summary(a) == summary(b)


def _encode(entries: list[_Entry]) -> list[dict[str, Any]]:
    """Encode entries in kube-apiserver's order (operation, time, manager, apiVersion)."""
    kept = [entry for entry in entries if entry.fields]
    kept.sort(key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource))
    return [entry.encode() for entry in kept]


def _path_order(path: Path) -> tuple:
    """Sort key of a path (fields before keys before values before indices)."""
    return tuple((_TYPE_RANK.get(pe[0], 4), pe) for pe in path)


def walk_schema(obj: dict, fallback: dict | None, ignore_status: bool, subresource: str) -> tuple[
        Schema, str]:
    """The walk schema and apiVersion for an object of the kind ``obj`` (or ``fallback``) has."""
    api_version = str(obj.get("apiVersion") or (fallback or {}).get("apiVersion") or "")
    kind = str(obj.get("kind") or (fallback or {}).get("kind") or "")
    only_status = subresource == "status"
    return Schema(lookup(api_version, kind), ignore_status and not only_status, only_status), \
        api_version


def _with_managed(obj: dict, entries: list[_Entry]) -> dict:
    """``obj`` (not copied) with metadata.managedFields set from ``entries``."""
    metadata = obj.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    encoded = _encode(entries)
    if encoded:
        metadata["managedFields"] = encoded
    else:
        metadata.pop("managedFields", None)
    obj["metadata"] = metadata
    return obj


def _without_managed(obj: dict) -> dict:
    """A shallow copy of ``obj`` whose metadata lacks managedFields."""
    out = dict(obj)
    metadata = out.get("metadata")
    if isinstance(metadata, dict) and "managedFields" in metadata:
        out["metadata"] = {k: v for k, v in metadata.items() if k != "managedFields"}
    return out


def _clean_config(config: dict, schema: Schema) -> dict:
    """The part of an apply config that takes effect (no managedFields, no reset status)."""
    out = _without_managed(config)
    if schema.ignore_status:
        out.pop("status", None)
    if schema.only_status:
        metadata = dict_field(out, "metadata")
        out = {k: v for k, v in out.items() if k in ("apiVersion", "kind", "status")}
        out["metadata"] = {k: metadata[k] for k in ("name", "namespace") if k in metadata}
    return out


def apply(live: dict | None, config: dict, manager: str, *, force: bool, now: str,
          ignore_status: bool = False, subresource: str = "") -> dict:
    """Server-side apply ``config`` as ``manager``; return the new object with managedFields.

    Raises ApplyConflict when another manager owns a field the config changes (unless
    ``force``, which moves ownership), ApplyError when the config is malformed.
    """
    if not manager:
        raise ApplyError("fieldManager is required for apply requests")
    if not isinstance(config, dict):
        raise ApplyError("the apply configuration must be a JSON object")
    schema, api_version = walk_schema(config, live, ignore_status, subresource)
    config = _clean_config(config, schema)
    try:
        new_set = field_set(config, schema, strict=True)
    except ListKeyError as exc:
        raise ApplyError(f"invalid apply configuration: {exc}") from None
    mine = _Entry(manager, "Apply", api_version, now, subresource, new_set, changed=True)
    if live is None:
        created = merge({}, config, schema)
        return _with_managed(created, [mine])

    entries = _parse((live.get("metadata") or {}).get("managedFields"))
    live_body = _without_managed(live)
    if not entries:
        before = field_set(live_body, schema)
        if before:
            entries = [_Entry(BEFORE_FIRST_APPLY, "Update", str(live.get("apiVersion", "")),
                              now, "", before, changed=True)]
    previous = next((e for e in entries if e.identity == mine.identity), None)
    others = [e for e in entries if e is not previous]
    result = merge(live_body, config, schema)

    if previous is not None and previous.fields and not previous.fields <= new_set:
        owned = set(new_set)
        for entry in others:
            owned |= entry.fields
        owned_nodes = with_ancestors(owned)
        dropped = with_ancestors(previous.fields) - owned_nodes
        dropped.discard(("f:metadata",))
        dropped = {path for path in dropped if not _is_key_field(path, owned_nodes)}
        if dropped:
            remove_paths(result, dropped, owned_nodes, schema)

    change = diff(live_body, result, schema)
    changed = change.changed
    conflicts: list[Conflict] = []
    taken: dict[int, set[Path]] = {}
    for index, entry in enumerate(others):
        clash = entry.fields & changed
        if clash:
            taken[index] = clash
            for path in sorted(clash, key=_path_order):
                conflicts.append(Conflict(entry.manager, path_string(path), entry.operation,
                                          entry.identity[2], entry.subresource))
    if conflicts and not force:
        conflicts.sort(key=lambda c: (c.manager, c.operation, c.api_version, c.subresource))
        raise ApplyConflict(conflicts)
    for index, entry in enumerate(others):
        entry.subtract(taken.get(index, set()))
        entry.subtract(change.removed)
    if previous is not None and previous.fields == new_set:
        mine.raw, mine.changed = previous.raw, False
        if change.empty():
            mine.time = previous.time
    return _with_managed(result, others + [mine])


def record_update(old: dict | None, new: dict, manager: str, *, now: str,
                  operation: str = "Update", subresource: str = "",
                  ignore_status: bool = False) -> dict:
    """Return ``new`` with managedFields updated for a non-apply write by ``manager``.

    The manager takes the fields this write changed or set; other managers lose them.
    A request whose managedFields are ``[{}]`` clears them; one that sets other entries
    than the stored ones keeps what it sets.
    """
    schema, api_version = walk_schema(new, old, ignore_status, subresource)
    old_meta = (old or {}).get("metadata")
    old_managed = old_meta.get("managedFields") if isinstance(old_meta, dict) else None
    metadata = dict_field(new, "metadata")
    requested = metadata.get("managedFields")
    result = dict(new)
    if requested is not None and requested != [] and not _same_entries(requested, old_managed):
        if requested == [{}]:
            return _with_managed(result, [])
        entries = _parse(requested)
        for entry in entries:
            entry.changed = True
        return _with_managed(result, entries)

    entries = _parse(old_managed)
    change = diff(_without_managed(old) if old else None, _without_managed(new), schema)
    touched = change.changed | change.removed
    for entry in entries:
        entry.subtract(touched)
    mine = _Entry(manager, operation, api_version, now, subresource, set(), changed=True)
    previous = next((e for e in entries if e.identity == mine.identity), None)
    if change.owned:
        if previous is None:
            mine.fields = set(change.owned)
            entries.append(mine)
        else:
            previous.fields = previous.fields | change.owned
            previous.time = now
            previous.changed = True
    return _with_managed(result, entries)
