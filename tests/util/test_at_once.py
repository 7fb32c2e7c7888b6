"""at_once: independent calls run at the same time, results in order, every call finished before an error is raised."""

from __future__ import annotations

import threading

import pytest

from gitops_tui.util.at_once import at_once


def test_the_calls_overlap_and_the_results_keep_their_order() -> None:
    both = threading.Barrier(2, timeout=10)  # passes only when both calls run at once

    def first() -> str:
        both.wait()
        return "first"

    def second() -> str:
        both.wait()
        return "second"

    assert at_once(first, second) == ["first", "second"]
    assert at_once() == [] and at_once(lambda: 1) == [1]


def test_an_error_is_raised_after_every_call_ended() -> None:
    released, ended = threading.Event(), threading.Event()

    def fails() -> None:
        released.set()  # the other call ends only after this one raised
        raise ValueError("refused")

    def after() -> None:
        assert released.wait(10)
        ended.set()

    with pytest.raises(ValueError, match="refused"):
        at_once(fails, after)
    assert ended.is_set()
