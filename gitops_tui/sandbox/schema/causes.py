"""Field errors (422 StatusCauses) worded as apimachinery's field.Error prints them, Go values and all."""

from __future__ import annotations

import json
from typing import Any


def go_repr(value: Any) -> str:
    """``value`` as field.Error shows a bad value: %v for numbers and bools, %q for strings, %#v else."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return _go_syntax(value)


def _go_syntax(value: Any) -> str:
    """Go's %#v of the JSON-ish value (map[string]string{"a":"b"}, []string{"x"})."""
    if isinstance(value, dict):
        if all(isinstance(v, str) for v in value.values()):
            inner = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(value.items()))
            return "map[string]string{" + inner + "}"
        inner = ", ".join(f"{json.dumps(k)}:{_go_syntax(v)}" for k, v in sorted(value.items()))
        return "map[string]interface {}{" + inner + "}"
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return "[]string{" + ", ".join(json.dumps(v) for v in value) + "}"
        return "[]interface {}{" + ", ".join(_go_syntax(v) for v in value) + "}"
    if isinstance(value, str):
        return json.dumps(value)
    return go_repr(value)


def go_map_text(value: Any) -> str:
    """Go's %+v of a decoded JSON value (map[a:map[b:1]]), as a patch is quoted in an Invalid error."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_map_text(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_map_text(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def invalid(field: str, value: Any, detail: str) -> dict:
    """FieldValueInvalid: 'Invalid value: <value>: <detail>'."""
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {go_repr(value)}: {detail}", "field": field}


def required(field: str, detail: str = "") -> dict:
    """FieldValueRequired: 'Required value[: <detail>]'."""
    return {"reason": "FieldValueRequired", "message": f"Required value: {detail}" if detail else "Required value",
            "field": field}


def forbidden(field: str, detail: str) -> dict:
    """FieldValueForbidden: 'Forbidden: <detail>'."""
    return {"reason": "FieldValueForbidden", "message": f"Forbidden: {detail}", "field": field}


def duplicate(field: str, value: Any) -> dict:
    """FieldValueDuplicate: 'Duplicate value: <value>'."""
    return {"reason": "FieldValueDuplicate", "message": f"Duplicate value: {go_repr(value)}", "field": field}


def not_supported(field: str, value: Any, supported: list[str] | tuple[str, ...]) -> dict:
    """FieldValueNotSupported: 'Unsupported value: <value>: supported values: "a", "b"'."""
    detail = ", ".join(json.dumps(v) for v in supported)
    message = f"Unsupported value: {go_repr(value)}"
    if detail:
        message += f": supported values: {detail}"
    return {"reason": "FieldValueNotSupported", "message": message, "field": field}


def too_long(field: str, limit: int) -> dict:
    """FieldValueTooLong: 'Too long: must have at most <limit> bytes'."""
    return {"reason": "FieldValueTooLong", "message": f"Too long: must have at most {limit} bytes", "field": field}


def immutable(field: str, value: Any) -> dict:
    """The ValidateImmutableField error: 'Invalid value: <value>: field is immutable'."""
    return invalid(field, value, "field is immutable")
