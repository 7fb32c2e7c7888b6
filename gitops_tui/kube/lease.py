"""Leader election on a coordination.k8s.io/v1 Lease: acquire, renew, release, observe the holder."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.api.formats import parse_time
from gitops_tui.kube.client import json_request

log = logging.getLogger(__name__)

LEASE_NAME = "gitops-tui-reconciler"
LEASE_NAMESPACE = "gitops-tui-system"
DEFAULT_LEASE_DURATION = 15.0


def default_identity() -> str:
    """Return a holder identity unique to this process: ``<host>/<pid>/<uuid>``."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4()}"


def _micro_time(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    """Campaign for the Lease in a background thread; ``is_leader`` and ``holder`` show the outcome.

    The holder renews every ``retry_period`` seconds. Another candidate takes over once the lease
    has not been renewed for ``lease_duration`` seconds (by its own observation or by renewTime).
    A leader that cannot renew for ``renew_deadline`` seconds steps down.
    """

    def __init__(
        self,
        api_client: ApiClient,
        *,
        identity: str | None = None,
        name: str = LEASE_NAME,
        namespace: str = LEASE_NAMESPACE,
        lease_duration: float = DEFAULT_LEASE_DURATION,
        renew_deadline: float | None = None,
        retry_period: float | None = None,
        on_started_leading: Callable[[], None] | None = None,
        on_stopped_leading: Callable[[], None] | None = None,
    ) -> None:
        """Prepare a candidate; call start() to campaign."""
        self._api = api_client
        self.identity = identity or default_identity()
        self.name = name
        self.namespace = namespace
        self.lease_duration = float(lease_duration)
        self.renew_deadline = renew_deadline if renew_deadline is not None else self.lease_duration * 2 / 3
        self.retry_period = retry_period if retry_period is not None else max(0.2, self.lease_duration / 7.5)
        self._on_start = on_started_leading
        self._on_stop = on_stopped_leading
        self._lock = threading.Lock()
        self._leader = False
        self._holder: str | None = None
        self._last_renew = 0.0
        self._observed: tuple[str, str] | None = None
        self._observed_at = 0.0
        self._next_try: float | None = None
        self._stop = threading.Event()
        self._abandoned = False
        self._round_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"

    # -- public state ----------------------------------------------------------------------
    @property
    def is_leader(self) -> bool:
        """True while this process holds a lease it renewed within the renew deadline."""
        with self._lock:
            return self._leader and time.monotonic() - self._last_renew < self.renew_deadline

    @property
    def holder(self) -> str | None:
        """The holder identity last seen on the Lease (None when unheld or unknown)."""
        with self._lock:
            return self._holder

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start campaigning in a daemon thread (never again after abandon())."""
        if self._thread is not None or self._abandoned:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gitops-tui-lease", daemon=True)
        self._thread.start()

    def stop(self, release: bool = True) -> None:
        """Stop campaigning; when leading and ``release``, hand the lease back at once."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.retry_period + 10)
            self._thread = None
        was_leader = self._set_leader(False)
        if release and was_leader:
            self.release()

    def abandon(self, timeout: float = 1.0) -> bool:
        """Stop leading at once (``is_leader`` turns False before any request) and release the lease.

        For a process that is leaving: it never campaigns again, does not wait for the campaign
        thread, and spends at most about ``timeout`` seconds on the release. Return True when released.
        """
        deadline = time.monotonic() + timeout
        self._abandoned = True
        self._stop.set()
        self._set_leader(False)
        # A round in flight ends before the release (it cannot re-take the lease after it).
        got = self._round_lock.acquire(timeout=max(0.0, timeout / 2))
        try:
            return self.release(deadline=deadline)
        finally:
            if got:
                self._round_lock.release()

    def release(self, deadline: float | None = None) -> bool:
        """Clear the holder if it is this process; return True when released.

        A conflict (a renewal landed in between) is retried; with ``deadline`` (a time.monotonic()
        value) every request is bounded by the time left.
        """
        for _ in range(3):
            try:
                timeout = None if deadline is None else max(0.05, deadline - time.monotonic())
                lease = json_request(self._api, "GET", self._path, timeout=timeout)
                spec = lease.get("spec") or {}
                if spec.get("holderIdentity") != self.identity:
                    return False
                spec = dict(spec, holderIdentity=None, leaseDurationSeconds=1, renewTime=_micro_time())
                lease["spec"] = {k: v for k, v in spec.items() if v is not None}
                timeout = None if deadline is None else max(0.05, deadline - time.monotonic())
                json_request(self._api, "PUT", self._path, lease, timeout=timeout)
                log.info("released lease %s/%s", self.namespace, self.name)
                return True
            except ApiException as exc:
                if exc.status != 409 or (deadline is not None and time.monotonic() >= deadline):
                    log.warning("could not release lease: HTTP %s", exc.status)
                    return False
            except Exception as exc:  # noqa: BLE001 - releasing is best effort
                log.warning("could not release lease: %s", type(exc).__name__)
                return False
        return False

    def try_acquire_or_renew(self) -> bool:
        """One election round: create, renew or take over the Lease; return whether we lead."""
        now = _micro_time()
        try:
            lease = json_request(self._api, "GET", self._path)
        except ApiException as exc:
            if exc.status != 404:
                raise
            return self._create(now)
        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        renew = str(spec.get("renewTime") or spec.get("acquireTime") or "")
        duration = float(spec.get("leaseDurationSeconds") or self.lease_duration)
        observed = (holder, renew)
        mono = time.monotonic()
        if observed != self._observed:
            self._observed, self._observed_at = observed, mono
        with self._lock:
            self._holder = holder or None
        if holder and holder != self.identity and not self._expired(renew, duration, mono):
            self._next_try = self._expires_in(renew, duration, mono)
            return False
        new_spec = dict(spec)
        new_spec["holderIdentity"] = self.identity
        new_spec["leaseDurationSeconds"] = int(round(self.lease_duration))
        new_spec["renewTime"] = now
        if holder != self.identity:
            new_spec["acquireTime"] = now
            new_spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if holder else 0)
        lease["spec"] = new_spec
        try:
            json_request(self._api, "PUT", self._path, lease)
        except ApiException as exc:
            if exc.status == 409 and holder != self.identity:
                return False
            raise
        with self._lock:
            self._holder = self.identity
        if holder != self.identity:
            log.info("acquired lease %s/%s as %s", self.namespace, self.name, self.identity)
        return True

    # -- internals -------------------------------------------------------------------------
    def _expires_in(self, renew: str, duration: float, mono: float) -> float:
        """Seconds until another holder's lease expires (the earlier of both clocks)."""
        left = duration - (mono - self._observed_at)
        renewed = parse_time(renew)
        if renewed is not None:
            left = min(left, duration - (datetime.now(timezone.utc) - renewed).total_seconds())
        return max(0.0, left)

    def _expired(self, renew: str, duration: float, mono: float) -> bool:
        if mono - self._observed_at > duration:
            return True
        renewed = parse_time(renew)
        if renewed is None:
            return False
        return (datetime.now(timezone.utc) - renewed).total_seconds() > duration

    def _create(self, now: str) -> bool:
        body: dict[str, Any] = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": int(round(self.lease_duration)),
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 0,
            },
        }
        try:
            json_request(self._api, "POST", f"/apis/coordination.k8s.io/v1/namespaces/{self.namespace}/leases", body)
        except ApiException as exc:
            if exc.status in (409, 404):
                if exc.status == 404:
                    self._ensure_namespace()
                return False
            raise
        with self._lock:
            self._holder = self.identity
        log.info("created lease %s/%s as %s", self.namespace, self.name, self.identity)
        return True

    def _ensure_namespace(self) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}}
        try:
            json_request(self._api, "POST", "/api/v1/namespaces", body)
        except ApiException as exc:
            if exc.status != 409:
                log.warning("could not create namespace %s: HTTP %s", self.namespace, exc.status)

    def _set_leader(self, leading: bool) -> bool:
        with self._lock:
            was = self._leader
            self._leader = leading and not self._abandoned
            if leading:
                self._last_renew = time.monotonic()
        return was

    def _round(self) -> bool | None:
        """One election round under the round lock; None when it failed or the campaign stopped."""
        with self._round_lock:
            if self._stop.is_set():
                return None
            try:
                return self.try_acquire_or_renew()
            except Exception as exc:  # noqa: BLE001 - keep campaigning through API errors
                log.warning("lease round failed: %s", type(exc).__name__)
                return None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._next_try = None
            leading = self._round()
            if self._stop.is_set():
                break
            if leading:
                was = self._set_leader(True)
                if not was and self._on_start:
                    self._safe(self._on_start)
            elif leading is False or not self.is_leader:
                was = self._set_leader(False)
                if was:
                    log.warning("lost leadership of lease %s/%s", self.namespace, self.name)
                    if self._on_stop:
                        self._safe(self._on_stop)
            wait = self.retry_period
            if self._next_try is not None:
                # Standing by: try again right when the holder's lease runs out.
                wait = min(wait, self._next_try + 0.02)
            self._stop.wait(wait)

    @staticmethod
    def _safe(callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception:  # noqa: BLE001 - a callback must not end the campaign
            log.exception("leader callback failed")
