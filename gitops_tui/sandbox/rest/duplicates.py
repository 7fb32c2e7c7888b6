"""Duplicate fields in a request body, found as kube-apiserver's strict decoders find them.

A JSON body is read by sigs.k8s.io/json's strict decoder, which reports `duplicate field "spec.paused"`;
a YAML body (and every server-side apply body, JSON text included) by go-yaml v2's UnmarshalStrict,
whose error lists `line 10: key "paused" already set in map` (the duplicate's line, counted from 1).
Only `fieldValidation` Warn (the default) and Strict look for them, as kube-apiserver does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from gitops_tui.sandbox.serving.common import ApiRequest

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAML_ERRORS = "yaml: unmarshal errors:\n  "


@dataclass
class Duplicates:
    """What a body repeats: dotted paths (a JSON body) or go-yaml's line messages (a YAML body)."""

    paths: list[str] = field(default_factory=list)
    yaml_lines: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.paths or self.yaml_lines)

    def yaml_error(self) -> str:
        """go-yaml's error text listing every duplicate key ('' when none)."""
        return YAML_ERRORS + "\n  ".join(self.yaml_lines) if self.yaml_lines else ""


class _Pairs(dict):
    """A decoded JSON object that saw some of its keys twice."""

    repeated: list[str]


def _pairs(items: list[tuple[str, Any]], found: list[bool]) -> dict[str, Any]:
    obj = dict(items)
    if len(obj) == len(items):
        return obj  # the common case, at the C decoder's speed
    found.append(True)
    repeated = _Pairs(obj)
    seen: set[str] = set()
    repeated.repeated = []
    for key, _ in items:
        if key in seen and key not in repeated.repeated:
            repeated.repeated.append(key)
        seen.add(key)
    return repeated


def _json_paths(value: Any, prefix: str, out: list[str]) -> None:
    if isinstance(value, dict):
        for key in getattr(value, "repeated", ()):
            out.append(f"{prefix}.{key}" if prefix else key)
        for key, child in value.items():
            _json_paths(child, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _json_paths(child, f"{prefix}[{index}]", out)


def _go_key(node: yaml.Node) -> str:
    """The key as go-yaml's %#v prints it: a quoted string, or a bare number or boolean."""
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith((":int", ":float", ":bool", ":null")):
        return str(node.value)
    return json.dumps(node.value if isinstance(node, yaml.ScalarNode) else str(node.value))


def _yaml_lines(node: yaml.Node, out: list[str]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[tuple[str, str]] = set()
        for key, child in node.value:
            if isinstance(key, yaml.ScalarNode):
                ident = (key.tag, key.value)
                if ident in seen:
                    out.append(f"line {key.start_mark.line + 1}: key {_go_key(key)} already set in map")
                seen.add(ident)
            _yaml_lines(child, out)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            _yaml_lines(child, out)


def find(raw: bytes, content_type: str) -> Duplicates:
    """The duplicate fields of a request body (nothing for a body that is not JSON or YAML text).

    JSON text (what kubectl and the clients send, server-side applies included) is checked by the C
    JSON decoder first; only a body that repeats a key is composed as YAML for go-yaml's line numbers.
    """
    ctype = content_type.split(";")[0].strip().lower()
    try:
        text = raw.decode("utf-8")
        paths: list[str] = []
        if text.lstrip().startswith("{"):
            found: list[bool] = []
            decoded = json.loads(text, object_pairs_hook=lambda items: _pairs(items, found))
            if found:
                _json_paths(decoded, "", paths)
            if "yaml" not in ctype or not paths:
                return Duplicates(paths=[] if "yaml" in ctype else paths)
        elif "yaml" not in ctype:
            return Duplicates()
        lines: list[str] = []
        root = yaml.compose(text, Loader=_LOADER)  # noqa: S506 - composing nodes runs no constructor
        if root is not None:
            _yaml_lines(root, lines)
        return Duplicates(yaml_lines=lines)
    except (ValueError, yaml.YAMLError, RecursionError):
        pass  # the body's own decoding already answered for a malformed body
    return Duplicates()


def of_request(req: ApiRequest, content_type: str = "") -> Duplicates:
    """The body's duplicate fields when ``fieldValidation`` looks for them (Warn, the default, and Strict)."""
    if req.query.get("fieldValidation") == "Ignore":
        return Duplicates()
    return find(req.body, content_type or req.header("Content-Type"))
