"""A dry-run diff report as diff-like lines, for the console's resume and pin previews."""

from __future__ import annotations

from typing import Any


def format_preview(report: Any) -> str:
    """Turn a resume preview (a DiffReport) into diff-like lines ('' when nothing would change)."""
    lines: list[str] = []
    if getattr(report, "error", ""):
        lines.append(f"! cannot compute the preview: {report.error}")
    for cluster in getattr(report, "clusters", []):
        if cluster.error:
            lines.append(f"! {cluster.cluster}: {cluster.error}")
        for drift in cluster.objects:
            data = drift.to_dict()
            by = ", ".join(drift.managers) or "an unknown manager"
            if data["missing"]:
                lines.append(f"+ {cluster.cluster}: {data['object']} is missing; it will be created again")
                continue
            lines.append(f"@ {cluster.cluster}: {data['object']} (changed by {by})")
            for change in data["fields"]:
                lines.append(f"-   {change['path']}: {change['live']}")
                lines.append(f"+   {change['path']}: {change['desired']}")
    return "\n".join(lines)
