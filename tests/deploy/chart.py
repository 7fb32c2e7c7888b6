"""The chart under deploy/chart rendered with real Helm, as objects by kind and name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

CHART_DIR = Path(__file__).resolve().parents[2] / "deploy" / "chart"
RELEASE = "gitops-tui"
NAMESPACE = "gitops-tui-system"


def render(values: dict[str, Any] | None = None, *, release: str = RELEASE,
           namespace: str = NAMESPACE) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Render the chart offline; return its objects keyed by (kind, namespace, name)."""
    chart = helm.Chart.load(CHART_DIR)
    try:
        rendered = chart.render(values or {}, name=release, namespace=namespace, revision=1, is_install=True)
    finally:
        chart.close()
    return objects_of(rendered)


def objects_of(rendered: dict[str, str]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The objects of rendered templates (NOTES.txt left out), keyed by (kind, namespace, name)."""
    objects: dict[tuple[str, str, str], dict[str, Any]] = {}
    for template, text in rendered.items():
        if template.endswith("NOTES.txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc:
                meta = doc["metadata"]
                objects[(doc["kind"], meta.get("namespace", ""), meta["name"])] = doc
    return objects


def one(objects: dict[tuple[str, str, str], dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The single object of ``kind`` (and ``name``) among ``objects``."""
    found = [o for (k, _, n), o in objects.items() if k == kind and (name is None or n == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {[o['metadata']['name'] for o in found]}"
    return found[0]


def container(objects: dict[tuple[str, str, str], dict[str, Any]]) -> dict[str, Any]:
    """The reconciler container of the Deployment."""
    (main,) = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    return main
