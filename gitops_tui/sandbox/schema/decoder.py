"""A built-in object checked the way kube-apiserver's decoder reads it: Go types, formats, unknown fields.

Each kind's official definition is compiled once, on first use, into a tree of small checkers
(references resolved lazily, so recursive definitions cost nothing until an object goes there).
Walking an object collects what the Go decoder would stop at (a value of the wrong type, a bad
quantity, time or base64 value), the fields the schema does not declare, and the required fields
that are missing.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from typing import Any

from gitops_tui.sandbox.schema import kube_schemas
from gitops_tui.sandbox.schema.paths import ROOT, Path
from gitops_tui.sandbox.schema.type_problems import Findings, TypeProblem, json_kind

_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}
QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
QUANTITY_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


class Node:
    """A checker for one schema node."""

    go_type = "interface {}"
    expected = "any"

    def check(self, value: Any, path: Path, struct: str, out: Findings) -> None:
        """Record in ``out`` what is wrong with ``value`` at ``path`` (inside Go struct ``struct``)."""


class AnyNode(Node):
    """Anything goes (RawExtension, FieldsV1, JSON)."""


class ScalarNode(Node):
    """A string, integer, number or boolean, with its format."""

    _EXPECTED = {"string": "string", "integer": "numeric (int or float)", "number": "numeric (int or float)",
                 "boolean": "boolean"}

    def __init__(self, kind: str, fmt: str) -> None:
        self.kind = kind
        self.format = fmt
        self.expected = self._EXPECTED.get(kind, kind)
        if kind == "integer":
            self.go_type = fmt if fmt in _INT_RANGES else "int64"
        elif kind == "number":
            self.go_type = "float64"
        elif kind == "boolean":
            self.go_type = "bool"
        elif fmt == "byte":
            self.go_type = "[]uint8"
        elif fmt == "date-time":
            self.go_type = "v1.Time"
        else:
            self.go_type = "string"

    def check(self, value: Any, path: Path, struct: str, out: Findings) -> None:
        """Check the JSON type, the integer range and the string formats."""
        if value is None:
            return
        kind = self.kind
        if kind == "string":
            if not isinstance(value, str):
                out.problems.append(TypeProblem(path, struct, json_kind(value), self.go_type, self.expected))
            elif self.format == "byte":
                self._check_base64(value, path, struct, out)
            elif self.format == "date-time":
                self._check_time(value, path, struct, out)
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                out.problems.append(TypeProblem(path, struct, json_kind(value), self.go_type, self.expected))
                return
            low, high = _INT_RANGES[self.go_type]
            if isinstance(value, float) and not value.is_integer() or not low <= value <= high:
                out.problems.append(TypeProblem(path, struct, f"number {_go_number(value)}", self.go_type,
                                                self.expected))
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                out.problems.append(TypeProblem(path, struct, json_kind(value), self.go_type, self.expected))
        elif kind == "boolean" and not isinstance(value, bool):
            out.problems.append(TypeProblem(path, struct, json_kind(value), self.go_type, self.expected))

    def _check_base64(self, value: str, path: Path, struct: str, out: Findings) -> None:
        try:
            if not _BASE64.match(value):
                raise binascii.Error
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            bad = next((i for i, c in enumerate(value) if not (c.isalnum() and c.isascii()) and c not in "+/="),
                       len(value) - len(value) % 4)
            out.problems.append(TypeProblem(path, struct, "string", self.go_type, self.expected,
                                            f"illegal base64 data at input byte {bad}"))

    def _check_time(self, value: str, path: Path, struct: str, out: Findings) -> None:
        try:
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            if "T" not in value:
                raise ValueError
        except ValueError:
            out.problems.append(TypeProblem(path, struct, "string", self.go_type, self.expected,
                                            f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": '
                                            f'cannot parse "{value}" as "2006"'))


def _go_number(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value).replace("e+", "e+").replace("inf", "+Inf")


class QuantityNode(Node):
    """resource.Quantity: a string or a number matching the quantity grammar."""

    go_type = "resource.Quantity"
    expected = "string"

    def check(self, value: Any, path: Path, struct: str, out: Findings) -> None:
        """Check the quantity grammar."""
        if value is None:
            return
        text = _go_number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not QUANTITY_RE.match(text):
            out.problems.append(TypeProblem(path, struct, json_kind(value), self.go_type, self.expected,
                                            QUANTITY_MESSAGE))


class IntOrStringNode(Node):
    """intstr.IntOrString: an int32 or a string."""

    go_type = "int32"
    expected = "string or numeric"

    def check(self, value: Any, path: Path, struct: str, out: Findings) -> None:
        """Check the value is a string or an int32."""
        if value is None or isinstance(value, str):
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            out.problems.append(TypeProblem(path, struct, json_kind(value), self.go_type, self.expected,
                                            f"json: cannot unmarshal {json_kind(value)} into Go value of type "
                                            "int32"))
        elif isinstance(value, float) and not value.is_integer() or not -(2**31) <= value < 2**31:
            out.problems.append(TypeProblem(path, struct, f"number {_go_number(value)}", self.go_type,
                                            self.expected, f"json: cannot unmarshal number {_go_number(value)} "
                                                           "into Go value of type int32"))


class ArrayNode(Node):
    """A list, with the server-side apply list type and keys of its items."""

    expected = "list"

    def __init__(self, items: Node, schema: dict[str, Any]) -> None:
        self.items = items
        self.keys = tuple(schema.get("x-kubernetes-list-map-keys") or ())
        self.list_type = schema.get("x-kubernetes-list-type", "")
        self.go_type = "[]" + items.go_type

    def check(self, value: Any, path: Path, struct: str, out: Findings) -> None:
        """Check each item."""
        if value is None:
            return
        if not isinstance(value, list):
            out.problems.append(TypeProblem(path, struct, json_kind(value), self.go_type, self.expected))
            return
        items = self.items
        for i, item in enumerate(value):
            items.check(item, path.index(i, item, self.keys, self.list_type), struct, out)


class MapNode(Node):
    """A map of string keys to one kind of value."""

    expected = "map"

    def __init__(self, values: Node) -> None:
        self.values = values
        self.go_type = "map[string]" + values.go_type

    def check(self, value: Any, path: Path, struct: str, out: Findings) -> None:
        """Check each value."""
        if value is None:
            return
        if not isinstance(value, dict):
            out.problems.append(TypeProblem(path, struct, json_kind(value), self.go_type, self.expected))
            return
        values = self.values
        for key, item in value.items():
            values.check(item, path.key(key), struct, out)


class ObjectNode(Node):
    """A Go struct: known properties, required ones, everything else unknown."""

    expected = "map"

    def __init__(self, name: str) -> None:
        self.struct = name.rsplit(".", 1)[-1]
        package = name.rsplit(".", 2)[-2] if name.count(".") >= 2 else ""
        self.go_type = f"{package}.{self.struct}" if package else self.struct
        self.properties: dict[str, Node] = {}
        self.required: tuple[str, ...] = ()

    def check(self, value: Any, path: Path, struct: str, out: Findings) -> None:
        """Check each known field; record unknown fields and missing required ones."""
        if value is None:
            return
        if not isinstance(value, dict):
            out.problems.append(TypeProblem(path, struct, json_kind(value), self.go_type, self.expected))
            return
        props = self.properties
        mine = self.struct
        for key, item in value.items():
            node = props.get(key)
            if node is None:
                out.unknown.append(path.field(key))
            else:
                node.check(item, path.field(key), mine, out)
        for key in self.required:
            if value.get(key) is None:
                out.missing.append(path.field(key))


class RefNode(Node):
    """A reference to a definition, compiled on first use."""

    def __init__(self, compiler: Compiler, name: str) -> None:
        self.compiler = compiler
        self.name = name
        self.target: Node | None = None

    def check(self, value: Any, path: Path, struct: str, out: Findings) -> None:
        """Check with the referenced definition."""
        target = self.target
        if target is None:
            target = self.target = self.compiler.definition(self.name)
        target.check(value, path, struct, out)

    @property
    def go_type(self) -> str:  # type: ignore[override]
        """The referenced definition's Go type."""
        if self.target is None:
            self.target = self.compiler.definition(self.name)
        return self.target.go_type

    @property
    def expected(self) -> str:  # type: ignore[override]
        """What the referenced definition expects."""
        if self.target is None:
            self.target = self.compiler.definition(self.name)
        return self.target.expected


class Compiler:
    """Compiles definitions into checkers, each once (thread-safe enough: a race compiles twice)."""

    def __init__(self) -> None:
        self.compiled: dict[str, Node] = {}

    def definition(self, name: str) -> Node:
        """The checker of one named definition."""
        node = self.compiled.get(name)
        if node is None:
            node = self._compile_definition(name)
        return node

    def _compile_definition(self, name: str) -> Node:
        schema = kube_schemas.definition(name) or {}
        if name == kube_schemas.QUANTITY:
            node: Node = QuantityNode()
        elif name == kube_schemas.INT_OR_STRING:
            node = IntOrStringNode()
        elif isinstance(schema.get("properties"), dict):
            obj = ObjectNode(name)
            self.compiled[name] = obj  # before the properties: definitions may refer to themselves
            obj.properties = {key: self.node(sub) for key, sub in schema["properties"].items()}
            obj.required = tuple(key for key in schema.get("required") or ()
                                 if (schema["properties"].get(key) or {}).get("type") != "integer")
            return obj
        else:
            node = self.node(schema)
        self.compiled[name] = node
        return node

    def node(self, schema: dict[str, Any]) -> Node:
        """The checker of an inline schema."""
        target = kube_schemas.ref_name(schema)
        if target is not None:
            return RefNode(self, target)
        kind = schema.get("type")
        if kind == "array":
            return ArrayNode(self.node(schema.get("items") or {}), schema)
        if kind == "object" or kind is None and "additionalProperties" in schema:
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                return MapNode(self.node(extra))
            return AnyNode()
        if kind in ("string", "integer", "number", "boolean"):
            return ScalarNode(kind, schema.get("format", ""))
        return AnyNode()


_COMPILER: Compiler | None = None
_KINDS: dict[tuple[str, str, str], Node | None] = {}


def kind_checker(group: str, version: str, kind: str) -> Node | None:
    """The compiled checker of a built-in kind (None when the release has no definition for it)."""
    global _COMPILER
    key = (group, version, kind)
    if key in _KINDS:
        return _KINDS[key]
    if _COMPILER is None:
        _COMPILER = Compiler()
    name = kube_schemas.definition_name(group, version, kind)
    checker = _COMPILER.definition(name) if name else None
    _KINDS[key] = checker
    return checker


def inspect(group: str, version: str, kind: str, obj: dict[str, Any]) -> Findings | None:
    """Walk ``obj`` with its kind's checker; None when the kind has no official schema."""
    checker = kind_checker(group, version, kind)
    if checker is None:
        return None
    out = Findings()
    checker.check(obj, ROOT, "", out)
    return out
