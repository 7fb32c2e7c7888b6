"""Compose a HelmRelease's values: `valuesFrom` ConfigMaps and Secrets in order, then `spec.values`."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import yaml

from gitops_tui.api.references import ReferenceRefused, check_kind, check_name
from gitops_tui.helm.errors import VALUES_FAILED, HelmReleaseFailed
from gitops_tui.kube.limits import MAX_YAML_NODES, expanded_nodes, load_documents
from gitops_tui.util.merge import deep_merge

#: Reads one object on the target cluster: (kind, namespace, name) -> the object dict, or None.
ObjectReader = Callable[[str, str, str], "dict[str, Any] | None"]




def _set_path(values: dict[str, Any], dotted: str, value: Any) -> None:
    node = values
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _read_reference(ref: dict[str, Any], namespace: str, read: ObjectReader, index: int = 0) -> str | None:
    field = f"spec.valuesFrom[{index}]"
    try:
        kind = check_kind(ref.get("kind"), ("ConfigMap", "Secret"), f"{field}.kind")
        name = check_name(ref.get("name"), f"{field}.name", kind=kind)
    except ReferenceRefused as exc:  # a name, read in the release's own namespace only
        raise HelmReleaseFailed(VALUES_FAILED, exc.message) from None
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


#: Where a template failed, as Helm writes it: "chart/templates/file.yaml:LINE:COLUMN".
_LOCATION = re.compile(r"(?P<file>[\w.+-]+(?:/[\w.+-]+)*\.(?:ya?ml|tpl|txt|json)):(?P<line>\d+)(?::(?P<column>\d+))?")
#: The template function that failed, as Go's text/template writes it.
_CALL = re.compile(r"error calling (?P<function>\w+)")
#: A schema failure's value path, as Helm lists them: "- at '/image/tag': ...".
_SCHEMA_PATH = re.compile(r"^- at '([^']*)':", re.MULTILINE)
WITHHELD = "the error text is withheld because the values include data from a Secret"


def redact_message(text: str, secrets: list[str], *, quotes_values: bool = True) -> str:
    """The message to show for a chart that failed: as is when no value came from a Secret, else only where it failed.

    A template may transform a Secret's value (lower, b64enc, trunc, printf ...) before the error quotes it, so
    no search for the value can be trusted: the whole error text is replaced by its location and function (for
    a schema failure, the value paths). ``quotes_values`` False marks a message made without values: kept whole.
    """
    if not secrets or not quotes_values:
        return text
    schema_paths = _SCHEMA_PATH.findall(text)
    if schema_paths:
        return f"the values do not meet the chart's schema at {', '.join(schema_paths)} ({WITHHELD})"
    where = _LOCATION.search(text)
    call = _CALL.search(text)
    parts = []
    if where:
        column = f" column {where.group('column')}" if where.group("column") else ""
        parts.append(f"template {where.group('file')} line {where.group('line')}{column} failed")
    if call:
        parts.append(f"error calling {call.group('function')}")
    summary = ": ".join(parts) if parts else "the chart or the cluster refused the release"
    return f"{summary} ({WITHHELD})"


def compose_values(helm_release: dict[str, Any], namespace: str, read: ObjectReader,
                   secrets: list[str] | None = None) -> dict[str, Any]:
    """Return the user-supplied values of a HelmRelease, as helm-controller composes them.

    Every value taken from a Secret is appended to ``secrets`` (when given): then later messages are redacted.
    Each part is parsed with the bounded loader and its expanded nodes counted before it is merged, all parts
    together within one file's limit (kube.limits): an alias bomb in a ConfigMap is refused, never merged.
    """
    spec = helm_release.get("spec") or {}
    values: dict[str, Any] = {}
    remaining = MAX_YAML_NODES

    def counted(part: Any, what: str) -> Any:
        nonlocal remaining
        remaining -= expanded_nodes(part, what, max(remaining, 1))
        return part

    for index, ref in enumerate(spec.get("valuesFrom") or []):
        text = _read_reference(ref if isinstance(ref, dict) else {}, namespace, read, index)
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
            documents = load_documents(text, f"{where} (valuesFrom)", max_nodes=max(remaining, 1))
            if len(documents) > 1:
                raise yaml.YAMLError("expected a single document in the stream")
            loaded = counted((documents or [None])[0] or {}, f"the values of {where}")  # nodes left for the rest
        except yaml.YAMLError as exc:
            # A Secret's parser error would quote its content: name the place only.
            detail = "" if from_secret else f": {exc}"
            raise HelmReleaseFailed(VALUES_FAILED, f"values in {where} are not valid YAML{detail}") from None
        if not isinstance(loaded, dict):
            raise HelmReleaseFailed(VALUES_FAILED, f"values in {where} are not a YAML map")
        values = deep_merge(values, loaded)
    return deep_merge(values, counted(spec.get("values") or {}, "spec.values"))
