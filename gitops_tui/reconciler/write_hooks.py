"""Every write to a workload cluster: the stop check before it, and the record observers (tests, benchmarks) see."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitops_tui.kube.inventory import ObjectRef, describe
from gitops_tui.reconciler.errors import Stopped
from gitops_tui.util.observers import Observers


@dataclass(frozen=True)
class WriteRecord:
    """One write to a workload cluster, for audits, tests and benchmarks (monotonic times)."""

    cluster: str
    verb: str
    object_id: str
    started: float
    finished: float


#: Observers called after every write to a workload cluster (tests and benchmarks count writes here).
_HOOKS: Observers[[WriteRecord]] = Observers("write hook")


def add_write_hook(hook: Callable[[WriteRecord], None]) -> Callable[[], None]:
    """Register ``hook`` for every write; return a function that removes it."""
    return _HOOKS.add(hook)


def guarded_write(
    cluster: str, verb: str, ref: ObjectRef, stop: Callable[[], bool], write: Callable[[], Any]
) -> Any:
    """Run ``write`` unless ``stop()`` says stop (Stopped); every write is recorded for the hooks."""
    if stop():
        raise Stopped(f"stopped before {verb} of {describe(ref)} on {cluster}")
    started = time.monotonic()
    try:
        return write()
    finally:
        if _HOOKS:
            _HOOKS.notify(WriteRecord(cluster, verb, ref.id, started, time.monotonic()))
