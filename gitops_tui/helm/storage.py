"""Helm's own release storage: Secrets `sh.helm.release.v1.<name>.v<revision>` of type helm.sh/release.v1.

The release travels as Helm writes it: JSON, gzipped, base64-encoded, and that string is the
Secret's `release` key (so the API shows it base64-encoded once more). Pure: no I/O.
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass, field
from typing import Any

SECRET_TYPE = "helm.sh/release.v1"
OWNER_LABEL_SELECTOR = "owner=helm"
_GZIP_MAGIC = b"\x1f\x8b\x08"

#: Helm's release states, as `info.status` and the `status` label spell them.
DEPLOYED = "deployed"
SUPERSEDED = "superseded"
FAILED = "failed"
UNINSTALLED = "uninstalled"


def secret_name(release: str, revision: int) -> str:
    """Return the storage Secret's name for one revision of a release."""
    return f"sh.helm.release.v1.{release}.v{revision}"


def encode_release(release: dict[str, Any]) -> str:
    """Encode a release the way Helm does: JSON, gzip, then base64."""
    raw = json.dumps(release, separators=(",", ":")).encode()
    return base64.b64encode(gzip.compress(raw, mtime=0)).decode()


def decode_release(encoded: str) -> dict[str, Any]:
    """Decode Helm's stored string back to the release dict (gzip optional, as in Helm)."""
    data = base64.b64decode(encoded)
    if data[:3] == _GZIP_MAGIC:
        data = gzip.decompress(data)
    return json.loads(data)


def storage_secret(release: dict[str, Any], modified_at: int) -> dict[str, Any]:
    """Return the Secret manifest Helm's secret driver would write for `release`."""
    encoded = encode_release(release)
    labels = {
        "name": release["name"],
        "owner": "helm",
        "status": release["info"]["status"],
        "version": str(release["version"]),
        "modifiedAt": str(modified_at),
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(release["name"], release["version"]),
            "namespace": release["namespace"],
            "labels": labels,
        },
        "type": SECRET_TYPE,
        "data": {"release": base64.b64encode(encoded.encode()).decode()},
    }


def release_from_secret(secret: dict[str, Any]) -> dict[str, Any]:
    """Return the release dict a storage Secret (as read from the API) holds."""
    stored = (secret.get("data") or {}).get("release", "")
    return decode_release(base64.b64decode(stored).decode())


@dataclass(frozen=True)
class ReleaseRecord:
    """One revision of one release on one cluster, as listed from Helm's storage."""

    cluster: str
    name: str
    namespace: str
    revision: int
    status: str
    chart: str
    chart_version: str
    app_version: str
    updated: str
    description: str = ""
    values: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def chart_ref(self) -> str:
        """Return `chart-version`, the way `helm list` prints the chart column."""
        return f"{self.chart}-{self.chart_version}"


def record_from_release(cluster: str, release: dict[str, Any]) -> ReleaseRecord:
    """Summarise a decoded release into a ReleaseRecord (values kept for detail views only)."""
    metadata = (release.get("chart") or {}).get("metadata") or {}
    info = release.get("info") or {}
    return ReleaseRecord(
        cluster=cluster,
        name=release.get("name", ""),
        namespace=release.get("namespace", ""),
        revision=int(release.get("version", 0)),
        status=info.get("status", ""),
        chart=metadata.get("name", ""),
        chart_version=str(metadata.get("version", "")),
        app_version=str(metadata.get("appVersion", "") or ""),
        updated=info.get("last_deployed", ""),
        description=info.get("description", ""),
        values=release.get("config") or {},
    )
