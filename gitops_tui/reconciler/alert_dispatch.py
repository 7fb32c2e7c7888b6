"""The alert dispatcher: Events the reconciler records become alert messages, delivered off the reconcile's thread.

``listen`` is an EventRecorder listener: it classifies the Event (``api/alerts.classify``, plus recovery: a success
of a source and cluster that failed before) and puts it on a queue; it never blocks and never does I/O. One worker
thread reads the project's Alerts, applies the rate limit (at most one message per alert, source, event kind and
clusters per ``window`` seconds; the repeats are counted in the next message), sends, and retries a failed send with
exponential backoff (``backoff`` doubling up to ``max_backoff``, ``attempts`` in all). A message that finally
fails becomes a Warning Event ``AlertDeliveryFailed`` on the Alert (the console shows Warnings).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiClient

from gitops_tui.api import alerts as al
from gitops_tui.api import names
from gitops_tui.api.paths import management_path, resource_path
from gitops_tui.kube.client import json_request
from gitops_tui.kube.outbound import FetchPolicy
from gitops_tui.reconciler import metrics
from gitops_tui.reconciler.alert_failure import DeliveryFailed
from gitops_tui.reconciler.alert_send import deliver

log = logging.getLogger(__name__)
WINDOW = 60.0
ATTEMPTS = 5
BACKOFF = 1.0
MAX_BACKOFF = 30.0
MAX_QUEUE = 10_000
MAX_KEYS = 10_000
_WHO_ANNOTATIONS = ("gitops-tui.io/break-glass-by", names.ANNOTATION_SUSPENDED_BY)

Sender = Callable[[al.Alert, al.AlertEvent, "bytes | None", FetchPolicy], None]


def _now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AlertDispatcher:
    """Queue, rate limit, send and retry alert messages on one worker thread (``start``/``stop``)."""

    def __init__(self, api_client: ApiClient, policy: FetchPolicy, recorder: Any = None, *, window: float = WINDOW,
                 attempts: int = ATTEMPTS, backoff: float = BACKOFF, max_backoff: float = MAX_BACKOFF,
                 clock: Callable[[], float] = time.monotonic, sender: Sender = deliver) -> None:
        """Read Alerts and Secrets through ``api_client``; post where ``policy`` allows; tell failures with
        ``recorder`` (an EventRecorder)."""
        self._api, self._policy, self._recorder = api_client, policy, recorder
        self.window, self.attempts, self.backoff, self.max_backoff = window, attempts, backoff, max_backoff
        self._clock, self._send = clock, sender
        self._queue: queue.Queue[al.AlertEvent | None] = queue.Queue(MAX_QUEUE)
        self._retries: list[tuple[float, int, al.Alert, al.AlertEvent, int]] = []
        self._order = itertools.count()
        self._last_sent: dict[tuple[str, ...], float] = {}
        self._suppressed: dict[tuple[str, ...], int] = {}
        self._failing: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: Messages delivered, and events the worker has handled (sent, suppressed or failed): for tests and logs.
        self.delivered = 0
        self.handled = 0

    # -- intake (any thread, never blocks) ----------------------------------------------------
    def listen(self, involved: dict[str, Any], type_: str, reason: str, message: str, cluster: str | None,
               revision: str | None, namespace: str | None) -> None:
        """An EventRecorder listener: queue the alert this Event raises, if any (O(1), no I/O)."""
        kind = str(involved.get("kind") or "")
        meta = involved.get("metadata") or {}
        if kind == names.KIND_PROJECT:
            project, source = str(meta.get("name") or ""), ""
            ns = str(namespace or (involved.get("spec") or {}).get("namespace") or project)
        else:
            ns = str(namespace or meta.get("namespace") or "")
            project = str((meta.get("labels") or {}).get(names.LABEL_PROJECT) or ns)
            source = str(meta.get("name") or "")
        alert_kind = al.classify(kind, type_, reason)
        key = (ns, source, cluster or "")
        with self._lock:
            if alert_kind == "failure":
                self._failing.add(key)
            elif alert_kind is None and reason in al.RECOVERY_REASONS and kind in al.SOURCE_KINDS:
                whole = (ns, source, "")
                if key in self._failing or whole in self._failing:
                    self._failing.discard(key)
                    self._failing.discard(whole)
                    alert_kind = "recovery"
                elif reason == "Applied":
                    alert_kind = "applied"  # told to forge statuses only (api/alerts.FORGE_KINDS)
        if alert_kind is None or not ns:
            return
        notes = meta.get("annotations") or {}
        who = next((str(notes[a]) for a in _WHO_ANNOTATIONS if notes.get(a)), "gitops-tui reconciler")
        event = al.AlertEvent(alert_kind, project, ns, source, [cluster] if cluster else [], revision or "", reason,
                              message, who, _now_text(), "error" if type_ == "Warning" else "info",
                              involved={"kind": kind, "namespace": ns, "name": str(meta.get("name") or "")})
        self.submit(event)

    def submit(self, event: al.AlertEvent) -> None:
        """Queue ``event`` for the worker (dropped, and logged, when the queue is full: the reconcile never waits)."""
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            log.warning("alert queue full: a %s alert of %s/%s was dropped", event.kind, event.project, event.source)

    # -- the worker ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="gitops-tui-alerts", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker (pending retries are dropped)."""
        if self._thread is not None:
            try:
                self._queue.put(None, timeout=timeout)
            except queue.Full:
                pass
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            wait = max(0.0, self._retries[0][0] - self._clock()) if self._retries else None
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                item = ...  # type: ignore[assignment]
            if item is None:
                return
            if isinstance(item, al.AlertEvent):
                try:
                    self._intake(item)
                except Exception as exc:  # noqa: BLE001 - one bad event never stops the worker
                    log.warning("alert of %s/%s not handled: %s", item.project, item.source, type(exc).__name__)
                self.handled += 1
            while self._retries and self._retries[0][0] <= self._clock():
                _, _, alert, event, attempt = heapq.heappop(self._retries)
                self._attempt(alert, event, attempt)

    def _alerts(self, namespace: str) -> list[tuple[al.Alert, dict[str, Any]]]:
        listed = json_request(self._api, "GET", management_path(names.KIND_ALERT, namespace))
        return [(al.Alert.from_raw(raw), raw) for raw in listed.get("items") or []]

    def _intake(self, event: al.AlertEvent) -> None:
        """Send ``event`` to each Alert of its namespace that wants it, within the rate limit."""
        for alert, _ in self._alerts(event.namespace):
            if not alert.wants(event.kind):
                continue
            key: tuple[str, ...] = (alert.namespace, alert.name, event.source, event.kind, ",".join(event.clusters))
            if alert.format in al.FORGE_FORMATS:
                key += (event.revision,)  # one status per commit: a new commit within the minute is told
            now = self._clock()
            last = self._last_sent.get(key)
            if last is not None and now - last < self.window:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                metrics.ALERT_DELIVERIES.labels(alert.format, "suppressed").inc()
                continue
            self._last_sent[key] = now
            if len(self._last_sent) > MAX_KEYS:  # forget limits that lapsed (and their counts: nothing to add to)
                for old in [k for k, t in self._last_sent.items() if now - t >= self.window]:
                    self._last_sent.pop(old, None)
                    self._suppressed.pop(old, None)
            copy = al.AlertEvent(**{**event.__dict__, "repeats": self._suppressed.pop(key, 0)})
            self._attempt(alert, copy, 1)

    def _token(self, alert: al.Alert) -> bytes | None:
        """The HMAC key of the alert's Secret (a Secret, else a FederatedSecret's template), None without one."""
        import base64

        if not alert.secret:
            return None
        for path, pick in ((resource_path("v1", "secrets", alert.namespace, alert.secret), lambda o: o),
                           (management_path(names.KIND_FEDERATED_SECRET, alert.namespace, alert.secret),
                            lambda o: (o.get("spec") or {}).get("template") or {})):
            try:
                body = pick(json_request(self._api, "GET", path))
            except Exception:  # noqa: BLE001 - absent here: try the next kind
                continue
            value = (body.get("data") or {}).get(al.SECRET_TOKEN_KEY)
            if value:
                return base64.b64decode(value)
            text = (body.get("stringData") or {}).get(al.SECRET_TOKEN_KEY)
            if text:
                return str(text).encode()
        raise DeliveryFailed(f"alert {alert.name}: secret {alert.secret} has no key {al.SECRET_TOKEN_KEY!r}",
                             retry=False)

    def _attempt(self, alert: al.Alert, event: al.AlertEvent, attempt: int) -> None:
        try:
            self._send(alert, event, self._token(alert), self._policy)
        except DeliveryFailed as exc:
            if exc.retry and attempt < self.attempts:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                heapq.heappush(self._retries, (self._clock() + delay, next(self._order), alert, event, attempt + 1))
                metrics.ALERT_DELIVERIES.labels(alert.format, "retried").inc()
                return
            metrics.ALERT_DELIVERIES.labels(alert.format, "failed" if exc.retry else "refused").inc()
            self._tell_failure(alert, event, exc.message, attempt)
            return
        self.delivered += 1
        metrics.ALERT_DELIVERIES.labels(alert.format, "sent").inc()

    def _tell_failure(self, alert: al.Alert, event: al.AlertEvent, message: str, attempts: int) -> None:
        text = f"{event.kind} of {event.source or event.project} not delivered after {attempts} attempt" \
               f"{'s' if attempts > 1 else ''}: {message}"
        log.warning("%s", text)
        if self._recorder is not None:
            involved = {"apiVersion": names.PROJECT_API_VERSION, "kind": names.KIND_ALERT,
                        "metadata": {"name": alert.name, "namespace": alert.namespace}}
            self._recorder.emit(involved, "Warning", al.REASON_DELIVERY_FAILED, text, namespace=alert.namespace)
