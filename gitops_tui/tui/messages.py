"""Typed messages of the console; fast ones merge so a busy cluster never floods the queue."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


class StateChanged(Message):
    """The management state moved; panes whose kinds changed redraw. Merges with a pending one."""

    def can_replace(self, message: Message) -> bool:
        """A newer StateChanged makes a pending one redundant."""
        return isinstance(message, StateChanged)


@dataclass
class OperationDone(Message):
    """A write to the management cluster finished (ok) or failed (with a one-line message)."""

    text: str
    ok: bool = True


@dataclass
class FeedFailed(Message):
    """The list/watch feed stopped with an error; the console keeps its last state."""

    text: str
