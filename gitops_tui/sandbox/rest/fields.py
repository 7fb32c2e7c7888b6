"""Decode-time checks of writes, as kube-apiserver's decoders make them: types, formats, unknown fields.

``fieldValidation`` decides what an unknown field costs: Strict refuses the write, Warn (the default)
drops the field and says so in a ``Warning`` header, Ignore drops it silently. Server-side apply
converts its configuration to a typed object first, and kube-apiserver v1.32 refuses any field its
schema does not declare there whatever ``fieldValidation`` says (HTTP 500, as the real server does).
"""

from __future__ import annotations

import json
from typing import Any

from gitops_tui.sandbox.rest.duplicates import YAML_ERRORS, Duplicates
from gitops_tui.sandbox.schema import decoder, structural
from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.schema.causes import go_map_text
from gitops_tui.sandbox.schema.causes import invalid as invalid_cause
from gitops_tui.sandbox.schema.paths import INDEX, Path, value_at
from gitops_tui.sandbox.serving.errors import ApiError, bad_request, cannot_handle, internal, invalid

BODY, JSON_PATCH, STRATEGIC_PATCH = "body", "json-patch", "strategic-patch"
_DIRECTIVES = ("Ignore", "Warn", "Strict")
#: Turned off only by the benchmark, to measure validation's cost against a baseline.
ENABLED = True


def directive(query: dict[str, str]) -> str:
    """The request's fieldValidation (Warn when absent, as kube-apiserver defaults it); 400 when unknown."""
    value = query.get("fieldValidation") or "Warn"
    if value not in _DIRECTIVES:
        raise ApiError(400, f'fieldValidation must be one of "Ignore", "Warn", or "Strict", got "{value}"',
                       "BadRequest")
    return value


def _findings(rt: ResourceType, obj: dict[str, Any]) -> decoder.Findings | None:
    if rt.is_crd:
        return structural.unknown_findings(rt.schema, obj)
    return decoder.inspect(rt.group, rt.version, rt.kind, obj)


def _remove(obj: Any, path: Path) -> None:
    steps = path.steps()
    node = obj
    for step in steps[:-1]:
        node = node[step.name] if step.kind == INDEX else node.get(step.name)
        if not isinstance(node, (dict, list)):
            return
    if isinstance(node, dict):
        node.pop(steps[-1].name, None)


def _patch_error(detail: str, patch: Any, mode: str, obj: dict[str, Any]) -> ApiError:
    shown = go_map_text(patch) if mode == STRATEGIC_PATCH else json.dumps(obj, separators=(",", ":"))
    return invalid(None, "", [invalid_cause("patch", shown, detail)])


def check_decoded(rt: ResourceType, obj: dict[str, Any], validation: str, *, mode: str = BODY,
                  patch: Any = None, dups: Duplicates | None = None) -> list[str]:
    """Check a decoded object (a body, or a patch's result) in place.

    Returns the Warning texts for the response. Raises 400 for a body the decoder refuses
    (422 for a patch's result), and for unknown or duplicate fields (``dups``, of the body) under
    Strict; drops unknown fields otherwise.
    """
    if not ENABLED:
        return []
    found = _findings(rt, obj)
    if found is None:
        return []
    if found.problems:
        detail = found.problems[0].go_message()
        if mode == BODY:
            raise cannot_handle(rt.kind, rt.version, detail)
        raise _patch_error(detail, patch, mode, obj)
    strict = _strict_texts(obj, [p.json_path() for p in found.unknown], dups or Duplicates())
    if strict and validation == "Strict":
        detail = "strict decoding error: " + ", ".join(strict)
        if mode == BODY:
            raise cannot_handle(rt.kind, rt.version, detail)
        raise _patch_error(detail, patch, mode, obj)
    for path in reversed(found.unknown):
        _remove(obj, path)
    return _warning_texts(strict) if validation == "Warn" else []


def _strict_texts(obj: dict[str, Any], unknown: list[str], dups: Duplicates) -> list[str]:
    """kube's strict decoding errors: go-yaml's duplicate keys first, then unknown and duplicate fields in
    the order the decoder meets them."""
    texts = [f'unknown field "{p}"' for p in unknown] + [f'duplicate field "{p}"' for p in dups.paths]
    if dups.paths:
        order = _document_order(obj)
        texts.sort(key=lambda t: order.get(t.split('"', 1)[1][:-1], len(order)))
    return ([dups.yaml_error()] if dups.yaml_lines else []) + texts


def _warning_texts(strict: list[str]) -> list[str]:
    """One Warning per error, a go-yaml error split into its lines (kube's parseYAMLWarnings)."""
    out: list[str] = []
    for text in strict:
        if text.startswith(YAML_ERRORS):
            out.extend(line.strip() for line in text[len(YAML_ERRORS):].split("\n"))
        else:
            out.append(text)
    return out


def _document_order(value: Any, prefix: str = "", order: dict[str, int] | None = None) -> dict[str, int]:
    order = {} if order is None else order
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else key
            order.setdefault(path, len(order))
            _document_order(child, path, order)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _document_order(child, f"{prefix}[{index}]", order)
    return order


def check_apply_config(rt: ResourceType, config: dict[str, Any], namespace: str, name: str) -> None:
    """Server-side apply's typed conversion of its configuration: any undeclared field or wrong type fails."""
    if not ENABLED:
        return
    found = _findings(rt, config)
    if found is None:
        return
    problem = None
    typed = structural.typed_conversion_errors(rt.schema, config) if rt.is_crd else []
    if found.problems:
        problem = found.problems[0].smd_message(value_at(config, found.problems[0].path))
    elif typed:
        problem = typed[0]
    elif found.unknown:
        problem = f"{found.unknown[0].smd_path()}: field not declared in schema"
    if problem is not None:
        where = f"{namespace}/{name}; {rt.group}/{rt.version}, Kind={rt.kind}"
        raise internal(f"failed to create typed patch object ({where}): {problem}")


def check_apply_duplicates(validation: str, dups: Duplicates) -> list[str]:
    """After a server-side apply succeeds: go-yaml's duplicate keys of its body, a Warning each under Warn,
    400 under Strict (the applyPatcher of kube-apiserver's handlers/patch.go). Typed errors never get here:
    they fail the apply itself (`check_apply_config`), whatever ``validation`` says, as in kube 1.32."""
    if not ENABLED or validation == "Ignore" or not dups.yaml_lines:
        return []
    if validation == "Strict":
        raise bad_request("error strict decoding YAML: error converting YAML to JSON: " + dups.yaml_error())
    return _warning_texts([dups.yaml_error()])
