"""Request details: label and field selectors, body decoding and Accept negotiation."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from gitops_tui.sandbox.serving.errors import ApiError, bad_request

_REQ = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9._/-]+)\s*"
    r"(?:(?P<op>==|=|!=|\s+in\s+|\s+notin\s+)\s*(?P<val>\(.*\)|[^,()]*))?\s*$"
)


@dataclass(frozen=True)
class Requirement:
    """One label selector requirement."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """Return whether ``labels`` satisfy this requirement."""
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op == "=":
            return present and value == self.values[0]
        if self.op == "!=":
            return not present or value != self.values[0]
        if self.op == "in":
            return present and value in self.values
        return not present or value not in self.values  # notin


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def parse_label_selector(text: str | None) -> list[Requirement]:
    """Parse a label selector string; 400 BadRequest when it is malformed."""
    if not text:
        return []
    result = []
    for part in _split_top(text):
        m = _REQ.match(part)
        if not m:
            raise bad_request(f"unable to parse requirement: {part.strip()!r}")
        key, op, val = m.group("key"), (m.group("op") or "").strip(), m.group("val")
        if m.group("neg"):
            if op:
                raise bad_request(f"unable to parse requirement: {part.strip()!r}")
            result.append(Requirement(key, "!"))
        elif not op:
            result.append(Requirement(key, "exists"))
        elif op in ("in", "notin"):
            if not (val or "").startswith("("):
                raise bad_request(f"unable to parse requirement: {part.strip()!r}")
            values = tuple(v.strip() for v in val.strip()[1:-1].split(",") if v.strip())
            result.append(Requirement(key, op, values))
        else:
            result.append(Requirement(key, "=" if op in ("=", "==") else "!=", ((val or "").strip(),)))
    return result


def labels_match(requirements: list[Requirement], obj: dict[str, Any]) -> bool:
    """Return whether ``obj``'s labels satisfy every requirement."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(r.matches(labels) for r in requirements)


def parse_field_selector(text: str | None) -> list[tuple[str, str, str]]:
    """Parse a field selector into (path, op, value) triples; 400 when malformed."""
    if not text:
        return []
    result = []
    for part in text.split(","):
        if not part.strip():
            continue
        m = re.match(r"^\s*([A-Za-z0-9._-]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise bad_request(f"invalid selector: {part!r}; can't understand {part!r}")
        result.append((m.group(1), "!=" if m.group(2) == "!=" else "=", m.group(3)))
    return result


def _field_value(obj: dict[str, Any], path: str) -> str:
    current: Any = obj
    for key in path.split("."):
        if not isinstance(current, dict):
            return ""
        current = current.get(key)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    return str(current)


def fields_match(selectors: list[tuple[str, str, str]], obj: dict[str, Any]) -> bool:
    """Return whether ``obj`` satisfies every field selector term."""
    for path, op, value in selectors:
        actual = _field_value(obj, path)
        if (actual == value) != (op == "="):
            return False
    return True


def decode_body(raw: bytes, content_type: str, *, want_list: bool = False) -> Any:
    """Decode a JSON or YAML request body; 400 BadRequest on malformed input."""
    if not raw.strip():
        raise bad_request("the request body is empty")
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/vnd.kubernetes.protobuf":
        from gitops_tui.sandbox.serving.protobuf import decode_protobuf

        return decode_protobuf(raw)
    if "protobuf" in ctype or "cbor" in ctype:
        raise ApiError(
            415,
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json, application/yaml",
            "UnsupportedMediaType",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request("the request body is not valid UTF-8") from exc
    kind = "YAML" if "yaml" in ctype else "JSON"
    try:
        if "yaml" in ctype:
            value = _yaml_value(text)
        else:
            value = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError:
        raise bad_request(f"the request body is not valid {kind}: nesting deeper than {MAX_DEPTH} levels") from None
    except (ValueError, yaml.YAMLError) as exc:
        raise bad_request(f"the request body is not valid {kind}: {_short(exc)}") from exc
    check_value(value, kind)
    expected = list if want_list else dict
    if not isinstance(value, expected):
        raise bad_request(
            f"the request body must be a {'JSON array' if want_list else 'JSON/YAML object'}"
        )
    return value


def _yaml_value(text: str) -> Any:
    """A YAML body's value; one that is JSON (what kubectl and client-go send for an apply) is read as JSON.

    JSON is YAML, and kube-apiserver converts YAML to JSON before decoding, so a JSON body means the same
    either way; the JSON decoder is the C one. Anything it does not take goes to the YAML loader as before.
    """
    if text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
        except (ValueError, RecursionError):
            pass
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


#: libyaml's loader when present: as safe, much faster, and it bounds flow nesting itself.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Deepest nesting of objects and arrays a body may have (the server's own processing recurses).
MAX_DEPTH = 200
#: Most values (objects, arrays and scalars, YAML aliases counted each time they are used) in one body.
MAX_VALUES = 1_000_000


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON value")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def check_value(value: Any, kind: str = "JSON") -> None:
    """400 BadRequest for a decoded body nested deeper than MAX_DEPTH, larger than MAX_VALUES, or holding NaN or
    an infinity (kube-apiserver cannot store them either: they would break every later read)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise bad_request(f"the request body is not valid {kind}: more than {MAX_VALUES} values")
        if isinstance(node, float) and not math.isfinite(node):
            raise bad_request(f"the request body is not valid {kind}: {node} is not a number kube-apiserver accepts")
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise bad_request(f"the request body is not valid {kind}: nesting deeper than {MAX_DEPTH} levels")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]


def wants_table(accept: str) -> bool:
    """Return whether the Accept header asks for a meta.k8s.io Table."""
    for media in accept.split(","):
        params = {p.split("=", 1)[0].strip(): p.split("=", 1)[-1].strip() for p in media.split(";")[1:]}
        if params.get("as") == "Table" and params.get("g", "meta.k8s.io") == "meta.k8s.io":
            return True
    return False


def check_acceptable(accept: str) -> None:
    """Raise 406 when the Accept header allows neither JSON nor anything else we speak."""
    if not accept.strip():
        return
    for media in accept.split(","):
        base = media.split(";")[0].strip().lower()
        if base in ("*/*", "application/*", "application/json", "application/yaml", "text/plain", ""):
            return
        if base.endswith("+json") or "protobuf" in base:
            return
    raise ApiError(406, "only the following media types are accepted: application/json", "NotAcceptable")
