"""Custom resources against their CRD's structural schema, as apiextensions-apiserver treats them.

Unknown fields (for pruning, or refusal under fieldValidation=Strict), defaults, and the value
checks of kube-openapi's validator (type, format, enum, bounds, pattern, lengths, required, items),
worded as kube-apiserver words them.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from gitops_tui.sandbox.apply.fieldsets import copy_json
from gitops_tui.sandbox.schema import causes as c
from gitops_tui.sandbox.schema.paths import ROOT, Path
from gitops_tui.sandbox.schema.type_problems import Findings

PRESERVE = "x-kubernetes-preserve-unknown-fields"
EMBEDDED = "x-kubernetes-embedded-resource"
INT_OR_STRING = "x-kubernetes-int-or-string"
_OBJECT_META = frozenset({
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
    "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
    "ownerReferences", "finalizers", "managedFields",
})
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


def _props(schema: dict) -> dict:
    props = schema.get("properties")
    return props if isinstance(props, dict) else {}


# ---- unknown fields -------------------------------------------------------------------------------

def _unknown(value: Any, schema: Any, path: Path, out: list[Path], root: bool = False) -> None:
    if not isinstance(schema, dict) or schema.get(PRESERVE):
        if isinstance(value, dict) and (root or isinstance(schema, dict) and schema.get(EMBEDDED)):
            _unknown_meta(value, path, out)
        return
    if isinstance(value, dict):
        props = _props(schema)
        extra = schema.get("additionalProperties")
        embedded = root or schema.get(EMBEDDED)
        for key, sub in value.items():
            if embedded and key in ("apiVersion", "kind"):
                continue
            if embedded and key == "metadata":
                _unknown_meta(value, path, out)
            elif key in props:
                _unknown(sub, props[key], path.field(key), out)
            elif isinstance(extra, dict):
                _unknown(sub, extra, path.key(key), out)
            elif extra is not True:
                out.append(path.field(key))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _unknown(item, schema["items"], path.index(i, item), out)


def _unknown_meta(value: dict, path: Path, out: list[Path]) -> None:
    meta = value.get("metadata")
    if isinstance(meta, dict):
        out.extend(path.field("metadata").field(k) for k in meta if k not in _OBJECT_META)


def unknown_findings(schema: Any, obj: dict[str, Any]) -> Findings:
    """The fields of a custom resource its schema does not declare (pruned, or refused when Strict)."""
    out = Findings()
    _unknown(obj, schema if isinstance(schema, dict) else {PRESERVE: True}, ROOT, out.unknown, root=True)
    return out


_SMD_EXPECTED = {"integer": "numeric (int or float)", "number": "numeric (int or float)", "string": "string",
                 "boolean": "boolean", "object": "map", "array": "list"}


def _typed(value: Any, schema: Any, path: Path, out: list[str]) -> None:
    if not isinstance(schema, dict) or value is None or schema.get(INT_OR_STRING):
        return
    kind = schema.get("type")
    if kind and not _matches_type(value, kind):
        got = {"integer": "number", "number": "number", "boolean": "bool", "array": "list", "object": "map"}.get(
            _type_of(value), _type_of(value))
        out.append(f"{path.smd_path()}: expected {_SMD_EXPECTED.get(kind, kind)}, got {got}")
        return
    if isinstance(value, dict):
        props, extra = _props(schema), schema.get("additionalProperties")
        for key, sub in value.items():
            if key in props:
                _typed(sub, props[key], path.field(key), out)
            elif isinstance(extra, dict):
                _typed(sub, extra, path.key(key), out)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _typed(item, schema["items"], path.index(i, item), out)


def typed_conversion_errors(schema: Any, obj: dict[str, Any]) -> list[str]:
    """What server-side apply's typed conversion of a custom resource refuses (values of the wrong type)."""
    out: list[str] = []
    if isinstance(schema, dict):
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
        _typed(body, schema, ROOT, out)
    return out


# ---- defaults -------------------------------------------------------------------------------------

def apply_defaults(schema: Any, value: Any) -> None:
    """Fill ``default`` values of absent properties, in place, depth first (as the CRD defaulter does)."""
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        for key, sub in _props(schema).items():
            if key not in value and isinstance(sub, dict) and "default" in sub:
                value[key] = copy_json(sub["default"])
            if key in value:
                apply_defaults(sub, value[key])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for item in value.values():
                apply_defaults(extra, item)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            apply_defaults(schema["items"], item)


# ---- values ---------------------------------------------------------------------------------------

def _type_of(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return "integer"
    return _JSON_TYPES.get(type(value), "object")


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _type_error(where: str, value: Any, expected: str) -> dict:
    got = "null" if value is None else _type_of(value) if _type_of(value) != "integer" else "number"
    detail = f"{where} in body must be of type {expected}: {json.dumps(_shown(value))}"
    return {"reason": "FieldValueTypeInvalid", "field": where, "message": f'Invalid value: "{got}": {detail}'}


def _matches_type(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or isinstance(value, float) and value.is_integer()
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


def _format_ok(value: str, fmt: str) -> bool:
    if fmt == "date-time":
        try:
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return "T" in value
        except ValueError:
            return False
    if fmt == "date":
        try:
            datetime.date.fromisoformat(value)
            return True
        except ValueError:
            return False
    if fmt == "byte":
        return re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", value) is not None and len(value) % 4 == 0
    return True


def _bounds(value: float, schema: dict, where: str) -> list[dict]:
    out = []
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None:
        if schema.get("exclusiveMinimum") and value <= low:
            out.append(c.invalid(where, value, f"{where} in body should be greater than {_num(low)}"))
        elif value < low:
            out.append(c.invalid(where, value, f"{where} in body should be greater than or equal to {_num(low)}"))
    if high is not None:
        if schema.get("exclusiveMaximum") and value >= high:
            out.append(c.invalid(where, value, f"{where} in body should be less than {_num(high)}"))
        elif value > high:
            out.append(c.invalid(where, value, f"{where} in body should be less than or equal to {_num(high)}"))
    step = schema.get("multipleOf")
    if step and (value / step) != int(value / step):
        out.append(c.invalid(where, value, f"{where} in body should be a multiple of {_num(step)}"))
    return out


def _num(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _string(value: str, schema: dict, where: str) -> list[dict]:
    out = []
    longest, shortest = schema.get("maxLength"), schema.get("minLength")
    if longest is not None and len(value) > longest:
        out.append({"reason": "FieldValueTooLong", "field": where,
                    "message": f"Too long: may not be longer than {longest}"})
    if shortest is not None and len(value) < shortest:
        out.append(c.invalid(where, value, f"{where} in body should be at least {shortest} chars long"))
    pattern = schema.get("pattern")
    if pattern and not re.search(pattern, value):
        out.append(c.invalid(where, value, f"{where} in body should match '{pattern}'"))
    fmt = schema.get("format")
    if fmt and not _format_ok(value, fmt):
        out.append(c.invalid(where, value, f"{where} in body must be of type {fmt}: {json.dumps(value)}"))
    return out


def _validate(value: Any, schema: Any, where: str, out: list[dict]) -> None:
    if not isinstance(schema, dict):
        return
    if value is None:
        if not schema.get("nullable") and schema.get("type"):
            out.append(_type_error(where, value, schema["type"]))
        return
    if schema.get(INT_OR_STRING):
        if not (isinstance(value, str) or _matches_type(value, "integer")):
            out.append(_type_error(where, value, "integer,string"))
            return
    else:
        kind = schema.get("type")
        if kind and not _matches_type(value, kind):
            out.append(_type_error(where, value, kind))
            return
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        out.append(c.not_supported(where, value, [_shown(v) for v in enum]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        out.extend(_bounds(value, schema, where))
    elif isinstance(value, str):
        out.extend(_string(value, schema, where))
    elif isinstance(value, list):
        _array(value, schema, where, out)
    elif isinstance(value, dict):
        _object(value, schema, where, out)


def _array(value: list, schema: dict, where: str, out: list[dict]) -> None:
    most, least = schema.get("maxItems"), schema.get("minItems")
    if most is not None and len(value) > most:
        out.append({"reason": "FieldValueTooMany", "field": where,
                    "message": f"Too many: {len(value)}: must have at most {most} items"})
    if least is not None and len(value) < least:
        out.append(c.invalid(where, len(value), f"{where} in body should have at least {least} items"))
    if schema.get("uniqueItems") and len({json.dumps(v, sort_keys=True) for v in value}) != len(value):
        out.append(c.duplicate(where, value))
    items = schema.get("items")
    if isinstance(items, dict):
        for i, item in enumerate(value):
            _validate(item, items, f"{where}[{i}]", out)


def _object(value: dict, schema: dict, where: str, out: list[dict]) -> None:
    prefix = f"{where}." if where else ""
    for key in schema.get("required") or ():
        if key not in value:
            out.append(c.required(prefix + key))
    most, least = schema.get("maxProperties"), schema.get("minProperties")
    if most is not None and len(value) > most:
        out.append({"reason": "FieldValueTooMany", "field": where,
                    "message": f"Too many: {len(value)}: must have at most {most} items"})
    if least is not None and len(value) < least:
        out.append(c.invalid(where, len(value), f"{where} in body should have at least {least} properties"))
    props = _props(schema)
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if key in props:
            _validate(item, props[key], prefix + key, out)
        elif isinstance(extra, dict):
            _validate(item, extra, f"{where}[{key}]" if where else key, out)
    if schema.get(EMBEDDED):
        for key in ("apiVersion", "kind"):
            if not value.get(key):
                out.append(c.required(prefix + key, "must not be empty"))


def validate(schema: Any, obj: dict[str, Any]) -> list[dict]:
    """The 422 causes of a custom resource that breaks its schema (metadata is checked elsewhere)."""
    if not isinstance(schema, dict):
        return []
    out: list[dict] = []
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    root = {**schema, "properties": {k: v for k, v in _props(schema).items()
                                     if k not in ("apiVersion", "kind", "metadata")}}
    _object(body, root, "", out)
    return out
