"""What a walk of an object against its kind's types found, worded as Go's decoder and structured-merge-diff word it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_tui.sandbox.schema.causes import go_map_text
from gitops_tui.sandbox.schema.paths import Path


@dataclass
class TypeProblem:
    """A value the Go decoder cannot put in its field."""

    path: Path
    struct: str          # Go struct holding the field ('DeploymentSpec')
    got: str             # JSON kind as Go names it ('string', 'number 1.5')
    go_type: str         # Go type of the field ('int32')
    expected: str        # what structured-merge-diff says it expected ('numeric (int or float)')
    message: str = ""    # a custom unmarshaller's own message (quantity, time, base64)

    def go_message(self) -> str:
        """The error Go's json package (or the type's UnmarshalJSON) returns."""
        if self.message:
            return self.message
        where = f"{self.struct}.{self.path.go_path()}" if self.struct else self.path.go_path()
        return f"json: cannot unmarshal {self.got} into Go struct field {where} of type {self.go_type}"

    def smd_message(self, value: Any) -> str:
        """The error server-side apply's typed conversion returns for ``value`` (structured-merge-diff's words)."""
        if self.message:
            return f"{self.path.smd_path()}: {self.message}"
        if self.expected == "numeric (int or float)":
            got = _GO_TYPES.get(type(value), "map[string]interface {}")
        elif self.expected == "string":
            got = f"&value.valueUnstructured{{Value:{_go_value(value)}}}"
        else:
            got = _go_value(value)
        return f"{self.path.smd_path()}: expected {self.expected}, got {got}"


_GO_TYPES = {str: "string", bool: "bool", int: "int64", float: "float64", list: "[]interface {}"}


def _go_value(value: Any) -> str:
    """A decoded YAML value as Go's %v prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, dict)):
        return go_map_text(value)
    return str(value)


@dataclass
class Findings:
    """What one walk found."""

    problems: list[TypeProblem] = field(default_factory=list)
    unknown: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)


def json_kind(value: Any) -> str:
    """A JSON value's kind as Go's json package names it in its errors."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
