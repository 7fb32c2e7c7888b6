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
#: Where the chart comes from (spec.chart, spec.chartRef) is checked by helm/chart_source.py.
UNSUPPORTED_SPEC = {
    "postRenderers": "postRenderers is not supported; put the changes in the chart or its values",
    "kubeConfig": "kubeConfig is not supported; the release is installed on the source's placed clusters",
    "serviceAccountName": "serviceAccountName is not supported; the reconciler applies with its own credentials",
    "storageNamespace": "storageNamespace is not supported; a release is stored in its target namespace",
}


def refuse_unsupported(helm_release: dict[str, Any], reason: str) -> None:
    """HelmReleaseFailed naming the first field of the HelmRelease this reconciler does not support."""
    spec = helm_release.get("spec") or {}
    for key, message in UNSUPPORTED_SPEC.items():
        if spec.get(key):
            raise HelmReleaseFailed(reason, message)


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
