"""Patch documents and apply configurations made into the new object, and the managed fields every write records."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.apply import fieldmanager, lastapplied
from gitops_tui.sandbox.apply.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.serving.common import ApiRequest, meta, now
from gitops_tui.sandbox.serving.errors import ApiError

APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = {
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/json-patch+json",
    "application/apply-patch+yaml",
}
UNSUPPORTED_PATCH = (
    "the body of the request was in an unknown format - accepted media types include: "
    + ", ".join(sorted(PATCH_TYPES))
)


def patch_type(rt: ResourceType, req: ApiRequest) -> str:
    """The request's patch media type; 415 for one kube-apiserver does not take (strategic merge on a CRD's object)."""
    ctype = req.header("Content-Type").split(";")[0].strip().lower()
    if ctype not in PATCH_TYPES:
        raise ApiError(415, UNSUPPORTED_PATCH, "UnsupportedMediaType")
    if ctype == "application/strategic-merge-patch+json" and rt.is_crd:
        raise ApiError(
            415,
            "strategic merge patch is not supported for custom resources; use a merge patch",
            "UnsupportedMediaType",
        )
    return ctype


def patched_object(rt: ResourceType, live: dict[str, Any], ctype: str, body: Any) -> dict[str, Any]:
    """``live`` with the JSON, merge or strategic-merge patch ``body`` applied; 422 when it cannot be."""
    try:
        if ctype == "application/json-patch+json":
            patched = json_patch(live, body)
        elif ctype == "application/merge-patch+json":
            patched = merge_patch(live, body)
        else:
            patched = strategic_merge_patch(live, body, rt.group_version, rt.kind)
    except PatchError as exc:
        raise ApiError(422, f"the patch could not be applied: {exc}", "Invalid") from exc
    if not isinstance(patched, dict):
        raise ApiError(422, "the patch did not produce an object", "Invalid")
    return patched


def apply_configuration(
    rt: ResourceType,
    live: dict[str, Any] | None,
    config: dict[str, Any],
    manager: str,
    force: bool,
    subresource: str = "",
) -> dict[str, Any]:
    """Server-side apply ``config`` for ``manager`` over ``live`` (None: a create); 409 on a conflict, 422 when invalid."""
    try:
        return lastapplied.apply(
            live, config, manager, force=force, now=now(),
            ignore_status=ignores_status(rt, subresource), subresource=subresource,
        )
    except fieldmanager.ApplyConflict as exc:
        raise apply_conflict(rt, meta(config).get("name", ""), exc) from None
    except (fieldmanager.ApplyError, PatchError) as exc:
        raise ApiError(422, f"the apply configuration is invalid: {exc}", "Invalid") from exc


def ignores_status(rt: ResourceType, subresource: str) -> bool:
    """Whether a write to the main resource leaves the status alone (the type has a status subresource)."""
    return "status" in rt.subresources and subresource == ""


def record_managed_fields(
    rt: ResourceType, live: dict[str, Any] | None, new: dict[str, Any], manager: str, subresource: str = ""
) -> dict[str, Any]:
    """``new`` with its managedFields updated for ``manager``'s write (update semantics, not apply)."""
    return fieldmanager.record_update(
        live, new, manager, now=now(), subresource=subresource,
        ignore_status=ignores_status(rt, subresource),
    )


def apply_conflict(rt: ResourceType, name: str, exc: fieldmanager.ApplyConflict) -> ApiError:
    """The 409 Conflict of an apply, naming the fields and their managers as kube-apiserver does."""
    details: dict[str, Any] = {"name": name, "kind": rt.plural, "causes": exc.causes()}
    if rt.group:
        details["group"] = rt.group
    return ApiError(409, str(exc), "Conflict", details)
