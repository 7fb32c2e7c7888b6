"""RFC 3339 timestamps as Kubernetes writes them, parsed without failing on bad input."""

from __future__ import annotations

from datetime import datetime


def parse_time(text: object) -> datetime | None:
    """Parse an RFC 3339 timestamp ("2024-01-02T03:04:05Z"), None when empty, not text or malformed."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
