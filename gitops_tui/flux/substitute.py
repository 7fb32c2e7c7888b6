"""Flux's post-build variable substitution (kustomize-controller ``postBuild``, fluxcd/pkg envsubst rules).

Only ``${...}`` is substituted; ``$var`` stays as written and ``$$`` gives ``$`` (so ``$${var}`` gives
``${var}``). An undefined variable gives "" unless a default is written (``${var:=default}``). Objects
labelled or annotated ``kustomize.toolkit.fluxcd.io/substitute: disabled`` are left alone.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

DISABLE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
VAR_NAME = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")
_EXPRESSION = re.compile(r"^(#)?([_a-zA-Z][_a-zA-Z0-9]*)(.*)$", re.S)


class SubstituteError(ValueError):
    """A variable name or a ``${...}`` expression Flux would refuse."""


def check_names(variables: dict[str, str], where: str) -> None:
    """Raise SubstituteError naming the first variable whose name Flux refuses (``^[_a-zA-Z][_a-zA-Z0-9]*$``)."""
    for name in variables:
        if not VAR_NAME.match(name):
            raise SubstituteError(f"variable name {name!r} from {where} is not valid: names hold letters, digits and "
                                  "underscores and do not start with a digit")


def _apply(op: str, name: str, value: str | None) -> str:
    """The value of ``${name<op>}``: defaults, substrings, replacements, case and affix removal."""
    text = value or ""
    if not op:
        return text
    for marker, when_empty in ((":=", True), (":-", True), ("=", False), ("-", False)):
        if op.startswith(marker):
            default = op[len(marker):]
            return default if (value is None or (when_empty and value == "")) else text
    if op.startswith("//") or op.startswith("/"):
        global_ = op.startswith("//")
        pattern, _, replacement = op[2 if global_ else 1:].partition("/")
        return text.replace(pattern, replacement) if global_ else text.replace(pattern, replacement, 1)
    match = re.fullmatch(r":(-?\d+)(?::(\d+))?", op)
    if match:
        start = int(match.group(1))
        part = text[start:] if start >= 0 else text[len(text) + start:]
        return part[:int(match.group(2))] if match.group(2) is not None else part
    cases = {"^^": text.upper(), ",,": text.lower(), "^": text[:1].upper() + text[1:], ",": text[:1].lower() + text[1:]}
    if op in cases:
        return cases[op]
    for marker in ("##", "#", "%%", "%"):
        if op.startswith(marker):
            affix = op[len(marker):]
            if marker.startswith("#"):
                return text[len(affix):] if affix and text.startswith(affix) else text
            return text[:-len(affix)] if affix and text.endswith(affix) else text
    raise SubstituteError(f"bad substitution: ${{{name}{op}}}")


def substitute_text(text: str, variables: dict[str, str]) -> str:
    """Replace every ``${...}`` in ``text`` by Flux's rules; raise SubstituteError on a malformed expression."""
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "$" or index + 1 >= len(text):
            out.append(char)
            index += 1
            continue
        following = text[index + 1]
        if following == "$":
            out.append("$")
            index += 2
            continue
        if following != "{":
            out.append(char)
            index += 1
            continue
        end = text.find("}", index + 2)
        if end < 0:
            raise SubstituteError(f"unclosed substitution: {text[index:index + 40]!r}")
        match = _EXPRESSION.match(text[index + 2:end])
        if not match:
            raise SubstituteError(f"bad substitution: {text[index:end + 1]!r}")
        length, name, op = match.groups()
        value = variables.get(name)
        if length:
            if op:
                raise SubstituteError(f"bad substitution: {text[index:end + 1]!r}")
            out.append(str(len(value or "")))
        else:
            out.append(_apply(op, name, value))
        index = end + 1
    return "".join(out)


def disabled(obj: dict[str, Any]) -> bool:
    """True when the object opts out of substitution (label or annotation ``...substitute: disabled``)."""
    meta = obj.get("metadata") or {}
    return any((meta.get(field) or {}).get(DISABLE_KEY) == "disabled" for field in ("labels", "annotations"))


def substitute_object(obj: dict[str, Any], variables: dict[str, str]) -> dict[str, Any]:
    """The object after substitution in its YAML form (as Flux does: a ``${n}`` that becomes ``3`` is a number)."""
    if disabled(obj):
        return obj
    text = yaml.safe_dump(obj, sort_keys=False, width=2 ** 20)
    if "${" not in text and "$$" not in text:
        return obj
    result = yaml.safe_load(substitute_text(text, variables))
    if not isinstance(result, dict):
        raise SubstituteError("substitution did not leave an object")
    return result
