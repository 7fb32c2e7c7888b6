"""The official Kubernetes OpenAPI definitions of the version the sandbox reports, from kubernetes-validate.

kubernetes-validate ships the definitions of each Kubernetes release as JSON Schema (draft 2020-12,
types widened with "null"); this module reads the release the sandbox reports, once and only when
first needed, and gives them back in their OpenAPI v2 form (single types, ``#/definitions/`` refs,
the int-or-string and quantity formats), which both the validators and the /openapi documents use.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import threading
from pathlib import Path
from typing import Any

KUBE_VERSION = "v1.32.0"  # what /version reports; kubernetes-validate ships this release's schemas
_SCHEMA_DIR = f"kubernetes-json-schema/{KUBE_VERSION}-local"
_REF_PREFIX = "#/$defs/"
V2_REF = "#/definitions/"
GVK = "x-kubernetes-group-version-kind"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_SPECIAL = {  # definitions that JSON Schema spells as oneOf, back in their OpenAPI form
    INT_OR_STRING: {"description": "IntOrString is a type that can hold an int32 or a string.",
                    "type": "string", "format": "int-or-string"},
    QUANTITY: {"description": "Quantity is a fixed-point representation of a number.",
               "type": "string", "format": "quantity"},
}
_lock = threading.Lock()


def _normalize(schema: Any) -> Any:
    """A JSON Schema node in OpenAPI v2 form (nulls out of types, v2 refs), recursively."""
    if isinstance(schema, list):
        return [_normalize(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("$schema", "$id"):
            continue
        if key == "type" and isinstance(value, list):
            value = next((t for t in value if t != "null"), "object")
        elif key == "$ref" and isinstance(value, str):
            value = V2_REF + value.rsplit("/", 1)[-1]
        elif key in ("properties", "patternProperties") and isinstance(value, dict):
            value = {name: _normalize(sub) for name, sub in value.items()}
        elif key == "enum" or key.startswith("x-kubernetes-"):
            pass
        else:
            value = _normalize(value)
        out[key] = value
    return out


def _package_dir() -> Path:
    """Where kubernetes-validate is installed (found, not imported: importing it loads jsonschema)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the kubernetes-validate package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@functools.lru_cache(maxsize=1)
def _catalog() -> tuple[dict[str, str], dict[tuple[str, str, str], str]]:
    """Every definition of the release as JSON text (by name), and the kinds' definition names by GVK.

    Kept as text, not as a tree of dicts: the collector never walks strings, so a sandbox that holds
    the whole release pays nothing for it in garbage collection; a definition becomes a dict only
    when a kind's checker or an OpenAPI document needs it.
    """
    with _lock:
        raw = json.loads((_package_dir() / _SCHEMA_DIR / "_definitions.json").read_text())["$defs"]
        texts: dict[str, str] = {}
        by_gvk: dict[tuple[str, str, str], str] = {}
        for name, schema in raw.items():
            schema = dict(_SPECIAL[name]) if name in _SPECIAL else _normalize(schema)
            for gvk in schema.get(GVK) or ():
                by_gvk.setdefault((gvk.get("group", ""), gvk.get("version", ""), gvk.get("kind", "")), name)
                for key in ("apiVersion", "kind"):  # the JSON Schema conversion pinned them with enums
                    (schema.get("properties") or {}).get(key, {}).pop("enum", None)
            texts[name] = json.dumps(schema, separators=(",", ":"))
        return texts, by_gvk


def definition(name: str) -> dict[str, Any] | None:
    """One definition of the release ('io.k8s.api.apps.v1.Deployment') in v2 form, a fresh copy; None if unknown."""
    text = _catalog()[0].get(name)
    return None if text is None else json.loads(text)


def definition_name(group: str, version: str, kind: str) -> str | None:
    """The name of the definition of a built-in kind, or None when the release has none."""
    return _catalog()[1].get((group, version, kind))


def ref_name(schema: dict[str, Any]) -> str | None:
    """The definition a ``$ref`` schema points at (None when it is not a reference)."""
    ref = schema.get("$ref")
    return ref[len(V2_REF):] if isinstance(ref, str) and ref.startswith(V2_REF) else None


def closure(names: list[str]) -> list[str]:
    """``names`` and every definition they reference, transitively (sorted)."""
    texts = _catalog()[0]
    seen: set[str] = set()
    todo = [n for n in names if n in texts]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        text = texts[name]
        start = 0
        while (at := text.find('"' + V2_REF, start)) >= 0:
            end = text.index('"', at + 1)
            target = text[at + 1 + len(V2_REF):end]
            if target in texts and target not in seen:
                todo.append(target)
            start = end
    return sorted(seen)
