"""Load the chart a HelmRelease names: a path in the source's git checkout, a chart repository, or an OCI registry.

``resolve_chart`` is the one place a HelmRelease's chart is resolved (``spec.chart.spec`` or ``spec.chartRef``).
"""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import helm_python as helm
import yaml

from gitops_tui.api.semver import best_tag
from gitops_tui.helm.dependencies import check_chart_spec, check_dependencies
from gitops_tui.helm.errors import ARTIFACT_FAILED, HelmReleaseFailed
from gitops_tui.helm.render import remember_origin
from gitops_tui.kube import pinned_http
from gitops_tui.kube.limits import MIB, LimitExceeded, load_documents
from gitops_tui.kube.outbound import FetchPolicy, FetchRefused
from gitops_tui.redact import scrub_url

_repo_lock = threading.Lock()
#: An exact chart version (cached for good); anything else is a range resolved against the index each time.
_EXACT = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$")
#: Largest index.yaml and chart archive read (Flux source-controller's --helm-index-max-size and chart default).
MAX_INDEX_BYTES = 50 * MIB
MAX_CHART_BYTES = 10 * MIB
MAX_INDEX_NODES = 10_000_000


def chart_spec(helm_release: dict[str, Any]) -> dict[str, Any]:
    """Return `spec.chart.spec` of a HelmRelease ({} when absent)."""
    return ((helm_release.get("spec") or {}).get("chart") or {}).get("spec") or {}


def resolve_chart(helm_release: dict[str, Any], checkout: Path, manifests: list[dict[str, Any]], cache_dir: Path,
                  policy: FetchPolicy | None = None, read_secret: Any = None, *,
                  reason: str = ARTIFACT_FAILED) -> helm.Chart:
    """The chart of a HelmRelease whose fields refuse_unsupported let through.

    ``spec.chartRef`` to an OCIRepository of the revision, or to a HelmChart of the revision (its spec read as
    ``spec.chart.spec`` is, as Flux's HelmChart template), or ``spec.chart.spec`` with a ``sourceRef`` to the
    source's own GitRepository (a path) or a HelmRepository of the revision (an index, or ``type: oci``).
    ``read_secret(name)`` reads a Secret of the release's namespace (registry credentials).
    """
    from gitops_tui.helm import oci, oci_source

    spec = helm_release.get("spec") or {}
    namespace = str((helm_release.get("metadata") or {}).get("namespace") or "")
    chart_ref = spec.get("chartRef") or {}
    chart = chart_spec(helm_release)
    if chart_ref and chart_ref.get("kind") == "HelmChart":
        chart = _helm_chart(manifests, str(chart_ref.get("name") or ""), namespace, reason)
    elif chart_ref:  # refuse_unsupported let only OCIRepository and HelmChart through
        repository = _declared(manifests, "OCIRepository", str(chart_ref.get("name") or ""), namespace)
        return oci.load_chart(oci_source.from_oci_repository(repository), cache_dir, policy, read_secret)
    source = chart.get("sourceRef") or {}
    chart_name = chart.get("chart", "")
    if source.get("kind", "GitRepository") == "GitRepository":
        return load_from_git(checkout, chart_name)
    repo = _declared(manifests, "HelmRepository", str(source.get("name") or ""), namespace)
    repo_spec = repo.get("spec") or {}
    if repo_spec.get("type") == "oci" or str(repo_spec.get("url") or "").startswith("oci://"):
        interval = chart.get("interval") or spec.get("interval")
        found = oci_source.from_helm_repository(repo, chart_name, chart.get("version"), interval)
        return oci.load_chart(found, cache_dir, policy, read_secret)
    return load_from_repository(cache_dir, repo_spec["url"], chart_name, chart.get("version"), policy)


def _helm_chart(manifests: list[dict[str, Any]], name: str, namespace: str, reason: str) -> dict[str, Any]:
    """The spec of the HelmChart ``name`` of the revision (the release's namespace), checked as spec.chart.spec is."""
    found = next((m for m in manifests if m.get("kind") == "HelmChart" and (m.get("metadata") or {}).get("name") == name
                  and str((m.get("metadata") or {}).get("namespace") or namespace) == namespace), None)
    if found is None:
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"spec.chartRef: HelmChart {namespace}/{name} is not declared in the "
                                                 "source (declare it next to the HelmRelease)", quotes_values=False)
    spec = found.get("spec")
    template: dict[str, Any] = spec if isinstance(spec, dict) else {}
    check_chart_spec(template, f"HelmChart {name} spec", reason)
    return template


def _declared(manifests: list[dict[str, Any]], kind: str, name: str, namespace: str) -> dict[str, Any]:
    """The source object ``kind``/``name`` of the revision in the release's own namespace; ArtifactFailed if absent."""
    found = next((m for m in manifests if m.get("kind") == kind and (m.get("metadata") or {}).get("name") == name
                  and str((m.get("metadata") or {}).get("namespace") or namespace) == namespace), None)
    if found is None or not (found.get("spec") or {}).get("url"):
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{kind} {name!r} not found in the source", quotes_values=False)
    return found


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


def load_from_repository(cache_dir: Path, repo_url: str, name: str, version: str | None,
                         policy: FetchPolicy | None = None) -> helm.Chart:
    """Pull `name` (at `version`, a semver range or exact; newest if unset) from a chart repository index.

    The repository's URL and the chart's URL in its index come from a repository's content: each goes through
    the operator's allow-list (``policy``; kube/outbound.py) and is fetched from the address that was checked.
    """
    policy = policy if policy is not None else FetchPolicy.from_env()
    try:
        policy.check(repo_url, "HelmRepository URL", resolve_names=False)
    except FetchRefused as exc:
        raise HelmReleaseFailed(exc.reason, exc.message, quotes_values=False) from None
    key = hashlib.sha256(f"{repo_url}\0{name}\0{version or ''}".encode()).hexdigest()[:16]
    target = cache_dir / "charts" / key
    with _repo_lock:
        exact = bool(version and _EXACT.match(version))
        archives = sorted(target.glob("*.tgz")) if target.is_dir() and exact else []
        if not archives:
            archives = [_pull(policy, repo_url, name, version, target)]
        try:
            chart = remember_origin(helm.Chart.load_archive(archives[-1].read_bytes()), archives[-1])
        except helm.HelmError as exc:
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"chart archive {archives[-1].name}: {exc}") from exc
        check_dependencies(chart)
        return chart


def _pull(policy: FetchPolicy, repo_url: str, name: str, version: str | None, target: Path) -> Path:
    """Read the index, choose the version as Helm does, download and verify the archive into ``target``."""
    shown = scrub_url(repo_url)
    wanted = version or "latest"
    try:
        raw = pinned_http.get(policy, repo_url.rstrip("/") + "/index.yaml", "HelmRepository URL",
                              max_bytes=MAX_INDEX_BYTES)
        index = (load_documents(raw.decode("utf-8", "replace"), f"the index of {shown}", max_nodes=MAX_INDEX_NODES,
                                max_bytes=MAX_INDEX_BYTES) or [None])[0]
        entry = _choose(index, name, version)
        if entry is None:
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"chart {name!r} version {wanted} from {shown}: chart \"{name}\" "
                                                     f"matching {wanted} not found in {shown} index")
        chart_url = urljoin(repo_url.rstrip("/") + "/", str((entry.get("urls") or [""])[0]))
        archive = pinned_http.get(policy, chart_url, "chart URL", max_bytes=MAX_CHART_BYTES)
    except FetchRefused as exc:  # a redirect, or a chart URL of the index, the allow-list refuses
        raise HelmReleaseFailed(exc.reason, f"chart {name!r} version {wanted} from {shown}: {exc}",
                                quotes_values=False) from None
    except (pinned_http.FetchFailed, LimitExceeded) as exc:
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"chart {name!r} version {wanted} from {shown}: {exc}",
                                quotes_values=False) from None
    except yaml.YAMLError:
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"the index of {shown} is not valid YAML") from None
    digest = str(entry.get("digest") or "")
    if digest and hashlib.sha256(archive).hexdigest() != digest.removeprefix("sha256:"):
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"chart {name!r} {entry.get('version')} from {shown}: the archive "
                                                 "does not match the digest of the index")
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}-{entry.get('version')}.tgz"
    path.write_bytes(archive)
    return path


def _choose(index: Any, name: str, version: str | None) -> dict[str, Any] | None:
    """The index entry Helm would pull: an exact version first, else the highest matching the range ("*" if none)."""
    entries = [e for e in ((index or {}).get("entries") or {}).get(name) or [] if isinstance(e, dict)]
    if version:
        for entry in entries:
            if str(entry.get("version")) == version:
                return entry
    by_version = {str(e.get("version")): e for e in entries}
    try:
        best = best_tag(list(by_version), version or "*")
    except ValueError as exc:
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"chart {name!r} version {version!r}: {exc}") from None
    return by_version.get(best) if best is not None else None
