"""What the console's pin dialog offers and asks: the revisions a source applied, and a checked pin request."""

from __future__ import annotations

from dataclasses import dataclass, field

from gitops_tui.api.pin import RevisionHistory
from gitops_tui.views import glyphs as g
from gitops_tui.views.timefmt import parse_time


@dataclass(frozen=True)
class PinChoice:
    """One revision the source applied: where, when and by whom (newest first in the dialog)."""

    revision: str
    clusters: tuple[str, ...]
    at: str
    by: str

    @property
    def label(self) -> str:
        """``main@abc1234  dev,prod  01-15 11:40  reconciler (git)``."""
        moment = parse_time(self.at)
        when = moment.strftime("%m-%d %H:%M") if moment else "-"
        return f"{g.short_revision(self.revision)}  {','.join(self.clusters)}  {when}  {self.by}"


def pin_choices(history: RevisionHistory) -> list[PinChoice]:
    """Every applied revision once, newest first, with the clusters it ran on and its latest apply."""
    found: dict[str, PinChoice] = {}
    for cluster, items in history.clusters.items():
        for item in items:
            known = found.get(item.revision)
            clusters = (*(known.clusters if known else ()), cluster)  # the history's order: placement order
            latest = item if known is None or item.at >= known.at else known
            found[item.revision] = PinChoice(item.revision, clusters, latest.at, latest.by)
    return sorted(found.values(), key=lambda c: c.at, reverse=True)


@dataclass(frozen=True)
class PinRequest:
    """A pin asked in the console: the revision, why, on which clusters ([] = all), and the optional fix commit."""

    revision: str
    reason: str
    clusters: list[str] = field(default_factory=list)
    until_contains: str = ""


def check_pin_form(revision: str, reason: str, clusters_text: str, until: str,
                   known_clusters: list[str]) -> tuple[PinRequest | None, str]:
    """Return (the request, '') or (None, one sentence saying what to fix)."""
    if not revision:
        return None, "Choose a revision."
    if not reason.strip():
        return None, "A reason is required."
    clusters = [c.strip() for c in clusters_text.replace(" ", ",").split(",") if c.strip()]
    unknown = [c for c in clusters if c not in known_clusters]
    if unknown:
        return None, f"{unknown[0]} is not a cluster of this source ({', '.join(known_clusters)})."
    fix = until.strip().lower()
    if fix and (len(fix) < 7 or any(ch not in "0123456789abcdef" for ch in fix)):
        return None, "The fix commit is a SHA: 7 to 40 hex digits."
    return PinRequest(revision, reason.strip(), clusters, fix), ""


def pin_preview_lead(request: PinRequest, preview: str) -> str:
    """The first line of the pin confirmation: what pinning changes now."""
    where = ", ".join(request.clusters) or "every cluster"
    if not preview.strip():
        return f"Nothing changes now on {where}: it already runs {g.short_revision(request.revision)}."
    return f"Pinning {where} at {g.short_revision(request.revision)} changes:"
