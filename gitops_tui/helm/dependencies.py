"""Helm like Helm: a chart's declared dependencies must be vendored in charts/ (and match Chart.lock); unsupported HelmRelease fields are refused by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

from gitops_tui.helm.errors import ARTIFACT_FAILED, HelmReleaseFailed

#: Helm's own words (helm install / template, pkg/action CheckDependencies), so the fix is the one Helm users know.
MISSING_DEPENDENCIES = ("An error occurred while checking for chart dependencies. You may need to run `helm dependency "
                        "build` to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: ")
LOCK_OUT_OF_SYNC = ("the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml). "
                    "Please update the dependencies")
#: HelmRelease fields (Flux helm.toolkit.fluxcd.io/v2) this reconciler does not implement, and what to do instead.
#: Where the chart comes from (spec.chart, spec.chartRef) is checked below and resolved by helm/charts.py.
UNSUPPORTED_SPEC = {
    "postRenderers": "postRenderers is not supported; put the changes in the chart or its values",
    "kubeConfig": "kubeConfig is not supported; the release is installed on the source's placed clusters",
    "serviceAccountName": "serviceAccountName is not supported; the reconciler applies with its own credentials",
    "storageNamespace": "storageNamespace is not supported; a release is stored in its target namespace",
}
#: What ``spec.chart.spec`` (and a HelmChart's spec) may say that this reconciler does not do, and what to do instead.
UNSUPPORTED_CHART_SPEC = {
    "valuesFiles": "valuesFiles is not supported; use spec.values or spec.valuesFrom",
    "verify": "verify is not supported; vendor the verified chart in git instead",
}
SOURCE_KINDS = ("GitRepository", "HelmRepository")
#: spec.chartRef kinds this reconciler resolves (helm/charts.py resolve_chart).
CHART_REF_KINDS = ("OCIRepository", "HelmChart")


def refuse_unsupported(helm_release: dict[str, Any], reason: str) -> None:
    """HelmReleaseFailed naming the first field of the HelmRelease this reconciler does not support."""
    spec = helm_release.get("spec") or {}
    for key, message in UNSUPPORTED_SPEC.items():
        if spec.get(key):
            raise HelmReleaseFailed(reason, message)
    chart = spec.get("chart")
    chart_ref = spec.get("chartRef")
    if chart_ref:
        if chart:
            raise HelmReleaseFailed(reason, "spec.chart and spec.chartRef are mutually exclusive: keep one of them")
        kind = (chart_ref if isinstance(chart_ref, dict) else {}).get("kind")
        if kind not in CHART_REF_KINDS:
            raise HelmReleaseFailed(reason, f"spec.chartRef.kind {kind} is not supported; use OCIRepository or "
                                            "HelmChart, or spec.chart")
        return  # a HelmChart's spec is checked by check_chart_spec when resolve_chart reads it
    if not isinstance(chart, dict) or not isinstance(chart.get("spec"), dict):
        raise HelmReleaseFailed(reason, "spec.chart.spec is missing: name the chart in spec.chart.spec.chart and its "
                                        "source in spec.chart.spec.sourceRef")
    check_chart_spec(chart["spec"], "spec.chart.spec", reason)


def check_chart_spec(chart_spec: dict[str, Any], where: str, reason: str) -> None:
    """HelmReleaseFailed naming what a chart template (``spec.chart.spec``, a HelmChart's spec) says that is not done."""
    for key, message in UNSUPPORTED_CHART_SPEC.items():
        if chart_spec.get(key):
            raise HelmReleaseFailed(reason, f"{where}.{message}")
    kind = (chart_spec.get("sourceRef") or {}).get("kind", "GitRepository")
    if kind not in SOURCE_KINDS:
        raise HelmReleaseFailed(reason, f"{where}.sourceRef.kind {kind} is not supported; use GitRepository "
                                        "(a chart in the source's own repository) or HelmRepository")
    if not chart_spec.get("chart"):
        raise HelmReleaseFailed(reason, f"{where}.chart is empty: give the chart's path (GitRepository) or "
                                        "name (HelmRepository)")


def check_dependencies(chart: helm.Chart, chart_dir: Path | None = None) -> None:
    """Refuse a chart whose declared dependencies are not all in charts/, or disagree with its Chart.lock.

    As `helm install` does: a dependency is found by its chart name, whatever its condition says.
    """
    declared = [d for d in (chart.metadata.get("dependencies") or []) if isinstance(d, dict)]
    if not declared:
        return
    loaded = {str(d.get("name")): str(d.get("version", "")) for d in chart.dependencies}
    missing = [str(d.get("name")) for d in declared if str(d.get("name")) not in loaded]
    if missing:
        raise HelmReleaseFailed(ARTIFACT_FAILED, MISSING_DEPENDENCIES + ", ".join(missing))
    lock_file = chart_dir / "Chart.lock" if chart_dir is not None else None
    if lock_file is None or not lock_file.is_file():
        return
    try:
        lock = yaml.safe_load(lock_file.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        raise HelmReleaseFailed(ARTIFACT_FAILED, "Chart.lock is not valid YAML") from None
    locked = {str(d.get("name")): str(d.get("version", "")) for d in lock.get("dependencies") or [] if isinstance(d, dict)}
    if set(locked) != {str(d.get("name")) for d in declared}:
        raise HelmReleaseFailed(ARTIFACT_FAILED, LOCK_OUT_OF_SYNC)
    for name, version in sorted(locked.items()):
        if loaded[name] != version:
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"dependency {name} is locked at version {version} in Chart.lock, "
                                                     f"but charts/ holds version {loaded[name]}: run `helm dependency "
                                                     "build` and commit charts/")
