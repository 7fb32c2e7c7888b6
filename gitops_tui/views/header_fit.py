"""The header as parts that fit the terminal's width: every count stays; the context and lease text shorten first."""

from __future__ import annotations

from dataclasses import dataclass

from gitops_tui.views import glyphs as g
from gitops_tui.views.header import NOBODY, THIS_CONSOLE, HeaderInfo

#: A shortened part keeps at least this many cells (its ellipsis included).
MIN_PART = 6


@dataclass(frozen=True)
class HeaderPart:
    """One piece of the header: its text, how it is styled, and how readily it shortens (0: never)."""

    text: str
    style: str = ""
    """"" plain, "bold", "dim", or a status word (views.glyphs) for the theme's status colour."""
    give: int = 0
    """Parts with a higher ``give`` are shortened first; counts have 0 and are never cut."""


def header_parts(info: HeaderInfo) -> list[HeaderPart]:
    """The header's parts in order: name, context, read-only, freezes, lease holder, then every count."""
    parts = [HeaderPart("gitops-tui ", "bold"), HeaderPart(f"ctx:{info.context} ", give=2)]
    if info.read_only:
        parts.append(HeaderPart(f"[{info.read_only_reason}] " if info.read_only_reason else "[read-only] ", "bold",
                                give=1))
    if info.freezes:  # incident state: shortened last
        parts.append(HeaderPart(f"{g.glyph(g.SUSPENDED)} {info.freezes} ", g.SUSPENDED, give=1))
    if info.windows:  # a freeze window open now: shortened with the freezes
        parts.append(HeaderPart(f"{g.glyph(g.SUSPENDED)} {info.windows} ", g.SUSPENDED, give=1))
    if info.rollouts:  # a rollout waiting for an operator, or halted
        style = g.FAILING if " halted" in info.rollouts else g.SUSPENDED
        parts.append(HeaderPart(f"{g.ROLLOUT} {info.rollouts} ", style, give=1))
    leader = g.READY if info.leader == THIS_CONSOLE else g.FAILING if info.leader == NOBODY else g.PROGRESS
    parts += [HeaderPart("lease:"), HeaderPart(f"{info.leader} ", leader, give=3)]
    for status, count in ((g.READY, info.ready), (g.FAILING, info.failing), (g.SUSPENDED, info.suspended)):
        parts.append(HeaderPart(f"{g.glyph(status)}{count} ", status))
    for status, count in ((g.WAITING, info.waiting), (g.PROGRESS, info.progressing), (g.STALE, info.stale)):
        if count:
            parts.append(HeaderPart(f"{g.glyph(status)}{count} ", status))
    return parts


def fit_header(parts: list[HeaderPart], width: int) -> list[HeaderPart]:
    """Shorten the parts that may give (highest ``give`` first, each to MIN_PART at least) until they fit ``width``."""
    out = list(parts)
    excess = sum(len(p.text) for p in out) - width
    for give in sorted({p.give for p in out if p.give}, reverse=True):
        for index, part in enumerate(out):
            if excess <= 0:
                return out
            if part.give != give or len(part.text) <= MIN_PART:
                continue
            keep = max(MIN_PART, len(part.text) - excess)
            excess -= len(part.text) - keep
            out[index] = HeaderPart(part.text[: keep - 2] + "… ", part.style, part.give)
    return out
