"""Writes within one cluster in parallel: objects of one apply rank at once (at most 4, as Flux), ranks in order.

The apply order (propagate.apply_order: Namespaces, CRDs, ServiceAccounts, ConfigMaps, ... before workloads) is kept
between ranks: every object of a rank is written before the first of the next one starts, so a Deployment still
never goes out before the ConfigMap it mounts. Inside a rank the writes run ``MAX_PARALLEL_APPLIES`` at a time,
the bound Flux's kustomize-controller gives its concurrent applies (``--concurrent=4``). The first failure stops
the rank's writes not yet begun (each write is checked by its own stop check) and is raised after the writes in
flight end, so a failure leaves no write running behind the reconcile.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

#: Concurrent writes to one cluster (Flux's kustomize-controller: 4 concurrent applies).
MAX_PARALLEL_APPLIES = 4

T = TypeVar("T")


def apply_by_rank(objects: Sequence[dict[str, Any]], rank: Callable[[dict[str, Any]], int],
                  write: Callable[[dict[str, Any]], T], limit: int = MAX_PARALLEL_APPLIES) -> list[T]:
    """``write(obj)`` for every object (already in apply order): ranks in order, a rank's objects ``limit`` at a
    time; return the results in the objects' order, or raise the first failure (in that order)."""
    results: list[T] = []
    for _rank, group in itertools.groupby(objects, key=rank):
        batch = list(group)
        if len(batch) == 1 or limit <= 1:
            results.extend(write(obj) for obj in batch)
            continue
        failed = threading.Event()

        def one(obj: dict[str, Any], failed: threading.Event = failed) -> T:
            if failed.is_set():
                raise _Skipped()
            try:
                return write(obj)
            except BaseException:
                failed.set()
                raise

        with ThreadPoolExecutor(max_workers=min(limit, len(batch)), thread_name_prefix="apply") as pool:
            futures = [pool.submit(one, obj) for obj in batch]
        errors = [f.exception() for f in futures]
        first = next((e for e in errors if e is not None and not isinstance(e, _Skipped)), None)
        if first is not None:
            raise first
        results.extend(f.result() for f in futures)
    return results


class _Skipped(Exception):
    """A write not begun because another of its rank failed."""
