"""The reconciler's side of shards: which shard a management object is in, and whether this process may act on it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from gitops_tui.api import names
from gitops_tui.kube.shard_leases import ShardElector


class ShardGate:
    """Maps management objects to shards and answers "may this process write for it now?" (at every write).

    A project's objects (the Project, its FederatedSecrets and sources) are in the shard of the project's
    namespace; KubeFedClusters are in the shard of kube-federation-system, so one process checks cluster
    health. Without an elector (a reconciler run without election) every object may be acted on.
    """

    def __init__(self, elector: ShardElector | None, project_namespace: Callable[[str], str],
                 stopped: Callable[[], bool]) -> None:
        """``project_namespace(name)``: a Project's namespace; ``stopped()``: the reconciler is stopping."""
        self.elector = elector
        self._project_namespace = project_namespace
        self._stopped = stopped
        self._running: Counter[int] = Counter()
        self._lock = threading.Lock()

    def shard(self, kind: str, namespace: str, name: str) -> int | None:
        """The shard of an object (None without an elector)."""
        if self.elector is None:
            return None
        key = self._project_namespace(name) if kind == names.KIND_PROJECT else namespace
        return self.elector.shard_of(key)

    def may_act(self, kind: str, namespace: str, name: str) -> bool:
        """True while this process holds the object's shard (checked again before every write)."""
        if self._stopped():
            return False
        shard = self.shard(kind, namespace, name)
        return shard is None or self.elector is not None and self.elector.holds(shard)

    def retry_after(self, kind: str, namespace: str, name: str) -> float | None:
        """For an object not acted on now: seconds to wait when its shard is ours but its renewal is late, else None."""
        shard = self.shard(kind, namespace, name)
        if shard is not None and self.elector is not None and self.elector.assigned(shard):
            return self.elector.retry_period
        return None

    @contextmanager
    def running(self, kind: str, namespace: str, name: str) -> Iterator[None]:
        """Count a reconcile as in flight in its shard (a shard is given back only when none is)."""
        shard = self.shard(kind, namespace, name)
        if shard is None:
            yield
            return
        with self._lock:
            self._running[shard] += 1
        try:
            yield
        finally:
            with self._lock:
                self._running[shard] -= 1

    def busy(self, shard: int) -> bool:
        """True while a reconcile of the shard is in flight."""
        with self._lock:
            return self._running[shard] > 0
