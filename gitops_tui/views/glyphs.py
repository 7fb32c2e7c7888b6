"""Status words, glyphs and style classes shared by every pane (narrow, 16-colour friendly)."""

from __future__ import annotations

import re

_DIGEST = re.compile(r"@sha1:([0-9a-f]{7})[0-9a-f]{5,33}\b")

READY = "ready"
FAILING = "failing"
PROGRESS = "progress"
SUSPENDED = "suspended"
WAITING = "waiting"
"""A staged rollout waiting for an operator's approval: not a hold anyone placed, so not "suspended" (Argo
Rollouts' "Paused", Flagger's "Waiting"); `get sources` shows it in ROLLOUT, never in SUSPENDED."""
UNKNOWN = "unknown"
OFFLINE = "offline"
NONE = "none"
STALE = "stale"
"""Data from a cluster that stopped answering: drawn with its own glyph and age, never as ready."""
DIFFERS = "differs"
"""A value that differs between clusters (a Helm chart version): drawn in the theme's warning colour."""

#: One narrow glyph per status: readable in 16 colours and without colour at all.
GLYPHS = {
    READY: "✓",
    FAILING: "✗",
    PROGRESS: "↻",
    SUSPENDED: "‖",
    WAITING: "»",
    UNKNOWN: "?",
    OFFLINE: "✗",
    STALE: "◌",
    NONE: "·",
}

#: Human label per status.
LABELS = {
    READY: "Ready",
    FAILING: "Failing",
    PROGRESS: "Progressing",
    SUSPENDED: "Suspended",
    WAITING: "Waiting",
    UNKNOWN: "Unknown",
    OFFLINE: "Offline",
    STALE: "Stale",
    NONE: "",
}


#: Marks a pinned source or cluster cell (held at an earlier revision while git moves on).
PIN = "◆"
#: Marks a frozen cluster a break glass applies once (the revision it applies follows).
BREAK_GLASS = "↯"
#: Marks a source's staged rollout (its waves, where it is, what it waits for).
ROLLOUT = "»"


def glyph(status: str) -> str:
    """Return the glyph for a status word."""
    return GLYPHS.get(status, GLYPHS[UNKNOWN])


def short_revision(revision: str | None) -> str:
    """Shorten ``main@sha1:<40 hex>`` to ``main@abc1234``."""
    if not revision:
        return ""
    ref, _, digest = revision.partition("@")
    if not digest:
        return revision[:12] if len(revision) > 20 else revision
    _, _, sha = digest.rpartition(":")
    return f"{ref}@{sha[:7]}"


def shorten_digests(text: str) -> str:
    """Shorten every ``REF@sha1:<40 hex>`` in a message to ``REF@abc1234`` (tables stay narrow)."""
    return _DIGEST.sub(r"@\1", text)


def counted(count: int, noun: str) -> str:
    """Return ``1 object`` / ``3 objects`` (English plural by an added s)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
