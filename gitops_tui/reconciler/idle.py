"""A settled source's interval asks only whether its git ref moved: no management request, and no git when it did not.

A reconcile that applied its revision on every placed cluster, with nothing held, pending or failing, leaves the
source *settled* (``ReconcileResult.settled``). Everything else that could give it work reaches the manager as a
request and unsettles it: a change of its objects, its Project, a cluster or a FederatedSecret (the management
watches); drift on a workload cluster (the drift watches); a webhook delivery; a moved ref found by another source's
ls-remote of the same repository (reconciler/source.py wakes it). So at a settled source's interval the manager asks
only: does its ref name another commit now (from an ls-remote answer of its repository and credentials at most one
interval old, shared with the other sources of that repository), and is its full drift pass (``--resync``) due?
When neither, nothing else runs; otherwise, or on any error, the full reconcile runs as before.

Not settled, so reconciled in full at every interval as before: Flux children and sources with ``dependsOn`` or
``postBuild.substituteFrom`` (they read what no watch here follows), revisions with Helm releases (a chart
repository's index may move), held, pinned or break-glass sources, sources in a staged rollout not yet done (the
state this reconcile began with does not know the soak its own apply starts), and any reconcile that failed or
stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitops_tui.api import names
from gitops_tui.api.effective import INTENT_FOLLOW
from gitops_tui.api.source import GitOpsSource

if TYPE_CHECKING:  # pragma: no cover - typing only
    from gitops_tui.reconciler.drift_watch import DriftWatch

log = logging.getLogger(__name__)

#: Kinds whose presence in a revision keeps the source reconciled in full every interval.
_UNSETTLING_KINDS = {"HelmRelease", "HelmRepository"}


@dataclass(frozen=True)
class Settled:
    """What a settled source's next interval checks: the commit its ref names, and its clusters' drift pass."""

    commit: str
    interval: float
    clusters: tuple[str, ...]
    resync: float
    head: Callable[[], str]
    """The commit the source's ref names now (an ls-remote answer at most ``interval`` old)."""


def settled_of(source: GitOpsSource, state: Any, commit: str, desired: list[dict[str, Any]], clusters: list[str],
               resync: float, head: Callable[[], str]) -> Settled | None:
    """The Settled of a reconcile that applied ``commit`` everywhere and succeeded; None when the source must be
    reconciled in full at its next interval (see the module's docstring)."""
    spec = (((source.kustomization or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    labels = ((source.kustomization or {}).get("metadata") or {}).get("labels") or {}
    if (labels.get(names.LABEL_PARENT_SOURCE) or spec.get("dependsOn")
            or (spec.get("postBuild") or {}).get("substituteFrom")):
        return None
    if state.pin is not None or state.break_glass is not None or state.wake_in is not None or state.freezes:
        return None
    rollout = getattr(state, "rollout", None)
    if rollout is not None and not rollout.progress.done:  # its waves move on the clock, not on a watch event
        return None
    if any(c.intent != INTENT_FOLLOW for c in state.clusters) or sorted(clusters) != sorted(state.names):
        return None
    if any(obj.get("kind") in _UNSETTLING_KINDS for obj in desired):
        return None
    return Settled(commit, source.interval, tuple(clusters), resync, head)


class IdleSources:
    """The manager's settled sources, and the requests that unsettle them (one counter per key)."""

    def __init__(self) -> None:
        """Nothing settled yet."""
        self._lock = threading.Lock()
        self._requests: dict[Hashable, int] = {}
        self._settled: dict[Hashable, tuple[int, Settled]] = {}
        self.quiet: dict[Hashable, int] = {}
        """How many intervals of each source found nothing to do (for tests and benchmarks)."""

    def requested(self, key: Hashable) -> None:
        """Something asked for ``key``: its next run is a full reconcile."""
        with self._lock:
            self._requests[key] = self._requests.get(key, 0) + 1

    def begin(self, key: Hashable) -> int:
        """Before a full reconcile: the token its result settles with (a request meanwhile voids it)."""
        with self._lock:
            return self._requests.get(key, 0)

    def settle(self, key: Hashable, token: int, settled: Settled | None) -> None:
        """After a full reconcile begun at ``token``: settled when it says so and nothing asked for it meanwhile."""
        with self._lock:
            if settled is None or self._requests.get(key, 0) != token:
                self._settled.pop(key, None)
            else:
                self._settled[key] = (token, settled)

    def is_settled(self, key: Hashable) -> bool:
        """Whether ``key``'s last full reconcile settled it and nothing asked for it since."""
        with self._lock:
            found = self._settled.get(key)
            return found is not None and found[0] == self._requests.get(key, 0)

    def forget(self, key: Hashable) -> None:
        """The object is gone."""
        with self._lock:
            self._settled.pop(key, None)
            self._requests.pop(key, None)
            self.quiet.pop(key, None)

    def due(self, key: Hashable, drift: DriftWatch | None, namespace: str, name: str) -> float | None:
        """At the interval of ``key``: the seconds until the next one when nothing is to be done now, else None (run
        the full reconcile: not settled, asked for, its ref moved, its drift pass due, or git could not tell)."""
        with self._lock:
            found = self._settled.get(key)
            current = self._requests.get(key, 0)
        if found is None or found[0] != current:
            return None
        settled = found[1]
        if drift is None or any(drift.cache.full_pass_due(c, namespace, name, settled.resync) for c in settled.clusters):
            return None
        try:
            moved = settled.head() != settled.commit
        except Exception as exc:  # noqa: BLE001 - git failed: the full reconcile records why
            log.info("git check of %s/%s failed (%s): reconciling", namespace, name, type(exc).__name__)
            return None
        if moved:
            return None
        with self._lock:
            if self._requests.get(key, 0) != current:
                return None  # asked for while git was checked
            self.quiet[key] = self.quiet.get(key, 0) + 1
        return settled.interval
