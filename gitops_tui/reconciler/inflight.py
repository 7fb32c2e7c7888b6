"""The sources being reconciled now, and what each looked like when it began: to tell when one must stop."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from gitops_tui.api import names
from gitops_tui.kube.watch import ResourceWatch


def suspended(obj: dict[str, Any] | None) -> bool:
    """Whether a federated object's template suspends it."""
    spec = (((obj or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    return bool(spec.get("suspend"))


@dataclass(frozen=True)
class Start:
    """What a source looked like when its reconcile began (for should_stop)."""

    uid: str
    suspended: bool
    deleting: bool


class InFlight:
    """The sources being reconciled, each with its Start, read from the management watches."""

    def __init__(self, watches: Mapping[str, ResourceWatch], may_act: Callable[[str, str, str], bool]) -> None:
        """``may_act(kind, namespace, name)``: whether this process holds the object's shard now."""
        self._watches = watches
        self._may_act = may_act
        self._lock = threading.Lock()
        self.starts: dict[tuple[str, str], Start] = {}

    def __contains__(self, key: object) -> bool:
        """Whether the (namespace, name) source is being reconciled now."""
        with self._lock:
            return key in self.starts

    @contextmanager
    def running(self, namespace: str, name: str) -> Iterator[dict[str, Any]]:
        """Record the source's Start for the block; yields its FederatedKustomization's metadata."""
        ks = self._watches[names.KIND_FEDERATED_KUSTOMIZATION].get(namespace, name) or {}
        repo = self._watches[names.KIND_FEDERATED_GIT_REPOSITORY].get(namespace, name)
        meta = ks.get("metadata") or {}
        start = Start(uid=str(meta.get("uid") or ""), suspended=suspended(ks) or suspended(repo),
                      deleting=bool(meta.get("deletionTimestamp")))
        with self._lock:
            self.starts[(namespace, name)] = start
        try:
            yield meta
        finally:
            with self._lock:
                self.starts.pop((namespace, name), None)

    def should_stop(self, namespace: str, name: str) -> bool:
        """True when the source was suspended or deleted since its reconcile began, or its shard is not held now."""
        if not self._may_act(names.KIND_FEDERATED_KUSTOMIZATION, namespace, name):
            return True
        ks = self._watches[names.KIND_FEDERATED_KUSTOMIZATION].get(namespace, name)
        if ks is None:
            return True
        repo = self._watches[names.KIND_FEDERATED_GIT_REPOSITORY].get(namespace, name)
        is_suspended = suspended(ks) or suspended(repo)
        meta = ks.get("metadata") or {}
        deleting = bool(meta.get("deletionTimestamp"))
        with self._lock:
            start = self.starts.get((namespace, name))
        if start is None:
            return is_suspended
        if start.uid and meta.get("uid") and start.uid != meta.get("uid"):
            return True
        return (is_suspended and not start.suspended) or (deleting and not start.deleting)
