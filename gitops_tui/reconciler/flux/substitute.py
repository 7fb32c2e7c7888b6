"""Flux's post-build variable substitution (kustomize-controller ``postBuild``, fluxcd/pkg envsubst rules).

Only ``${...}`` is substituted; ``$var`` stays as written and ``$$`` gives ``$`` (so ``$${var}`` gives
``${var}``). An undefined variable gives "" unless a default is written (``${var:=default}``). Objects
labelled or annotated ``kustomize.toolkit.fluxcd.io/substitute: disabled`` are left alone.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from gitops_tui.kube.limits import Budget, display, load_documents

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


def substitute_text(text: str, variables: dict[str, str], budget: Budget | None = None, where: str = "the object") -> str:
    """Replace every ``${...}`` in ``text`` by Flux's rules; raise SubstituteError on a malformed expression.

    Every piece of output is counted against ``budget`` (kube.limits) before it is added, so a large variable
    substituted many times is refused (LimitExceeded) at the first byte over the limit, never built whole.
    """
    budget = budget if budget is not None else Budget()
    out: list[str] = []
    size = 0

    def emit(piece: str) -> None:
        nonlocal size
        if piece:
            size += len(piece)
            budget.spend(len(piece), size, where)
            out.append(piece)

    index = 0
    length = len(text)
    while index < length:
        dollar = text.find("$", index)
        if dollar < 0 or dollar + 1 >= length:
            emit(text[index:])
            break
        emit(text[index:dollar])
        following = text[dollar + 1]
        if following == "$":
            emit("$")
            index = dollar + 2
            continue
        if following != "{":
            emit("$")
            index = dollar + 1
            continue
        end = text.find("}", dollar + 2)
        if end < 0:
            raise SubstituteError(f"unclosed substitution: {text[dollar:dollar + 40]!r}")
        match = _EXPRESSION.match(text[dollar + 2:end])
        if not match:
            raise SubstituteError(f"bad substitution: {text[dollar:end + 1]!r}")
        count, name, op = match.groups()
        value = variables.get(name)
        if count:
            if op:
                raise SubstituteError(f"bad substitution: {text[dollar:end + 1]!r}")
            emit(str(len(value or "")))
        else:
            emit(_apply(op, name, value))
        index = end + 1
    return "".join(out)


def disabled(obj: dict[str, Any]) -> bool:
    """True when the object opts out of substitution (label or annotation ``...substitute: disabled``)."""
    meta = obj.get("metadata") or {}
    return any((meta.get(field) or {}).get(DISABLE_KEY) == "disabled" for field in ("labels", "annotations"))


def substitute_object(obj: dict[str, Any], variables: dict[str, str], budget: Budget | None = None,
                      where: str = "") -> dict[str, Any]:
    """The object after substitution in its YAML form (as Flux does: a ``${n}`` that becomes ``3`` is a number).

    The text is read back with the bounded loader (kube.limits), so an alias bomb carried in a variable counts its
    expanded nodes like one written in a file; LimitExceeded when the object or the revision grows too big.
    """
    if disabled(obj):
        return obj
    text = yaml.safe_dump(obj, sort_keys=False, width=2 ** 20)
    if "${" not in text and "$$" not in text:
        return obj
    where = where or display(obj)
    try:
        documents = load_documents(substitute_text(text, variables, budget, where), where)
    except yaml.YAMLError:
        raise SubstituteError(f"{where} is no longer valid YAML once its variables are substituted") from None
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise SubstituteError(f"substitution did not leave {where} one object")
    return documents[0]
