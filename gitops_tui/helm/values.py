"""Compose a HelmRelease's values: `valuesFrom` ConfigMaps and Secrets in order, then `spec.values`."""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

import yaml

from gitops_tui.helm.errors import VALUES_FAILED, HelmReleaseFailed

#: Reads one object on the target cluster: (kind, namespace, name) -> the object dict, or None.
ObjectReader = Callable[[str, str, str], "dict[str, Any] | None"]


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return `base` with `override` merged in, maps recursively, everything else replaced."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _set_path(values: dict[str, Any], dotted: str, value: Any) -> None:
    node = values
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _read_reference(ref: dict[str, Any], namespace: str, read: ObjectReader) -> str | None:
    kind, name = ref.get("kind", ""), ref.get("name", "")
    if kind not in ("ConfigMap", "Secret"):
        raise HelmReleaseFailed(VALUES_FAILED, f"valuesFrom kind {kind!r} is not ConfigMap or Secret")
    obj = read(kind, namespace, name)
    key = ref.get("valuesKey") or "values.yaml"
    if obj is None:
        if ref.get("optional"):
            return None
        raise HelmReleaseFailed(VALUES_FAILED, f"could not find {kind} '{namespace}/{name}'")
    if kind == "Secret":
        raw = (obj.get("data") or {}).get(key)
        text = base64.b64decode(raw).decode() if raw is not None else None
    else:
        text = (obj.get("data") or {}).get(key)
    if text is None and not ref.get("optional"):
        raise HelmReleaseFailed(VALUES_FAILED, f"missing key '{key}' in {kind} '{namespace}/{name}'")
    return text


#: Secret values shorter than this are not scrubbed from messages (they would blank common words).
MIN_SCRUBBED = 4


def _scalars(value: Any) -> list[str]:
    """Every scalar of a loaded YAML document, as text."""
    if isinstance(value, dict):
        return [s for item in value.values() for s in _scalars(item)]
    if isinstance(value, list):
        return [s for item in value for s in _scalars(item)]
    return [] if value is None or isinstance(value, bool) else [str(value)]


def scrub_values(text: str, secrets: list[str]) -> str:
    """Replace every secret value in ``text`` by ``***`` (longest first)."""
    for word in sorted({w for w in secrets if len(w) >= MIN_SCRUBBED}, key=len, reverse=True):
        text = text.replace(word, "***")
    return text


def compose_values(helm_release: dict[str, Any], namespace: str, read: ObjectReader,
                   secrets: list[str] | None = None) -> dict[str, Any]:
    """Return the user-supplied values of a HelmRelease, as helm-controller composes them.

    Every value taken from a Secret is appended to ``secrets`` (when given), to scrub later messages.
    """
    spec = helm_release.get("spec") or {}
    values: dict[str, Any] = {}
    for ref in spec.get("valuesFrom") or []:
        text = _read_reference(ref, namespace, read)
        if text is None:
            continue
        from_secret = ref.get("kind") == "Secret"
        if from_secret and secrets is not None:
            secrets.append(text.strip())
        where = f"{ref.get('kind')} '{namespace}/{ref.get('name')}'"
        if ref.get("targetPath"):
            _set_path(values, ref["targetPath"], text.strip())
            continue
        try:
            loaded = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            # A Secret's parser error would quote its content: name the place only.
            detail = "" if from_secret else f": {exc}"
            raise HelmReleaseFailed(VALUES_FAILED, f"values in {where} are not valid YAML{detail}") from None
        if not isinstance(loaded, dict):
            raise HelmReleaseFailed(VALUES_FAILED, f"values in {where} are not a YAML map")
        if from_secret and secrets is not None:
            secrets.extend(_scalars(loaded))
        values = deep_merge(values, loaded)
    return deep_merge(values, spec.get("values") or {})
