"""Pure formatting helpers: durations, revisions, timestamps (and a wall-clock time in a zone), Flux inventory ids."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Shared with the sandbox, which imports no layer; re-exported here for the layers.
from gitops_tui.util.timestamps import parse_time as parse_time

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str | int | float | None, default: float | None = None) -> float:
    """Parse a Go-style duration ("1m30s", "10m", "1h", "500ms", "45") into seconds.

    A bare number means seconds. Raises ValueError for malformed text unless `default` is given
    (then `default` is returned for None, empty or malformed input).
    """
    if text is None or text == "":
        if default is not None:
            return default
        raise ValueError("empty duration")
    if isinstance(text, (int, float)):
        return float(text)
    value = text.strip()
    try:
        return float(value)
    except ValueError:
        pass
    position = 0
    total = 0.0
    for match in _DURATION_PART.finditer(value):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(value) or position == 0:
        if default is not None:
            return default
        raise ValueError(f"invalid duration {text!r}: use a form like 30s, 5m or 1h30m")
    return total


def format_duration(seconds: float) -> str:
    """Format seconds as a compact Go-style duration ("1m30s", "2h", "45s", "0s")."""
    whole = int(round(seconds))
    if whole <= 0:
        return "0s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if secs:
        parts.append(f"{secs}s")
    return "".join(parts)


def format_revision(ref_name: str | None, sha: str) -> str:
    """Return a Flux v2 revision: "main@sha1:<sha>", or "sha1:<sha>" without a ref name."""
    if ref_name:
        return f"{ref_name}@sha1:{sha}"
    return f"sha1:{sha}"


def parse_revision(revision: str) -> tuple[str, str]:
    """Split "main@sha1:<sha>" into ("main", "<sha>"); "sha1:<sha>" gives ("", "<sha>").

    The legacy form "main/<sha>" is accepted too.
    """
    if "@sha1:" in revision:
        ref_name, sha = revision.rsplit("@sha1:", 1)
        return ref_name, sha
    if revision.startswith("sha1:"):
        return "", revision[len("sha1:"):]
    if "/" in revision:
        ref_name, sha = revision.rsplit("/", 1)
        return ref_name, sha
    return "", revision


def short_revision(revision: str, length: int = 7) -> str:
    """Shorten "main@sha1:<40 hex>" to "main@<7 hex>" for display."""
    if not revision:
        return ""
    ref_name, sha = parse_revision(revision)
    short = sha[:length]
    return f"{ref_name}@{short}" if ref_name else short


def now_rfc3339() -> str:
    """The current UTC time as RFC 3339 with a trailing Z and no fractional seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ObjectRef:
    """One inventory entry: an object identified by namespace, name, API group and kind."""

    namespace: str
    name: str
    group: str
    kind: str
    version: str = "v1"

    @property
    def id(self) -> str:
        """The Flux inventory id "<namespace>_<name>_<group>_<Kind>"."""
        return format_inventory_id(self.namespace, self.name, self.group, self.kind)

    @property
    def api_version(self) -> str:
        """"group/version", or "version" for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def display(self) -> str:
        """"Kind/name", for messages."""
        return f"{self.kind}/{self.name}"

    def to_entry(self) -> dict[str, str]:
        """The status inventory entry {"id": ..., "v": version}."""
        return {"id": self.id, "v": self.version}

    @classmethod
    def from_entry(cls, entry: dict[str, str]) -> ObjectRef:
        """Build from a status inventory entry {"id": ..., "v": ...}."""
        return parse_inventory_id(entry["id"], entry.get("v", "v1"))

    @classmethod
    def from_object(cls, obj: dict) -> ObjectRef:
        """Build from a Kubernetes object dict (apiVersion, kind, metadata)."""
        api_version = obj.get("apiVersion", "")
        group, _, version = api_version.rpartition("/")
        metadata = obj.get("metadata") or {}
        return cls(
            namespace=metadata.get("namespace") or "",
            name=metadata.get("name") or "",
            group=group,
            kind=obj.get("kind", ""),
            version=version or "v1",
        )


def format_inventory_id(namespace: str, name: str, group: str, kind: str) -> str:
    """Format a Flux inventory id "<namespace>_<name>_<group>_<Kind>" (core group is empty)."""
    return f"{namespace or ''}_{name}_{group or ''}_{kind}"


def parse_inventory_id(inventory_id: str, version: str = "v1") -> ObjectRef:
    """Parse "<namespace>_<name>_<group>_<Kind>" into an ObjectRef; ValueError when malformed."""
    parts = inventory_id.split("_")
    if len(parts) != 4 or not parts[1] or not parts[3]:
        raise ValueError(f"invalid inventory id {inventory_id!r}")
    namespace, name, group, kind = parts
    return ObjectRef(namespace=namespace, name=name, group=group, kind=kind, version=version)


def time_zone(name: str) -> ZoneInfo | None:
    """The IANA time zone ``name``, None when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_time(stamp: str, zone_name: str) -> str:
    """An RFC 3339 time as ``Mon 08:00`` on the wall clock of ``zone_name`` (the stamp itself when it does not parse)."""
    when = parse_time(stamp)
    if when is None:
        return stamp
    return when.astimezone(time_zone(zone_name) or UTC).strftime("%a %H:%M")
