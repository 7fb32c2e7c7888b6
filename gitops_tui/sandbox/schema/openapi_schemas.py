"""Definitions of the OpenAPI documents: the official ones of served built-in kinds, and CRD kinds' own."""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.sandbox.schema import kube_schemas
from gitops_tui.sandbox.schema.catalog import ResourceType

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
GVK = kube_schemas.GVK
#: Definitions every document carries besides the kinds': what operations answer and take.
_SHARED = (META + "Status", META + "Patch", META + "DeleteOptions", META + "ListMeta", META + "ObjectMeta")


def definition_name(rt: ResourceType) -> str:
    """The definition name of a kind: io.k8s.api.apps.v1.Deployment, com.example.v1.Widget for CRDs."""
    if not rt.is_crd:
        found = kube_schemas.definition_name(rt.group, rt.version, rt.kind)
        if found:
            return found
    return ".".join(reversed(rt.group.split("."))) + f".{rt.version}.{rt.kind}"


def _gvk(rt: ResourceType, kind: str | None = None) -> dict:
    return {"group": rt.group, "kind": kind or rt.kind, "version": rt.version}


def _crd_properties(rt: ResourceType, v3: bool) -> dict:
    schema = rt.schema if isinstance(rt.schema, dict) else {}
    props: dict[str, Any] = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                             "metadata": {"$ref": kube_schemas.V2_REF + META + "ObjectMeta"}}
    for name, sub in (schema.get("properties") or {}).items():
        if name in ("apiVersion", "kind", "metadata"):
            continue
        if v3 and isinstance(sub, dict):
            props[name] = copy.deepcopy(sub)
        else:  # v2 keeps CRD fields opaque: kubectl's v2 parser rejects many structural-schema forms
            desc = sub.get("description", "") if isinstance(sub, dict) else ""
            props[name] = {"description": desc} if desc else {}
    if not schema.get("properties"):
        props.update({"spec": {}, "status": {}})
    return props


def _crd_definitions(rt: ResourceType, v3: bool) -> dict[str, dict]:
    name = definition_name(rt)
    schema = rt.schema if isinstance(rt.schema, dict) else {}
    kind_def: dict[str, Any] = {"description": schema.get("description") or f"{rt.kind} of {rt.group_version}.",
                                "type": "object", "properties": _crd_properties(rt, v3), GVK: [_gvk(rt)]}
    list_def = {"description": f"{rt.list_kind} is a list of {rt.kind}.", "type": "object", "required": ["items"],
                "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                               "metadata": {"$ref": kube_schemas.V2_REF + META + "ListMeta"},
                               "items": {"type": "array", "items": {"$ref": kube_schemas.V2_REF + name}}},
                GVK: [_gvk(rt, rt.list_kind)]}
    return {name: kind_def, name + "List": list_def}


def definitions(types: list[ResourceType], v3: bool) -> dict[str, dict]:
    """The definitions a document of ``types`` needs: official ones (and what they refer to), CRD kinds'."""
    wanted = list(_SHARED)
    for rt in types:
        if not rt.is_crd and kube_schemas.definition_name(rt.group, rt.version, rt.kind):
            name = definition_name(rt)
            wanted += [name, name + "List"]
    defs = {name: kube_schemas.definition(name) or {} for name in kube_schemas.closure(wanted)}
    for rt in types:
        if rt.is_crd or not kube_schemas.definition_name(rt.group, rt.version, rt.kind):
            defs.update(_crd_definitions(rt, v3))
    return defs
