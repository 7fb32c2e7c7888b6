"""Load the chart a HelmRelease names: a path in the source's git checkout, or a chart repository."""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

import helm_python as helm

from gitops_tui.helm.dependencies import check_dependencies
from gitops_tui.helm.errors import ARTIFACT_FAILED, HelmReleaseFailed
from gitops_tui.helm.render import remember_origin
from gitops_tui.redact import scrub, scrub_url

_repo_lock = threading.Lock()
#: An exact chart version (cached for good); anything else is a range resolved against the index each time.
_EXACT = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$")


def chart_spec(helm_release: dict[str, Any]) -> dict[str, Any]:
    """Return `spec.chart.spec` of a HelmRelease ({} when absent)."""
    return ((helm_release.get("spec") or {}).get("chart") or {}).get("spec") or {}


def load_from_git(checkout: Path, chart_path: str) -> helm.Chart:
    """Load a chart directory from the source's checkout; the path must stay inside it."""
    root = checkout.resolve()
    target = (root / chart_path).resolve()
    if root not in (target, *target.parents):
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"chart path {chart_path!r} leaves the repository")
    if not (target / "Chart.yaml").is_file():
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"chart path {chart_path!r} not found in the source revision")
    try:
        chart = remember_origin(helm.Chart.load(target), target)
    except helm.HelmError as exc:
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"chart {chart_path!r}: {exc}") from exc
    check_dependencies(chart, target)
    return chart


def load_from_repository(cache_dir: Path, repo_url: str, name: str, version: str | None) -> helm.Chart:
    """Pull `name` (at `version`, a semver range or exact; newest if unset) from a chart repository index."""
    key = hashlib.sha256(f"{repo_url}\0{name}\0{version or ''}".encode()).hexdigest()[:16]
    target = cache_dir / "charts" / key
    with _repo_lock:
        exact = bool(version and _EXACT.match(version))
        archives = sorted(target.glob("*.tgz")) if target.is_dir() and exact else []
        if not archives:
            target.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=target) as tmp:
                try:
                    helm.pull(name, repo_url=repo_url, version=version or None, destination=tmp)
                except helm.HelmError as exc:
                    # Helm quotes the repository URL, which may carry user:password@.
                    raise HelmReleaseFailed(
                        ARTIFACT_FAILED, f"chart {name!r} version {version or 'latest'} from {scrub_url(repo_url)}: "
                                         f"{scrub(str(exc))}"
                    ) from None
                pulled = sorted(Path(tmp).glob("*.tgz"))
                for archive in pulled:
                    archive.replace(target / archive.name)
            # Ranges and "latest" are resolved again each time; the archive just pulled is the one to use.
            archives = [target / p.name for p in pulled]
        if not archives:
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"chart {name!r} not found in {scrub_url(repo_url)}")
        try:
            chart = remember_origin(helm.Chart.load_archive(archives[-1].read_bytes()), archives[-1])
        except helm.HelmError as exc:
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"chart archive {archives[-1].name}: {exc}") from exc
        check_dependencies(chart)
        return chart
