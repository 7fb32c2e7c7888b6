"""Every write to a workload cluster: the stop check before it, and the record observers (tests, benchmarks) see."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitops_tui.kube.inventory import ObjectRef, describe
from gitops_tui.reconciler.errors import Stopped

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriteRecord:
    """One write to a workload cluster, for audits, tests and benchmarks (monotonic times)."""

    cluster: str
    verb: str
    object_id: str
    started: float
    finished: float


#: Observers called after every write to a workload cluster (tests and benchmarks count writes here).
WRITE_HOOKS: list[Callable[[WriteRecord], None]] = []
_HOOKS_LOCK = threading.Lock()


def add_write_hook(hook: Callable[[WriteRecord], None]) -> Callable[[], None]:
    """Register ``hook`` for every write; return a function that removes it."""
    with _HOOKS_LOCK:
        WRITE_HOOKS.append(hook)

    def remove() -> None:
        with _HOOKS_LOCK:
            if hook in WRITE_HOOKS:
                WRITE_HOOKS.remove(hook)

    return remove


def _notify(record: WriteRecord) -> None:
    for hook in list(WRITE_HOOKS):
        try:
            hook(record)
        except Exception:  # noqa: BLE001 - an observer never breaks an apply
            log.exception("write hook failed")


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
        _notify(WriteRecord(cluster, verb, ref.id, started, time.monotonic()))
