"""Object validation as kube-apiserver does it (metadata, per-kind rules, immutable fields), as 422 causes."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.schema import immutable
from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.schema.causes import forbidden as forbidden_cause
from gitops_tui.sandbox.schema.causes import go_repr
from gitops_tui.sandbox.schema.causes import invalid as invalid_cause
from gitops_tui.sandbox.schema.causes import required as required_cause
from gitops_tui.sandbox.schema.crd_schema import structural_errors
from gitops_tui.sandbox.schema.names import (
    LABEL,
    LABEL_MSG,
    dns_errors,
    label_map_errors,
    name_errors,
    qualified_name_errors,
)
from gitops_tui.sandbox.schema.rules_kinds import KIND_RULES
from gitops_tui.util.fields import dict_field

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def _validate_annotations(annotations: Any, field: str) -> list[dict]:
    if annotations is None:
        return []
    if not isinstance(annotations, dict):
        return [invalid_cause(field, annotations, "must be a map of string keys to string values")]
    causes = []
    total = 0
    for key, value in annotations.items():
        for msg in qualified_name_errors(str(key).lower()):
            causes.append(invalid_cause(field, key, msg))
        total += len(str(key)) + len(str(value))
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append({"reason": "FieldValueTooLong", "field": field,
                       "message": f"Too long: must have at most {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"})
    return causes


def _validate_finalizers(finalizers: Any, field: str) -> list[dict]:
    if not finalizers:
        return []
    if not isinstance(finalizers, list):
        return [invalid_cause(field, finalizers, "must be a list of strings")]
    causes = []
    for i, item in enumerate(finalizers):
        text = str(item)
        for msg in qualified_name_errors(text):
            causes.append(invalid_cause(f"{field}[{i}]", item, msg))
    return causes


def validate_metadata(rt: ResourceType, obj: dict) -> list[dict]:
    """Causes for problems in ``obj['metadata']`` for a type ``rt``."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return [required_cause("metadata.name", "name or generateName is required")]
    causes: list[dict] = []
    name = meta.get("name") or ""
    generate = meta.get("generateName") or ""
    if not isinstance(name, str):
        causes.append(invalid_cause("metadata.name", name, "must be a string"))
    elif name:
        causes += [invalid_cause("metadata.name", name, m) for m in name_errors(rt, name)]
    elif not generate:
        causes.append(required_cause("metadata.name", "name or generateName is required"))
    if generate and isinstance(generate, str):
        causes += [invalid_cause("metadata.generateName", generate, m) for m in name_errors(rt, generate, True)]
    namespace = meta.get("namespace") or ""
    if rt.namespaced:
        if not namespace:
            causes.append(required_cause("metadata.namespace"))
        elif isinstance(namespace, str):
            causes += [invalid_cause("metadata.namespace", namespace, m)
                       for m in dns_errors(namespace, LABEL, LABEL_MSG, 63, False)]
    elif namespace:
        causes.append(forbidden_cause("metadata.namespace", "not allowed on this type"))
    causes += label_map_errors(meta.get("labels"), "metadata.labels")
    causes += _validate_annotations(meta.get("annotations"), "metadata.annotations")
    causes += _validate_finalizers(meta.get("finalizers"), "metadata.finalizers")
    return causes


def _validate_crd(obj: dict) -> list[dict]:
    spec = dict_field(obj, "spec")
    names = dict_field(spec, "names")
    group = spec.get("group") or ""
    plural = names.get("plural") or ""
    causes: list[dict] = []
    if not group:
        causes.append(required_cause("spec.group"))
    elif "." not in group:
        causes.append(invalid_cause("spec.group", group, "should be a domain with at least one dot"))
    if not plural:
        causes.append(required_cause("spec.names.plural"))
    if not names.get("kind"):
        causes.append(required_cause("spec.names.kind"))
    name = (obj.get("metadata") or {}).get("name") or ""
    if name and group and plural and name != f"{plural}.{group}":
        causes.append(invalid_cause("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    scope = spec.get("scope")
    if scope not in ("Namespaced", "Cluster"):
        if scope:
            causes.append({"reason": "FieldValueNotSupported", "field": "spec.scope",
                           "message": f'Unsupported value: {go_repr(scope)}: supported values: "Cluster", "Namespaced"'})
        else:
            causes.append(required_cause("spec.scope"))
    versions = spec.get("versions")
    if not versions or not isinstance(versions, list):
        causes.append(invalid_cause("spec.versions", versions or [], "must have exactly one version marked as "
                                    "storage version"))
        return causes
    storage = [v for v in versions if isinstance(v, dict) and v.get("storage")]
    if len(storage) != 1:
        causes.append(invalid_cause("spec.versions", versions, "must have exactly one version marked as storage "
                                    "version"))
    seen: set[str] = set()
    for i, ver in enumerate(versions):
        if not isinstance(ver, dict):
            continue
        vname = ver.get("name") or ""
        if not vname:
            causes.append(required_cause(f"spec.versions[{i}].name"))
        elif vname in seen:
            causes.append({"reason": "FieldValueDuplicate", "field": f"spec.versions[{i}].name",
                           "message": f"Duplicate value: {go_repr(vname)}"})
        seen.add(vname)
        schema = (ver.get("schema") or {}).get("openAPIV3Schema")
        if not schema:
            causes.append(required_cause(f"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required"))
        else:
            causes += structural_errors(schema, f"spec.versions[{i}].schema.openAPIV3Schema")
    return causes


def validate(rt: ResourceType, obj: dict, old: dict | None = None, missing: list[str] | None = None) -> list[dict]:
    """Return the 422 causes for ``obj`` of type ``rt`` (an empty list when valid).

    ``old`` is the live object of an update (for immutable fields); ``missing`` the paths of required
    fields its schema found absent.
    """
    if not isinstance(obj, dict):
        return [invalid_cause("", obj, "must be an object")]
    causes = validate_metadata(rt, obj)
    if not rt.is_crd:
        if rt.group == "apiextensions.k8s.io" and rt.kind == "CustomResourceDefinition":
            causes += _validate_crd(obj)
        rule = KIND_RULES.get((rt.group, rt.kind))
        if rule is not None:
            causes += rule(obj)
        if old is not None:
            causes += immutable.update_errors(rt.group, rt.kind, obj, old)
    named = {cause.get("field") for cause in causes}  # a rule's own wording wins over the schema's
    causes += [required_cause(path) for path in missing or () if path not in named]
    return _unique(causes)


def _unique(causes: list[dict]) -> list[dict]:
    """Causes without repeats (field.ErrorList.ToAggregate drops identical messages)."""
    seen: set[tuple] = set()
    out = []
    for cause in causes:
        key = (cause.get("field"), cause.get("message"))
        if key not in seen:
            seen.add(key)
            out.append(cause)
    return out
