"""Record core/v1 Events about federated objects on the management cluster; repeats are aggregated."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.api.paths import resource_path
from gitops_tui.kube.client import json_request

log = logging.getLogger(__name__)

#: Annotation keys on Events naming the cluster and the revision they are about.
CLUSTER_ANNOTATION = names.ANNOTATION_EVENT_CLUSTER
REVISION_ANNOTATION = names.ANNOTATION_EVENT_REVISION
MAX_MESSAGE = 1024
_CACHE_LIMIT = 4096


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EventRecorder:
    """Write Events (reportingComponent ``component``) with involvedObject a management object.

    The same (object, type, reason, message, cluster, revision) seen again bumps ``count`` and
    ``lastTimestamp`` of the existing Event instead of creating a new one. Messages must never
    contain secret values: callers pass names, keys and reasons only.
    """

    def __init__(self, api_client: ApiClient, component: str = "gitops-tui") -> None:
        """Record through ``api_client`` (the management cluster)."""
        self._api = api_client
        self.component = component
        self.instance = f"{socket.gethostname()}"
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, ...], tuple[str, str, int]] = {}
        #: Called with every Event emitted (involved, type, reason, message, cluster, revision, namespace), before
        #: it is written: the alert dispatcher and the metrics listen here. A listener must not block.
        self.listeners: list[Callable[..., None]] = []

    def emit(
        self,
        involved: dict[str, Any],
        type: str,
        reason: str,
        message: str,
        cluster: str | None = None,
        revision: str | None = None,
        namespace: str | None = None,
    ) -> dict[str, Any] | None:
        """Record one Event about ``involved`` (a raw object dict); return it, or None if it could not be written."""
        for listener in list(self.listeners):
            try:
                listener(involved, type, reason, message, cluster, revision, namespace)
            except Exception as exc:  # noqa: BLE001 - a listener never stops an Event
                log.warning("event listener failed: %s", type_name(exc))
        meta = involved.get("metadata") or {}
        ns = namespace or meta.get("namespace") or "default"
        message = (message or "")[:MAX_MESSAGE]
        key = (ns, str(meta.get("uid", "")), str(involved.get("kind", "")), str(meta.get("name", "")),
               type, reason, message, cluster or "", revision or "")
        now = _now()
        with self._lock:
            seen = self._seen.get(key)
        if seen is not None:
            ev_ns, ev_name, count = seen
            try:
                body = {"count": count + 1, "lastTimestamp": now}
                result = json_request(self._api, "PATCH", resource_path("v1", "events", ev_ns, ev_name),
                                      body, content_type="application/merge-patch+json")
                with self._lock:
                    self._seen[key] = (ev_ns, ev_name, count + 1)
                return result
            except ApiException as exc:
                if exc.status != 404:
                    log.warning("could not update Event %s/%s: HTTP %s", ev_ns, ev_name, exc.status)
                    return None
            except Exception as exc:  # noqa: BLE001 - events are best effort
                log.warning("could not update Event %s/%s: %s", ev_ns, ev_name, type_name(exc))
                return None
        return self._create(key, ns, involved, type, reason, message, cluster, revision, now)

    def _create(self, key: tuple[str, ...], ns: str, involved: dict[str, Any], type: str, reason: str,
                message: str, cluster: str | None, revision: str | None, now: str) -> dict[str, Any] | None:
        meta = involved.get("metadata") or {}
        name = f"{meta.get('name', 'object')}.{uuid.uuid4().hex[:16]}"
        annotations: dict[str, str] = {}
        if cluster:
            annotations[CLUSTER_ANNOTATION] = cluster
        if revision:
            annotations[REVISION_ANNOTATION] = revision
        involved_ref = {
            "apiVersion": involved.get("apiVersion", ""),
            "kind": involved.get("kind", ""),
            "name": meta.get("name", ""),
        }
        if meta.get("namespace"):
            involved_ref["namespace"] = meta["namespace"]
        if meta.get("uid"):
            involved_ref["uid"] = meta["uid"]
        if meta.get("resourceVersion"):
            involved_ref["resourceVersion"] = meta["resourceVersion"]
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations},
            "involvedObject": involved_ref,
            "reason": reason,
            "message": message,
            "type": type,
            "count": 1,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "source": {"component": self.component, "host": self.instance},
            "reportingComponent": self.component,
            "reportingInstance": self.instance,
        }
        try:
            result = json_request(self._api, "POST", resource_path("v1", "events", ns), body)
        except ApiException as exc:
            log.warning("could not record Event %s for %s: HTTP %s", reason, meta.get("name"), exc.status)
            return None
        except Exception as exc:  # noqa: BLE001 - events are best effort
            log.warning("could not record Event %s for %s: %s", reason, meta.get("name"), type_name(exc))
            return None
        with self._lock:
            if len(self._seen) >= _CACHE_LIMIT:
                self._seen.clear()
            self._seen[key] = (ns, name, 1)
        return result


def type_name(exc: BaseException) -> str:
    """Return the class name of ``exc`` (safe to log: never the message, which may hold data)."""
    return type(exc).__name__
