"""Where a HelmRelease's chart comes from: the one place that turns ``spec.chart`` or ``spec.chartRef`` into a chart.

- ``spec.chart.spec`` with ``sourceRef`` GitRepository (a folder of the source's checkout) or HelmRepository (a chart
  repository index the revision declares), as Flux's HelmChart template;
- ``spec.chartRef`` to a HelmChart of the revision (the release's namespace): the HelmChart's own spec, read the
  same way (its ``valuesFiles`` and ``verify`` refused by name, as for ``spec.chart.spec``);
- ``spec.chartRef`` to an OCIRepository: refused by name until OCI sources are served (issue 20 item 4 plugs its
  fetch in ``resolve_chart``); to an ExternalArtifact: refused by name.

docs/helm.md, docs/flux.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm

from gitops_tui.helm.charts import load_from_git, load_from_repository
from gitops_tui.helm.errors import ARTIFACT_FAILED, HelmReleaseFailed
from gitops_tui.kube.outbound import FetchPolicy

SOURCE_API_GROUP = "source.toolkit.fluxcd.io"
#: What ``spec.chart.spec`` (and a HelmChart's spec) may say this reconciler does not do, and what to do instead.
UNSUPPORTED_CHART_SPEC = {
    "valuesFiles": "valuesFiles is not supported; use spec.values or spec.valuesFrom",
    "verify": "verify is not supported; vendor the verified chart in git instead",
}
SOURCE_KINDS = ("GitRepository", "HelmRepository")


def _named(manifests: list[dict[str, Any]], kind: str, name: str, namespace: str) -> dict[str, Any] | None:
    """The object ``kind/name`` of the revision in ``namespace`` (Flux's source group), or None."""
    for obj in manifests:
        meta = obj.get("metadata") or {}
        if (obj.get("kind") == kind and meta.get("name") == name and str(obj.get("apiVersion", "")).startswith(
                SOURCE_API_GROUP + "/") and (meta.get("namespace") or namespace) == namespace):
            return obj
    return None


def chart_template(helm_release: dict[str, Any], manifests: list[dict[str, Any]], reason: str) -> tuple[dict[str, Any], str]:
    """(the HelmChart spec the release installs, where it is written); HelmReleaseFailed naming what is not served.

    From ``spec.chart.spec``, or from the HelmChart ``spec.chartRef`` names (one of the two, as Flux requires).
    """
    spec = helm_release.get("spec") or {}
    namespace = str((helm_release.get("metadata") or {}).get("namespace") or "")
    ref, chart = spec.get("chartRef"), spec.get("chart")
    if ref and chart:
        raise HelmReleaseFailed(reason, "either spec.chart or spec.chartRef must be set, not both")
    if ref:
        kind, name = str((ref or {}).get("kind") or ""), str((ref or {}).get("name") or "")
        if kind == "OCIRepository":
            raise HelmReleaseFailed(reason, f"spec.chartRef: OCIRepository {name} is not supported yet (OCI charts "
                                            "are not served); use spec.chart with a HelmRepository")
        if kind != "HelmChart":
            raise HelmReleaseFailed(reason, f"spec.chartRef.kind {kind} is not supported; use HelmChart (or spec.chart)")
        found = _named(manifests, "HelmChart", name, namespace)
        if found is None:
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"spec.chartRef: HelmChart {namespace}/{name} is not declared "
                                                     "in the source (declare it next to the HelmRelease)")
        template, where = found.get("spec") or {}, f"HelmChart {name} spec"
    else:
        if not isinstance(chart, dict) or not isinstance(chart.get("spec"), dict):
            raise HelmReleaseFailed(reason, "spec.chart.spec is missing: name the chart in spec.chart.spec.chart and "
                                            "its source in spec.chart.spec.sourceRef (or use spec.chartRef)")
        template, where = chart["spec"], "spec.chart.spec"
    for key, message in UNSUPPORTED_CHART_SPEC.items():
        if template.get(key):
            raise HelmReleaseFailed(reason, f"{where}.{message}")
    kind = (template.get("sourceRef") or {}).get("kind", "GitRepository")
    if kind not in SOURCE_KINDS:
        raise HelmReleaseFailed(reason, f"{where}.sourceRef.kind {kind} is not supported; use GitRepository (a chart "
                                        "in the source's own repository) or HelmRepository")
    if not template.get("chart"):
        raise HelmReleaseFailed(reason, f"{where}.chart is empty: give the chart's path (GitRepository) or name "
                                        "(HelmRepository)")
    return template, where


def resolve_chart(helm_release: dict[str, Any], *, checkout: Path, manifests: list[dict[str, Any]], cache_dir: Path,
                  fetch_policy: FetchPolicy | None = None, reason: str = ARTIFACT_FAILED) -> helm.Chart:
    """Load the chart a HelmRelease installs (docs/helm.md); HelmReleaseFailed in one sentence when it cannot."""
    template, where = chart_template(helm_release, manifests, reason)
    source = template.get("sourceRef") or {}
    name = str(template.get("chart") or "")
    if source.get("kind", "GitRepository") == "GitRepository":
        return load_from_git(checkout, name)
    namespace = str((helm_release.get("metadata") or {}).get("namespace") or "")
    repo = _named(manifests, "HelmRepository", str(source.get("name") or ""), namespace)
    if repo is None or not (repo.get("spec") or {}).get("url"):
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"HelmRepository {source.get('name')!r} not found in the source")
    return load_from_repository(cache_dir, repo["spec"]["url"], name, template.get("version"), fetch_policy)
