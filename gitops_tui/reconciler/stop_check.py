"""The check before every write to a workload cluster: stop when the source was suspended, deleted or frozen there,
or this process no longer holds the source's shard.

With ``STRICT_STOP`` (on) the FederatedKustomization and its Project are read fresh from the management cluster
before each write, so a suspend or a freeze recorded a moment ago stops the apply at the next write; when they
cannot be read, the apply stops rather than write blind. The writes of one reconcile run in parallel (clusters in
parallel, at most ``apply_waves.MAX_PARALLEL_APPLIES`` per cluster), so their checks share reads: a read serves every
check that began before the read started, and never one that began after it, so no write goes out on a read older
than its own check. Concurrent writers then cost about one read per round of writes instead of one each.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.source import GitOpsSource
from gitops_tui.reconciler import freeze
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.util.at_once import at_once

log = logging.getLogger(__name__)

#: Read the kustomization (and its Project) fresh before every write.
STRICT_STOP = True
Intent = tuple[dict[str, Any] | None, dict[str, Any] | None]  # (FederatedKustomization, Project) as just read


class IntentReads:
    """Fresh reads of one source and its Project, shared by the concurrent stop checks of one reconcile."""

    def __init__(self, ctx: ReconcileContext, namespace: str, name: str, project: str = "") -> None:
        """Read ``namespace/name`` and the Project ``project`` ('' for none)."""
        self.ctx = ctx
        self.namespace = namespace
        self.name = name
        self.project = project
        self.reads = 0
        """How many reads were made (for tests)."""
        self._cond = threading.Condition()
        self._asked = 0  # checks begun
        self._served = 0  # checks covered by the last finished read
        self._reading = False
        self._last: Intent | BaseException | None = None

    def read(self) -> Intent:
        """The source and its Project, read after this call began (raises what the read raised)."""
        with self._cond:
            self._asked += 1
            ticket = self._asked
            while self._served < ticket and self._reading:
                self._cond.wait()
            if self._served >= ticket:
                return self._result()
            self._reading = True
            covers = self._asked
        try:
            found: Intent | BaseException = self._read_now()
        except Exception as exc:  # noqa: BLE001 - every waiting check gets it
            found = exc
        with self._cond:
            self._last, self._served, self._reading = found, covers, False
            self._cond.notify_all()
            return self._result()

    def _read_now(self) -> Intent:
        self.reads += 1
        source = lambda: self.ctx.get_fresh(names.KIND_FEDERATED_KUSTOMIZATION, self.namespace, self.name)  # noqa: E731
        if not self.project:
            return source(), None
        current, project = at_once(source, lambda: self.ctx.get_fresh(names.KIND_PROJECT, None, self.project))
        return current, project

    def _result(self) -> Intent:
        found = self._last
        if isinstance(found, BaseException):
            raise found
        assert found is not None
        return found


def stop_check(ctx: ReconcileContext, namespace: str, name: str, plan: freeze.Plan | None = None,
               cluster: str | None = None, reads: IntentReads | None = None) -> Callable[[], bool]:
    """Return the check made before every write: suspended, deleted or frozen (read fresh), or the shard lost.

    With a ``plan``, a freeze of the source or its project holding ``cluster`` (or every cluster) stops it too.
    ``reads``: the reconcile's shared fresh reads (one of its own otherwise).
    """
    reads = reads or IntentReads(ctx, namespace, name, plan.project_name if plan is not None else "")

    def stop() -> bool:
        if ctx.should_stop(namespace, name) or not ctx.is_leader():
            return True
        if not STRICT_STOP:
            return False
        try:
            current, project = reads.read()
        except Exception:  # noqa: BLE001 - when the intent cannot be read, do not write
            log.warning("cannot read %s/%s before a write; stopping the apply", namespace, name)
            return True
        if current is None or (current.get("metadata") or {}).get("deletionTimestamp"):
            return True
        if plan is not None:
            return freeze.held_in(ctx, current, project, plan, cluster)
        return GitOpsSource(None, current).suspend

    return stop
