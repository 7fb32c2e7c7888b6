"""Whether a CRD's openAPIV3Schema is structural, as apiextensions-apiserver requires of v1 CRDs."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.schema import causes as c
from gitops_tui.sandbox.schema.structural import EMBEDDED, INT_OR_STRING, PRESERVE


def _node_errors(schema: Any, where: str, role: str) -> list[dict]:
    if not isinstance(schema, dict):
        return [c.invalid(where, schema, "must be a schema object")]
    out: list[dict] = []
    kind = schema.get("type")
    if schema.get(INT_OR_STRING):
        if kind:
            out.append(c.invalid(f"{where}.type", kind, "must be empty if x-kubernetes-int-or-string is true"))
    elif not kind and not (schema.get(PRESERVE) and role != "root"):
        detail = {"root": "must not be empty at the root", "items": "must not be empty for specified array items",
                  }.get(role, "must not be empty for specified object fields")
        out.append(c.required(f"{where}.type", detail))
    if role == "root" and kind and kind != "object":
        out.append(c.invalid(f"{where}.type", kind, "must be object at the root"))
    if schema.get(EMBEDDED) and kind != "object":
        out.append(c.invalid(f"{where}.type", kind or "", "must be object if x-kubernetes-embedded-resource is true"))
    if PRESERVE in schema and schema[PRESERVE] is not True:
        out.append(c.invalid(f"{where}.{PRESERVE}", schema[PRESERVE], "must be true or undefined"))
    if schema.get("properties") and schema.get("additionalProperties") not in (None, False):
        out.append(c.forbidden(f"{where}.additionalProperties",
                               "additionalProperties and properties are mutual exclusive"))
    for name, sub in (schema.get("properties") or {}).items():
        out += _node_errors(sub, f"{where}.properties[{name}]", "property")
    if "items" in schema:
        out += _node_errors(schema["items"], f"{where}.items", "items")
    if isinstance(schema.get("additionalProperties"), dict):
        out += _node_errors(schema["additionalProperties"], f"{where}.additionalProperties", "property")
    return out


def structural_errors(schema: Any, where: str) -> list[dict]:
    """The causes that make ``schema`` (a version's openAPIV3Schema at ``where``) not structural."""
    return _node_errors(schema, where, "root")
