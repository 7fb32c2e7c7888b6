"""Recorded Helm release revisions for the static backend (snapshot tests, screenshots): never values."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from gitops_tui.helm.listing import ReleaseRow, release_rows
from gitops_tui.views.state import ManagementState


class _RecordedView:
    """Recorded revisions answering ``history(cluster, namespace, name)`` like the live HelmView."""

    def __init__(self, records: list[Any]) -> None:
        self.records = records

    def history(self, cluster: str, namespace: str, name: str) -> list[Any]:
        """Return one release's revisions on one cluster, newest first."""
        chosen = [r for r in self.records if (r.cluster, r.namespace, r.name) == (cluster, namespace, name)]
        return sorted(chosen, key=lambda r: r.revision, reverse=True)


class RecordedReleases:
    """A provider over recorded release revisions (snapshot tests, screenshots): grouped like the live pane."""

    def __init__(self, entries: Iterable[dict[str, Any]]) -> None:
        from gitops_tui.helm.storage import ReleaseRecord

        fields = ("cluster", "name", "namespace", "revision", "status", "chart", "chart_version",
                  "app_version", "updated", "description")
        records = [ReleaseRecord(**{f: e.get(f, 0 if f == "revision" else "") for f in fields}) for e in entries]
        self.view = _RecordedView(records)
        """The recorded revisions (values are never recorded)."""

    def __call__(self, state: ManagementState) -> list[ReleaseRow]:
        """Return the rows: one per release and chart version."""
        by_cluster: dict[str, list[Any]] = defaultdict(list)
        for record in self.view.records:
            by_cluster[record.cluster].append(record)
        return release_rows(by_cluster)


def record_entries(records: Iterable[Any]) -> list[dict[str, Any]]:
    """Return release records as plain dicts for a fixture (never their values)."""
    return [{"cluster": r.cluster, "name": r.name, "namespace": r.namespace, "revision": r.revision,
             "status": r.status, "chart": r.chart, "chart_version": r.chart_version,
             "app_version": r.app_version, "updated": r.updated, "description": r.description} for r in records]
