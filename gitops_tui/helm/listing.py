"""The cross-cluster release view: Helm's storage on each cluster, grouped into one row per version."""

from __future__ import annotations

import binascii
import gzip
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from gitops_tui.helm.storage import ReleaseRecord, record_from_release, release_from_secret

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReleaseRow:
    """One release at one chart version, with every cluster that runs it at that version."""

    name: str
    namespace: str
    chart: str
    chart_version: str
    app_version: str
    status: str
    revision: int
    updated: str
    clusters: tuple[str, ...]
    versions_differ: bool = False
    """True when the same release runs at another chart version on some other cluster."""

    @property
    def key(self) -> str:
        """A key unique per row: namespace, release and chart version."""
        return f"{self.namespace}/{self.name}@{self.chart_version}"

    def as_dict(self) -> dict[str, Any]:
        """Return the row as plain JSON-ready data (for `-o json`)."""
        return {
            "name": self.name,
            "namespace": self.namespace,
            "chart": self.chart,
            "chartVersion": self.chart_version,
            "appVersion": self.app_version,
            "status": self.status,
            "revision": self.revision,
            "updated": self.updated,
            "clusters": list(self.clusters),
            "versionsDiffer": self.versions_differ,
        }


def records_from_secrets(cluster: str, secrets: Iterable[dict[str, Any]]) -> list[ReleaseRecord]:
    """Decode Helm storage Secrets of one cluster; a record that does not decode is skipped and logged."""
    records = []
    for secret in secrets:
        meta = secret.get("metadata") or {}
        try:
            records.append(record_from_release(cluster, release_from_secret(secret)))
        except (binascii.Error, gzip.BadGzipFile, json.JSONDecodeError, UnicodeDecodeError, EOFError, OSError):
            log.warning("cluster %s: Helm record %s/%s does not decode", cluster, meta.get("namespace"), meta.get("name"))
    return records


def current_records(records: Iterable[ReleaseRecord]) -> list[ReleaseRecord]:
    """Keep the newest revision of each release per cluster (what `helm list --all` shows)."""
    newest: dict[tuple[str, str, str], ReleaseRecord] = {}
    for record in records:
        key = (record.cluster, record.namespace, record.name)
        if key not in newest or record.revision > newest[key].revision:
            newest[key] = record
    return list(newest.values())


def release_rows(records_by_cluster: Mapping[str, Iterable[ReleaseRecord]]) -> list[ReleaseRow]:
    """Group the current releases of every cluster: one row per (release, chart version)."""
    groups: dict[tuple[str, str], dict[tuple[str, str], list[ReleaseRecord]]] = defaultdict(lambda: defaultdict(list))
    for records in records_by_cluster.values():
        for record in current_records(records):
            groups[(record.namespace, record.name)][(record.chart, record.chart_version)].append(record)
    rows = []
    for (namespace, name), by_version in groups.items():
        differ = len(by_version) > 1
        for (chart, version), members in by_version.items():
            newest = max(members, key=lambda r: (r.updated, r.revision))
            rows.append(
                ReleaseRow(
                    name=name,
                    namespace=namespace,
                    chart=chart,
                    chart_version=version,
                    app_version=newest.app_version,
                    status=_combined_status(members),
                    revision=newest.revision,
                    updated=newest.updated,
                    clusters=tuple(sorted(m.cluster for m in members)),
                    versions_differ=differ,
                )
            )
    rows.sort(key=lambda r: (r.namespace, r.name, r.chart_version))
    return rows


def _combined_status(members: list[ReleaseRecord]) -> str:
    statuses = sorted({m.status for m in members})
    return statuses[0] if len(statuses) == 1 else "mixed: " + ",".join(statuses)


def history(records: Iterable[ReleaseRecord], cluster: str, namespace: str, name: str) -> list[ReleaseRecord]:
    """Return one release's revisions on one cluster, newest first."""
    chosen = [r for r in records if (r.cluster, r.namespace, r.name) == (cluster, namespace, name)]
    return sorted(chosen, key=lambda r: r.revision, reverse=True)


def short_time(timestamp: str) -> str:
    """Return an RFC 3339 time (Helm writes nanoseconds and offsets) as `YYYY-MM-DD HH:MM:SS` UTC."""
    from datetime import datetime

    text = str(timestamp or "")
    if not text:
        return ""
    head, _, rest = text.partition(".")
    zone = rest.lstrip("0123456789") if rest else ""
    try:
        when = datetime.fromisoformat((head + (zone or "")).replace("Z", "+00:00"))
    except ValueError:
        return text
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S")
