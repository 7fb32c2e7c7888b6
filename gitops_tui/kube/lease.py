"""coordination.k8s.io/v1 Leases in gitops-tui-system: identities, bodies, expiry as seen by two clocks, writes."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.api.formats import parse_time
from gitops_tui.api.names import LEASE_NAME, SYSTEM_NAMESPACE
from gitops_tui.api.paths import item_path, resource_path
from gitops_tui.kube.client import json_request

log = logging.getLogger(__name__)

LEASE_NAMESPACE = SYSTEM_NAMESPACE
DEFAULT_LEASE_DURATION = 15.0
__all__ = ["DEFAULT_LEASE_DURATION", "LEASE_NAME", "LEASE_NAMESPACE", "LeaseClock", "LeaseStore", "default_identity",
           "lease_body", "micro_time"]


def default_identity() -> str:
    """Return a holder identity unique to this process: ``<host>/<pid>/<uuid>``."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4()}"


def micro_time(moment: datetime | None = None) -> str:
    """A Lease MicroTime (``2026-01-02T03:04:05.123456Z``), now by default."""
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaseClock:
    """When other holders' Leases lapse, by both clocks: their renewTime, and how long we saw it unchanged.

    A Lease lapses when its renewTime is older than its duration, or when this process has seen the same
    (holder, renewTime) for longer than the duration (client-go's rule, safe against a skewed clock).
    """

    def __init__(self) -> None:
        """Start with nothing observed."""
        self._seen: dict[str, tuple[tuple[str, str], float]] = {}

    def observe(self, lease: dict[str, Any], mono: float) -> None:
        """Record a Lease as listed at ``mono`` (time.monotonic())."""
        name = str((lease.get("metadata") or {}).get("name") or "")
        spec = lease.get("spec") or {}
        key = (str(spec.get("holderIdentity") or ""), str(spec.get("renewTime") or spec.get("acquireTime") or ""))
        if name not in self._seen or self._seen[name][0] != key:
            self._seen[name] = (key, mono)

    def expires_in(self, lease: dict[str, Any], mono: float) -> float:
        """Seconds until the Lease lapses (<= 0: it has; an unheld Lease has lapsed)."""
        spec = lease.get("spec") or {}
        if not spec.get("holderIdentity"):
            return 0.0
        duration = float(spec.get("leaseDurationSeconds") or DEFAULT_LEASE_DURATION)
        name = str((lease.get("metadata") or {}).get("name") or "")
        seen_at = self._seen.get(name, (("", ""), mono))[1]
        left = duration - (mono - seen_at)
        renewed = parse_time(str(spec.get("renewTime") or spec.get("acquireTime") or ""))
        if renewed is not None:
            left = min(left, duration - (datetime.now(UTC) - renewed).total_seconds())
        return left

    def forget(self, keep: set[str]) -> None:
        """Drop what was observed of Leases not in ``keep`` (names)."""
        for name in [n for n in self._seen if n not in keep]:
            del self._seen[name]


class LeaseStore:
    """Reads and writes the Leases of one namespace (creating the namespace when it is missing)."""

    def __init__(self, api_client: ApiClient, namespace: str = LEASE_NAMESPACE) -> None:
        """Use ``api_client`` (the management cluster)."""
        self.api = api_client
        self.namespace = namespace
        self.base = resource_path("coordination.k8s.io/v1", "leases", namespace)

    def list(self, label_selector: str, timeout: Any = None) -> list[dict[str, Any]]:
        """The Leases carrying ``label_selector``."""
        return list(json_request(self.api, "GET", self.base, query={"labelSelector": label_selector},
                                 timeout=timeout).get("items") or [])

    def create(self, lease: dict[str, Any], timeout: Any = None) -> dict[str, Any] | None:
        """Create a Lease (and its namespace when missing); None when it exists already (409)."""
        for attempt in range(2):
            try:
                return json_request(self.api, "POST", self.base, lease, timeout=timeout)
            except ApiException as exc:
                if exc.status == 404 and attempt == 0:
                    self._ensure_namespace()
                    continue
                if exc.status in (404, 409):
                    return None
                raise
        return None

    def replace(self, lease: dict[str, Any], timeout: Any = None) -> dict[str, Any] | None:
        """PUT a Lease (optimistic concurrency on its resourceVersion); None on a conflict or when it is gone."""
        try:
            return json_request(self.api, "PUT", item_path(self.base, lease['metadata']['name']), lease, timeout=timeout)
        except ApiException as exc:
            if exc.status in (404, 409):
                return None
            raise

    def delete(self, name: str, resource_version: str | None = None, timeout: Any = None) -> bool:
        """Delete a Lease (only at ``resource_version`` when given); False when it changed or is gone."""
        body = {"kind": "DeleteOptions", "apiVersion": "v1",
                "preconditions": {"resourceVersion": resource_version}} if resource_version else None
        try:
            json_request(self.api, "DELETE", item_path(self.base, name), body, timeout=timeout)
            return True
        except ApiException as exc:
            if exc.status in (404, 409):
                return False
            raise

    def _ensure_namespace(self) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}}
        try:
            json_request(self.api, "POST", resource_path("v1", "namespaces"), body)
        except ApiException as exc:
            if exc.status != 409:
                log.warning("could not create namespace %s: HTTP %s", self.namespace, exc.status)


def lease_body(name: str, namespace: str, identity: str, duration: float, labels: dict[str, str],
               annotations: dict[str, str]) -> dict[str, Any]:
    """A new Lease held by ``identity`` from now."""
    now = micro_time()
    return {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name, "namespace": namespace, "labels": labels, "annotations": annotations},
        "spec": {"holderIdentity": identity, "leaseDurationSeconds": max(1, int(round(duration))),
                 "acquireTime": now, "renewTime": now, "leaseTransitions": 0},
    }
