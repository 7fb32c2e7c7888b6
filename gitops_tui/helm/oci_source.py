"""Where an OCI chart comes from: an OCIRepository (a HelmRelease's chartRef) or an OCI HelmRepository, as Flux reads them.

Pure: reads the Flux object, refuses by name the fields this reconciler does not implement, and chooses the tag a
semver range selects. Fetching is helm/oci.py's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from gitops_tui.api.formats import parse_duration
from gitops_tui.api.semver import best_tag
from gitops_tui.helm.errors import ARTIFACT_FAILED, HelmReleaseFailed

#: The layers of a Helm chart artifact (Helm's chart layer, and the legacy one Helm still reads).
HELM_CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
LEGACY_CHART_LAYER = "application/tar+gzip"
OPERATIONS = ("extract", "copy")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
#: OCIRepository fields refused by name (what to do instead); ``ignore`` and ``suspend`` are read as below.
UNSUPPORTED = {
    "verify": "spec.verify (cosign/notation signatures) is not supported; pin the chart with spec.ref.digest",
    "certSecretRef": "spec.certSecretRef is not supported; the registry's certificate is verified with the "
                     "reconciler's trust store",
    "proxySecretRef": "spec.proxySecretRef is not supported; the reconciler connects through the operator's "
                      "allow-list",
    "serviceAccountName": "spec.serviceAccountName is not supported; give the registry credentials in spec.secretRef",
}
DEFAULT_INTERVAL = 60.0
DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True)
class OCIChartSource:
    """An OCI chart reference as Flux would fetch it: the repository URL, the ref, the layer and the credentials."""

    what: str
    url: str
    insecure: bool = False
    tag: str = ""
    semver: str = ""
    semver_filter: str = ""
    digest: str = ""
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    secret: str = ""

    @property
    def ref_text(self) -> str:
        """The ref as the object names it, for messages and the memo of resolved digests."""
        if self.digest:
            return f"digest {self.digest}"
        if self.semver:
            return f"semver {self.semver!r}" + (f" (semverFilter {self.semver_filter!r})" if self.semver_filter else "")
        return f"tag {self.tag or 'latest'}"

    @property
    def host(self) -> str:
        """host[:port] of the registry, as Docker credentials name it."""
        return self.url[len("oci://"):].split("/", 1)[0]


def _url(value: Any, where: str) -> str:
    url = str(value or "").rstrip("/")
    if not url.startswith("oci://") or "/" not in url[len("oci://"):]:
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{where}: spec.url {url!r} is not an OCI repository URL "
                                                 "(oci://host/path)", quotes_values=False)
    last = url.rsplit("/", 1)[1]
    if "@" in last or ":" in last:
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{where}: spec.url {url!r} names a tag or digest; give it in "
                                                 "spec.ref", quotes_values=False)
    return url


def from_oci_repository(obj: dict[str, Any]) -> OCIChartSource:
    """Read an OCIRepository; HelmReleaseFailed naming the first field this reconciler does not implement."""
    spec = obj.get("spec") or {}
    where = f"OCIRepository/{(obj.get('metadata') or {}).get('name')}"
    for key, message in UNSUPPORTED.items():
        if spec.get(key):
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"{where}: {message}", quotes_values=False)
    if spec.get("provider") not in (None, "", "generic"):
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{where}: spec.provider {spec['provider']} is not supported; only "
                                                 "generic (credentials in spec.secretRef)", quotes_values=False)
    layer = spec.get("layerSelector") or {}
    media_type = str(layer.get("mediaType") or "")
    if media_type and media_type not in (HELM_CHART_LAYER, LEGACY_CHART_LAYER):
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{where}: spec.layerSelector.mediaType {media_type} is not a Helm "
                                                 f"chart layer; a HelmRelease's chartRef needs {HELM_CHART_LAYER}",
                                quotes_values=False)
    if str(layer.get("operation") or "extract") not in OPERATIONS:
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{where}: spec.layerSelector.operation: Unsupported value: "
                                                 f"\"{layer.get('operation')}\": supported values: \"extract\", \"copy\"",
                                quotes_values=False)
    ref = spec.get("ref") or {}
    digest = str(ref.get("digest") or "")
    if digest and not _DIGEST.match(digest):
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{where}: spec.ref.digest {digest!r} is not sha256:<64 hex digits>",
                                quotes_values=False)
    return OCIChartSource(
        what=where, url=_url(spec.get("url"), where), insecure=bool(spec.get("insecure")),
        tag=str(ref.get("tag") or ""), semver=str(ref.get("semver") or ""),
        semver_filter=str(ref.get("semverFilter") or ""), digest=digest,
        interval=parse_duration(spec.get("interval"), DEFAULT_INTERVAL),
        timeout=parse_duration(spec.get("timeout"), DEFAULT_TIMEOUT),
        secret=str((spec.get("secretRef") or {}).get("name") or ""))


def from_helm_repository(obj: dict[str, Any], chart: str, version: str | None, interval: Any) -> OCIChartSource:
    """An OCI HelmRepository and a chart name and version of a HelmRelease's chart.spec (exact, or a semver range)."""
    spec = obj.get("spec") or {}
    where = f"HelmRepository/{(obj.get('metadata') or {}).get('name')}"
    if spec.get("provider") not in (None, "", "generic"):
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{where}: spec.provider {spec['provider']} is not supported; only "
                                                 "generic (credentials in spec.secretRef)", quotes_values=False)
    for key in ("certSecretRef", "proxySecretRef"):
        if spec.get(key):
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"{where}: {UNSUPPORTED[key]}", quotes_values=False)
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9._]*[a-z0-9])?", chart):
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"spec.chart.spec.chart {chart!r} is not a chart name",
                                quotes_values=False)
    exact = version and re.fullmatch(r"v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?", version)
    return OCIChartSource(
        what=f"{where} chart {chart}", url=f"{_url(spec.get('url'), where)}/{chart}",
        insecure=bool(spec.get("insecure")), tag=version if exact and version else "",
        semver="" if exact else (version or "*"), interval=parse_duration(interval, DEFAULT_INTERVAL),
        timeout=parse_duration(spec.get("timeout"), DEFAULT_TIMEOUT),
        secret=str((spec.get("secretRef") or {}).get("name") or ""))


def choose_tag(source: OCIChartSource, tags: list[str]) -> str:
    """The tag a semver range (after semverFilter) selects, as Flux does; HelmReleaseFailed when none matches."""
    candidates = tags
    if source.semver_filter:
        try:
            pattern = re.compile(source.semver_filter)
        except re.error as exc:
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"{source.what}: spec.ref.semverFilter is not a regular "
                                                     f"expression: {exc}", quotes_values=False) from None
        candidates = [t for t in tags if pattern.search(t)]
    try:
        best = best_tag(candidates, source.semver)
    except ValueError as exc:
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{source.what}: {exc}", quotes_values=False) from None
    if best is None:
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{source.what}: no tag of {source.url} matches "
                                                 f"{source.ref_text}", quotes_values=False)
    return best


def credentials(source: OCIChartSource, data: dict[str, bytes] | None) -> tuple[str, str]:
    """(username, password) for the registry from a Secret's data: ``.dockerconfigjson`` (kubectl create secret
    docker-registry) for the registry's host, else ``username``/``password``; ('', '') without a Secret."""
    if not data:
        return "", ""
    if ".dockerconfigjson" in data:
        try:
            auths = (json.loads(data[".dockerconfigjson"].decode("utf-8")) or {}).get("auths") or {}
        except (ValueError, UnicodeDecodeError, AttributeError):
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"{source.what}: Secret {source.secret!r} holds no valid "
                                                     ".dockerconfigjson", quotes_values=False) from None
        for key, entry in auths.items() if isinstance(auths, dict) else ():
            if re.sub(r"^https?://", "", str(key)).rstrip("/").split("/", 1)[0] == source.host and isinstance(entry, dict):
                return _user_password(entry)
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{source.what}: Secret {source.secret!r} holds no credentials "
                                                 f"for {source.host}", quotes_values=False)
    return (data.get("username") or b"").decode("utf-8", "replace"), (data.get("password") or b"").decode(
        "utf-8", "replace")


def _user_password(entry: dict[str, Any]) -> tuple[str, str]:
    if entry.get("auth"):
        import base64

        try:
            user, _, password = base64.b64decode(str(entry["auth"])).decode("utf-8").partition(":")
            return user, password
        except (ValueError, UnicodeDecodeError):
            return "", ""
    return str(entry.get("username") or ""), str(entry.get("password") or "")
