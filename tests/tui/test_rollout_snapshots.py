"""Snapshots of a staged rollout (podinfo: dev → staging → prod, prod awaiting approval) on the Sources and
Propagation panes, in describe, and the approve dialog (a), at 80x24 and 120x36."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.rollout_state import with_rollout

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
#: name -> keys pressed (podinfo is the second source of the Sources pane).
VIEWS = {
    "rollout-sources": ("2", "down"),
    "rollout-propagation": ("3",),
    "rollout-describe": ("2", "down", "d"),
    "rollout-approve-dialog": ("2", "down", "a", *"CAB-7 ok"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(VIEWS))
def test_rollout(snap_compare: Any, make_app: Any, name: str, size: tuple[int, int]) -> None:
    """The waves in the cells, the header's waiting rollout, describe's waves, the approve dialog."""
    assert snap_compare(with_rollout(make_app()), press=list(VIEWS[name]), terminal_size=size)
