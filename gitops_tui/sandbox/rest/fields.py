"""Unknown-field handling for writes: drop them, or refuse them under fieldValidation=Strict."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.schema.openapi_schemas import kind_properties
from gitops_tui.sandbox.serving.errors import ApiError

OBJECT_META_FIELDS = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
    "ownerReferences", "finalizers", "managedFields",
})


def _top_level(rt: ResourceType) -> frozenset[str] | None:
    if rt.is_crd:
        schema = rt.schema if isinstance(rt.schema, dict) else {}
        if schema.get("x-kubernetes-preserve-unknown-fields") or not schema.get("properties"):
            return None
    return frozenset(kind_properties(rt, False))


def unknown_fields(rt: ResourceType, obj: dict[str, Any]) -> list[str]:
    """Return the unknown top-level and metadata field paths of ``obj`` (sorted)."""
    found: list[str] = []
    known = _top_level(rt)
    if known is not None:
        found += [key for key in obj if key not in known]
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        found += [f"metadata.{key}" for key in meta if key not in OBJECT_META_FIELDS]
    return sorted(found)


def prune_unknown(rt: ResourceType, obj: dict[str, Any], validation: str) -> dict[str, Any]:
    """Drop unknown fields from ``obj`` in place; 400 under fieldValidation=Strict."""
    unknown = unknown_fields(rt, obj)
    if not unknown:
        return obj
    if validation == "Strict":
        detail = ", ".join(f'unknown field "{path}"' for path in unknown)
        raise ApiError(400, f"{rt.kind} in version \"{rt.version}\" cannot be handled as a {rt.kind}: "
                            f"strict decoding error: {detail}", "BadRequest")
    meta = obj.get("metadata")
    for path in unknown:
        if path.startswith("metadata.") and isinstance(meta, dict):
            meta.pop(path[len("metadata."):], None)
        else:
            obj.pop(path, None)
    return obj
