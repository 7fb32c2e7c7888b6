"""A source's pin (spec.template.spec.pin of the FederatedKustomization) and its applied-revision history; no I/O.

A pin holds some or all clusters at an earlier revision while git moves on:
``pin {revision, clusters, by, reason, at, untilContains}``; ``clusters`` empty means every placed cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_tui.api.formats import parse_revision, short_revision
from gitops_tui.api.source import GitOpsSource

#: Applied revisions kept per cluster in status.clusters[].history (newest first).
HISTORY_LIMIT = 20


@dataclass(frozen=True)
class Pin:
    """Who pinned the source, why, when, at which revision, on which clusters ([] = all)."""

    revision: str
    clusters: tuple[str, ...] = ()
    by: str = ""
    reason: str = ""
    at: str = ""
    until_contains: str = ""
    identity: str = ""
    """The user the API server saw when the operator pinned (SelfSubjectReview), '' when not recorded."""
    verified: bool = True
    """False for a pin only a member's write declares (no operator's record on the Project)."""

    @property
    def commit(self) -> str:
        """The pinned commit SHA."""
        return parse_revision(self.revision)[1]

    @property
    def branch(self) -> str:
        """The ref name of the pinned revision ("" for a bare commit)."""
        return parse_revision(self.revision)[0]

    def covers(self, cluster: str) -> bool:
        """Whether ``cluster`` is held at the pinned revision."""
        return not self.clusters or cluster in self.clusters

    @property
    def short(self) -> str:
        """The pinned revision shortened for a cell ("main@1a2b3c4")."""
        return short_revision(self.revision)

    def describe(self) -> str:
        """One line: "pinned at main@1a2b3c4 on prod by alice: bad release"."""
        where = f" on {', '.join(self.clusters)}" if self.clusters else ""
        until = f" until git contains {self.until_contains[:12]}" if self.until_contains else ""
        who = f"{self.by or 'someone'}{'' if self.verified else ' (unverified)'}"
        return f"pinned at {self.short}{where}{until} by {who}: {self.reason}"

    def to_spec(self) -> dict[str, Any]:
        """The spec.template.spec.pin value."""
        spec: dict[str, Any] = {"revision": self.revision, "by": self.by, "reason": self.reason, "at": self.at}
        if self.clusters:
            spec["clusters"] = list(self.clusters)
        if self.until_contains:
            spec["untilContains"] = self.until_contains
        if self.identity:
            spec["identity"] = self.identity
        return spec

    def same_intent(self, other: Pin | None) -> bool:
        """Whether ``other`` pins the same commit on the same clusters (who and when aside)."""
        return other is not None and (self.commit, set(self.clusters)) == (other.commit, set(other.clusters))


def pin_of(source: GitOpsSource | dict[str, Any] | None) -> Pin | None:
    """The pin of a source (or of a raw FederatedKustomization); None when not pinned."""
    raw = source.kustomization if isinstance(source, GitOpsSource) else source
    spec = (((raw or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    return pin_from_record(spec.get("pin"))


def pin_from_record(pin: Any, verified: bool = True) -> Pin | None:
    """A pin recorded as a dict (a FederatedKustomization's spec.template.spec.pin, or the operator's record)."""
    if not isinstance(pin, dict) or not pin.get("revision"):
        return None
    return Pin(revision=str(pin["revision"]), clusters=tuple(str(c) for c in pin.get("clusters") or []),
               by=str(pin.get("by") or ""), reason=str(pin.get("reason") or ""), at=str(pin.get("at") or ""),
               until_contains=str(pin.get("untilContains") or ""), identity=str(pin.get("identity") or ""),
               verified=verified)


def pin_patch(pin: Pin | None) -> dict[str, Any]:
    """A JSON merge patch for the FederatedKustomization setting (or, with None, removing) the pin."""
    return {"spec": {"template": {"spec": {"pin": pin.to_spec() if pin else None}}}}


@dataclass(frozen=True)
class AppliedRevision:
    """One revision applied to one cluster: when and by whom or what."""

    cluster: str
    revision: str
    at: str
    by: str


@dataclass
class RevisionHistory:
    """The applied revisions of a source, per cluster, newest first."""

    clusters: dict[str, list[AppliedRevision]] = field(default_factory=dict)

    def revisions(self) -> list[str]:
        """Every distinct revision applied anywhere, newest first."""
        seen: dict[str, str] = {}
        for items in self.clusters.values():
            for item in items:
                if item.revision not in seen or item.at > seen[item.revision]:
                    seen[item.revision] = item.at
        return sorted(seen, key=lambda r: seen[r], reverse=True)


def history_of(source: GitOpsSource) -> RevisionHistory:
    """The applied-revision history recorded in status.clusters[].history."""
    status = (source.kustomization or {}).get("status") or {}
    result = RevisionHistory()
    for entry in status.get("clusters") or []:
        name = str(entry.get("name") or "")
        rows = [AppliedRevision(name, str(h.get("revision") or ""), str(h.get("at") or ""), str(h.get("by") or ""))
                for h in entry.get("history") or [] if isinstance(h, dict) and h.get("revision")]
        if name:
            result.clusters[name] = rows
    return result


def with_history(entry: dict[str, Any], revision: str, at: str, by: str) -> None:
    """Put ``revision`` first in a cluster status entry's history (bounded by HISTORY_LIMIT)."""
    history = [h for h in entry.get("history") or [] if isinstance(h, dict)]
    if history and history[0].get("revision") == revision:
        return
    entry["history"] = [{"revision": revision, "at": at, "by": by}, *history][:HISTORY_LIMIT]
