"""Render a chart with real Helm into manifests and the release record Helm would store."""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from typing import Any

import helm_python as helm
import yaml

from gitops_tui.helm.errors import HelmReleaseFailed
from gitops_tui.kube import limits

#: Seconds a chart may take to render (Helm's template engine cannot be interrupted; the thread is left to finish).
RENDER_TIMEOUT = 60.0


@dataclass(frozen=True)
class RenderedRelease:
    """A chart rendered for one release revision: its objects, manifest text and notes."""

    objects: list[dict[str, Any]]
    manifest: str
    notes: str
    chart_metadata: dict[str, Any]
    values: dict[str, Any]

    @property
    def digest(self) -> str:
        """Return a digest of chart, values and manifest: equal digests mean nothing to upgrade."""
        text = yaml.safe_dump([self.chart_metadata, self.values, self.manifest], sort_keys=True)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _is_hook(obj: dict[str, Any]) -> bool:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return "helm.sh/hook" in annotations


def yaml_problem(exc: yaml.YAMLError) -> str:
    """The parser's problem and place, without the snippet of the text it quotes (it may hold a value)."""
    problem = getattr(exc, "problem", None) or type(exc).__name__
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else problem


def render_release(
    chart: helm.Chart,
    values: dict[str, Any],
    *,
    release_name: str,
    namespace: str,
    revision: int,
    failure_reason: str,
) -> RenderedRelease:
    """Validate `values` against the chart's schema and render it; Helm's message on failure."""
    try:
        chart.validate_schema(values)
        rendered = _render_with_deadline(chart, values, release_name, namespace, revision)
    except helm.HelmError as exc:
        raise HelmReleaseFailed(failure_reason, str(exc).strip()) from None
    objects: list[dict[str, Any]] = []
    parts: list[str] = []
    notes = ""
    total = sum(len(text) for text in rendered.values())
    if total > limits.MAX_FILE_BYTES:
        raise HelmReleaseFailed(failure_reason, f"the chart rendered {total / limits.MIB:.1f} MiB of manifests; at most "
                                                f"{limits.MAX_FILE_BYTES // limits.MIB} MiB are accepted")
    for template in sorted(rendered):
        text = rendered[template]
        if template.endswith("NOTES.txt"):
            notes = text
            continue
        try:
            docs = [d for d in limits.load_documents(text, template) if d]
        except yaml.YAMLError as exc:
            raise HelmReleaseFailed(failure_reason, f"{template}: rendered YAML is invalid: {yaml_problem(exc)}",
                                    quotes_values=False) from None
        except limits.LimitExceeded as exc:
            raise HelmReleaseFailed(failure_reason, exc.message, quotes_values=False) from None
        kept = [d for d in docs if isinstance(d, dict) and not _is_hook(d)]
        for doc in kept:
            _check_rendered(doc, template, failure_reason)
        if kept:
            objects.extend(kept)
            parts.append(f"---\n# Source: {template}\n{text.strip()}\n")
    try:
        limits.check_revision(((obj, "the chart") for obj in objects), "the release")
    except limits.LimitExceeded as exc:
        raise HelmReleaseFailed(failure_reason, exc.message) from None
    return RenderedRelease(objects, "".join(parts), notes, dict(chart.metadata), values)


def _check_rendered(doc: dict[str, Any], template: str, failure_reason: str) -> None:
    """HelmReleaseFailed for a rendered object without apiVersion, kind or a fixed name."""
    meta = doc.get("metadata") or {}
    if not doc.get("apiVersion") or not doc.get("kind") or not meta.get("name"):
        if meta.get("generateName") and doc.get("apiVersion") and doc.get("kind"):
            raise HelmReleaseFailed(failure_reason, f"{template}: {doc['kind']} uses metadata.generateName, which makes "
                                                    "a new object at every apply; give it a fixed name, or make it a "
                                                    "hook (helm.sh/hook), which is not applied",
                                    quotes_values=False)
        raise HelmReleaseFailed(failure_reason, f"{template}: object without apiVersion, kind or name",
                                quotes_values=False)


def _render_with_deadline(chart: helm.Chart, values: dict[str, Any], release_name: str, namespace: str,
                          revision: int) -> dict[str, str]:
    """Render in a helper thread and give up after RENDER_TIMEOUT seconds (Helm's engine runs outside the GIL)."""
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["rendered"] = chart.render(values, name=release_name, namespace=namespace, revision=revision,
                                               is_install=revision == 1, is_upgrade=revision > 1)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="helm-render", daemon=True)
    thread.start()
    thread.join(RENDER_TIMEOUT)
    if thread.is_alive():
        raise helm.HelmError(f"rendering the chart did not finish within {RENDER_TIMEOUT:g}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["rendered"]


def release_record(
    rendered: RenderedRelease,
    *,
    chart: helm.Chart,
    release_name: str,
    namespace: str,
    revision: int,
    status: str,
    description: str,
    first_deployed: str,
    now: str,
) -> dict[str, Any]:
    """Return the release dict in Helm's storage schema (release.v1)."""
    return {
        "name": release_name,
        "namespace": namespace,
        "version": revision,
        "info": {
            "first_deployed": first_deployed,
            "last_deployed": now,
            "description": description,
            "status": status,
            "notes": rendered.notes,
        },
        "chart": {
            "metadata": rendered.chart_metadata,
            "lock": None,
            "templates": [
                {"name": t["name"], "data": base64.b64encode(t["data"].encode()).decode()} for t in chart.templates
            ],
            "values": chart.values,
            "schema": None,
            "files": [],
        },
        "config": rendered.values,
        "manifest": rendered.manifest,
        "hooks": [],
        "apply_method": "ssa",
    }
