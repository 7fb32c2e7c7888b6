"""Per-cluster overrides of a source, in Kubefed's shape, and how they change a revision's objects. No I/O.

On the FederatedKustomization, ``spec.overrides`` is Kubefed's list (``kubefed/pkg/controller/util/overrides.go``):
one item per cluster and target, ``clusterName`` and ``clusterOverrides`` (JSON 6902 operations ``{op, path, value}``),
plus what a source of many objects needs: the ``target`` (``{kind, name}``) the operations apply to, and ``values``
(Helm values merged over the ``spec.values`` of that cluster's HelmReleases, as a later ``--values`` file is in Helm).
``by``, ``reason`` and ``at`` say who asked; they are claims, since a project member may write the source.

An operator's override (``gitops-tui override source``) is also recorded on the Project, where no member can write:
``spec.sourceHolds.<source>.overrides.<cluster/Kind/name> {digest, by, identity, reason, at}``. An item whose digest
matches that record is verified; any other is a member's, applied all the same (it is applied as the project) but
shown and journaled as unverified.

Patches are applied with ``jsonpatch`` (RFC 6902). Like Kubefed, they may not touch what ties an object to its source
(``apiVersion``, ``kind``, ``metadata.name``, ``namespace``, ``generateName``, gitops-tui's labels); messages name the
object, the cluster and the operation, never a value (a patched Secret's data stays out of every message).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

import jsonpatch
import jsonpointer

from gitops_tui.util.merge import deep_merge

FIELD_OVERRIDES = "overrides"
REASON_OVERRIDE_FAILED = "OverrideFailed"
OPS = ("add", "remove", "replace", "move", "copy", "test")
#: Operations of one source's overrides at most (each is applied to a copy of its object on every reconcile).
MAX_OPERATIONS = 500
#: A cluster's name and a target's name: DNS-1123 (a label, a subdomain).
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]{0,62}$")
#: Paths an override may not write or move away: the object's identity and its owner's labels.
PROTECTED = ("/apiVersion", "/kind", "/metadata/name", "/metadata/namespace", "/metadata/generateName",
             "/metadata/labels/gitops-tui.io~1project", "/metadata/labels/gitops-tui.io~1source")


class OverrideRefused(ValueError):
    """An override that cannot be used: one sentence naming the cluster, the object and the operation."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Override:
    """One cluster's override of one target (or of every HelmRelease, for values)."""

    cluster: str
    kind: str
    name: str = ""
    """'' for every object of the kind (values of every HelmRelease)."""
    patches: tuple[dict[str, Any], ...] = ()
    values: dict[str, Any] | None = None
    by: str = ""
    reason: str = ""
    at: str = ""
    identity: str = ""
    verified: bool = False
    """True when the operator's record on the Project vouches for exactly this item."""

    @property
    def target(self) -> str:
        """``Deployment/podinfo`` or ``HelmRelease/*``."""
        return f"{self.kind}/{self.name or '*'}"

    @property
    def key(self) -> str:
        """``prod/Deployment/podinfo``: one item per cluster and target."""
        return f"{self.cluster}/{self.target}"

    @property
    def digest(self) -> str:
        """A fingerprint of what the item changes (who and why aside)."""
        body = {"clusterName": self.cluster, "target": {"kind": self.kind, "name": self.name},
                "clusterOverrides": list(self.patches), "values": self.values}
        return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]

    @property
    def paths(self) -> list[str]:
        """The fields it changes: each operation's path, ``/spec/values`` for values."""
        return [str(op.get("path")) for op in self.patches] + (["/spec/values"] if self.values else [])

    def matches(self, obj: dict[str, Any]) -> bool:
        """Whether ``obj`` is this override's target."""
        return obj.get("kind") == self.kind and (not self.name or (obj.get("metadata") or {}).get("name") == self.name)

    @property
    def who(self) -> str:
        """``alice`` or ``kubectl-patch (unverified)``."""
        return f"{self.by or 'a project member'}{'' if self.verified else ' (unverified)'}"

    def describe(self) -> str:
        """``override of Deployment/podinfo on prod (/spec/replicas) by alice: why``."""
        reason = f": {self.reason}" if self.reason else ""
        return f"override of {self.target} on {self.cluster} ({', '.join(self.paths)}) by {self.who}{reason}"

    def to_item(self) -> dict[str, Any]:
        """The FederatedKustomization's ``spec.overrides[]`` item."""
        item: dict[str, Any] = {"clusterName": self.cluster, "target": {"kind": self.kind, **(
            {"name": self.name} if self.name else {})}}
        if self.patches:
            item["clusterOverrides"] = [dict(op) for op in self.patches]
        if self.values:
            item["values"] = self.values
        item.update({"by": self.by, "reason": self.reason, "at": self.at})
        return item

    def to_dict(self) -> dict[str, Any]:
        """The ``get sources -o json`` and ``override --list -o json`` form."""
        return {"cluster": self.cluster, "target": self.target, "paths": self.paths, "patches": list(self.patches),
                "values": bool(self.values), "by": self.by, "identity": self.identity, "verified": self.verified,
                "reason": self.reason, "at": self.at}


def check_operation(op: Any, where: str) -> None:
    """OverrideRefused unless ``op`` is one JSON 6902 operation that leaves the object's identity alone."""
    if not isinstance(op, dict) or op.get("op") not in OPS or not isinstance(op.get("path"), str):
        raise OverrideRefused(f"{where} is not a JSON patch operation: each needs op ({', '.join(OPS)}) and a path")
    paths = [op["path"]] + ([str(op.get("from"))] if op["op"] in ("move", "copy") else [])
    for path in paths:
        if path != "" and not path.startswith("/"):
            raise OverrideRefused(f"{where}: path {path!r} is not a JSON pointer (it starts with /)")
        if path == "" or any(path == p or path.startswith(p + "/") for p in PROTECTED) or \
                path in ("/metadata", "/metadata/labels"):
            raise OverrideRefused(f"{where} would change {path or 'the whole object'}: an override may not change "
                                  "an object's kind, name, namespace or its gitops-tui labels")
    if op["op"] in ("add", "replace", "test") and "value" not in op:
        raise OverrideRefused(f"{where} ({op['op']} {op['path']}) needs a value")


def parse_item(raw: Any, index: int) -> Override:
    """One ``spec.overrides[]`` item; OverrideRefused in one sentence when it is not one."""
    where = f"spec.overrides[{index}]"
    if not isinstance(raw, dict):
        raise OverrideRefused(f"{where} is not an object")
    cluster = str(raw.get("clusterName") or "")
    if not _LABEL.match(cluster):
        raise OverrideRefused(f"{where}.clusterName {cluster!r} is not a cluster name")
    raw_target = raw.get("target")
    target = raw_target if isinstance(raw_target, dict) else {}
    kind, name = str(target.get("kind") or ""), str(target.get("name") or "")
    if not _KIND.match(kind) or (name and not _SUBDOMAIN.match(name)):
        raise OverrideRefused(f"{where}.target must name a kind and an object (Kind/name), e.g. Deployment/podinfo")
    patches = raw.get("clusterOverrides") or []
    values = raw.get("values")
    if not isinstance(patches, list) or (values is not None and not isinstance(values, dict)):
        raise OverrideRefused(f"{where}: clusterOverrides is a list of JSON patch operations and values a map")
    for number, op in enumerate(patches):
        check_operation(op, f"{where}.clusterOverrides[{number}]")
    if not patches and not values:
        raise OverrideRefused(f"{where} changes nothing: give clusterOverrides or values")
    if values and kind != "HelmRelease":
        raise OverrideRefused(f"{where}: values apply to a HelmRelease, not a {kind}")
    if not name and kind != "HelmRelease":
        raise OverrideRefused(f"{where}.target needs a name (only the values of every HelmRelease omit it)")
    return Override(cluster, kind, name, tuple(patches), values or None, str(raw.get("by") or ""),
                    str(raw.get("reason") or ""), str(raw.get("at") or ""))


def items_of(kustomization: dict[str, Any] | None) -> list[Any]:
    """The raw ``spec.overrides`` list of a FederatedKustomization."""
    raw = ((kustomization or {}).get("spec") or {}).get(FIELD_OVERRIDES)
    return list(raw) if isinstance(raw, list) else []


def records_of(project: dict[str, Any] | None, source: str) -> dict[str, dict[str, Any]]:
    """The operator's records of ``source``'s overrides on its Project, by key."""
    holds = ((project or {}).get("spec") or {}).get("sourceHolds") or {}
    raw = (holds.get(source) or {}).get(FIELD_OVERRIDES) if isinstance(holds, dict) and isinstance(
        holds.get(source), dict) else None
    return {str(k): v for k, v in raw.items() if isinstance(v, dict)} if isinstance(raw, dict) else {}


def overrides_of(kustomization: dict[str, Any] | None, project: dict[str, Any] | None,
                 source: str) -> tuple[Override, ...]:
    """The usable overrides of a source (items that do not parse are left out: ``problems`` says why), verified."""
    records = records_of(project, source)
    found = []
    for index, raw in enumerate(items_of(kustomization)):
        try:
            item = parse_item(raw, index)
        except OverrideRefused:
            continue
        record = records.get(item.key) or {}
        if record.get("digest") == item.digest:
            item = Override(item.cluster, item.kind, item.name, item.patches, item.values, str(record.get("by") or ""),
                            str(record.get("reason") or ""), str(record.get("at") or ""),
                            str(record.get("identity") or ""), True)
        found.append(item)
    return tuple(found)


def problems(kustomization: dict[str, Any] | None) -> dict[str, str]:
    """Each cluster with an item that does not parse, and why (that cluster refuses the revision)."""
    found: dict[str, str] = {}
    for index, raw in enumerate(items_of(kustomization)):
        try:
            parse_item(raw, index)
        except OverrideRefused as exc:
            cluster = str((raw or {}).get("clusterName") or "") if isinstance(raw, dict) else ""
            found.setdefault(cluster, exc.message)
    return found


@dataclass
class Applied:
    """A cluster's objects after its overrides, and what they changed (object -> paths)."""

    objects: list[dict[str, Any]]
    changed: dict[str, list[str]] = field(default_factory=dict)


def _display(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    where = f"{meta.get('namespace')}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))
    return f"{obj.get('kind')} {where}"


def _why(exc: Exception) -> str:
    """What went wrong in words of our own (a library's message may quote the object, a Secret's data too)."""
    if isinstance(exc, jsonpatch.JsonPatchTestFailed):
        return "its test does not hold"
    if isinstance(exc, (jsonpatch.JsonPatchConflict, jsonpointer.JsonPointerException)):
        return "the path does not exist in the object"
    return "it cannot be applied"




def apply(objects: list[dict[str, Any]], overrides: list[Override], cluster: str, revision: str) -> Applied:
    """The revision's ``objects`` as ``cluster`` gets them (untouched objects are shared, never copied).

    OverrideRefused names the object, the operation and its path when a target is missing or a patch does not apply.
    """
    mine = [o for o in overrides if o.cluster == cluster]
    if not mine:
        return Applied(objects)
    out = list(objects)
    changed: dict[str, list[str]] = {}
    for item in mine:
        hits = [i for i, obj in enumerate(out) if item.matches(obj)]
        if not hits:
            raise OverrideRefused(f"the override of {item.target} on {cluster} names no object of revision "
                                  f"{revision}: nothing applied on {cluster}")
        for index in hits:
            obj = out[index] = copy.deepcopy(out[index]) if out[index] is objects[index] else out[index]
            for number, op in enumerate(item.patches):
                try:
                    jsonpatch.JsonPatch([op]).apply(obj, in_place=True)
                except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
                    raise OverrideRefused(
                        f"the override of {_display(obj)} on {cluster} does not apply to revision {revision}: "
                        f"operation {number} ({op.get('op')} {op.get('path')}) fails, {_why(exc)}; nothing applied "
                        f"on {cluster}") from None
            if item.values:
                spec = obj.setdefault("spec", {})
                spec["values"] = deep_merge(spec.get("values") or {}, item.values)
            changed.setdefault(_display(obj), []).extend(item.paths)
    return Applied(out, changed)


def source_patch(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The FederatedKustomization merge patch setting the whole ``spec.overrides`` list."""
    return {"spec": {FIELD_OVERRIDES: items or None}}


def record_patch(source: str, key: str, record: dict[str, Any] | None) -> dict[str, Any]:
    """The Project merge patch setting (or removing, None) the operator's record of one override."""
    return {"spec": {"sourceHolds": {source: {FIELD_OVERRIDES: {key: record}}}}}
