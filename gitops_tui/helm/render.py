"""Render a chart with real Helm into manifests and the release record Helm would store."""

from __future__ import annotations

import base64
import hashlib
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

from gitops_tui.helm.errors import HelmReleaseFailed
from gitops_tui.helm.render_pool import RenderStopped, shared_pool
from gitops_tui.kube import limits

#: Seconds a chart may take to render, waiting for a worker included; then its worker process is killed.
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
        rendered = _render_with_deadline(chart, values, release_name, namespace, revision, failure_reason)
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
                          revision: int, failure_reason: str) -> dict[str, str]:
    """Render in a worker process of the shared pool, stopped at RENDER_TIMEOUT seconds (render_pool)."""
    name = str(chart.metadata.get("name") or "?")
    with _chart_file(chart) as path:
        request = {"chart": path, "values": values, "name": release_name, "namespace": namespace,
                   "revision": revision, "max_bytes": limits.MAX_FILE_BYTES}
        try:
            answer = shared_pool().render(request, RENDER_TIMEOUT)
        except RenderStopped as exc:
            raise HelmReleaseFailed(failure_reason, _stopped_message(name, exc), quotes_values=False) from None
    if answer.too_large:
        raise HelmReleaseFailed(failure_reason, f"the chart rendered {answer.too_large / limits.MIB:.1f} MiB of "
                                                f"manifests; at most {limits.MAX_FILE_BYTES // limits.MIB} MiB are "
                                                "accepted", quotes_values=False)
    if answer.rendered is None:
        error = getattr(helm, answer.error_type, None)
        kind = error if isinstance(error, type) and issubclass(error, helm.HelmError) else helm.HelmError
        raise kind(answer.error)
    return answer.rendered


def _stopped_message(chart: str, exc: RenderStopped) -> str:
    """One sentence for a render the pool stopped."""
    if exc.why == "deadline":
        return f"render of chart {chart} exceeded its deadline of {RENDER_TIMEOUT:g} s and was stopped"
    if exc.why == "cpu":
        return f"render of chart {chart} used more than {RENDER_TIMEOUT:g} s of CPU and was stopped"
    if exc.why == "memory":
        return (f"render of chart {chart} used more than {shared_pool().memory_bytes // limits.MIB} MiB of memory "
                "and was stopped")
    return f"render of chart {chart} failed: its render process ended ({exc.detail or 'no answer'})"


#: Where each loaded chart came from (a directory or a .tgz archive), so a worker can load it too.
_ORIGINS: weakref.WeakKeyDictionary[helm.Chart, str] = weakref.WeakKeyDictionary()


def remember_origin(chart: helm.Chart, path: Path) -> helm.Chart:
    """Record where ``chart`` was loaded from (its directory or archive); return it."""
    _ORIGINS[chart] = str(path)
    return chart


@contextmanager
def _chart_file(chart: helm.Chart) -> Iterator[str]:
    """A path a worker can load ``chart`` from: where it was loaded, else an archive saved for this render."""
    origin = _ORIGINS.get(chart)
    if origin is not None and Path(origin).exists():
        yield origin
        return
    with tempfile.TemporaryDirectory(prefix="gitops-tui-chart-") as tmp:
        yield chart.save(tmp)


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
