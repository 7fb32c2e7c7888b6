"""What the reconciler's watches of the management cluster need: which updates ask for a reconcile, a lazy client.

Installing the management API itself (CRDs, system namespaces) is ``kube/management_api.py``'s.
"""

from __future__ import annotations

import threading
from typing import Any

from kubernetes.client import ApiClient


def significant_change(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    """Whether a watch update asks for a reconcile: anything but a status-only change."""
    if old is None:
        return True
    a, b = old.get("metadata") or {}, new.get("metadata") or {}
    for field in ("generation", "annotations", "labels", "deletionTimestamp", "finalizers", "uid"):
        if a.get(field) != b.get(field):
            return True
    return old.get("spec") != new.get("spec")


class LazyDynamic:
    """A DynamicClient for the management cluster built on first use (discovery is slow)."""

    def __init__(self, api_client: ApiClient) -> None:
        self._api = api_client
        self._client: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, item: str) -> Any:
        with self._lock:
            if self._client is None:
                from gitops_tui.kube.client import dynamic_client

                self._client = dynamic_client(self._api)
        return getattr(self._client, item)
