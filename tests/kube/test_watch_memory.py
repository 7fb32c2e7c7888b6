"""Watches that keep memory flat: a stream kept by nobody (Events) and objects without their managedFields."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from gitops_tui.kube.client import json_request
from gitops_tui.kube.watch import ResourceWatch
from tests.waiting import wait_until


def _apply(api: Any, body: dict[str, Any]) -> None:
    """Server-side apply (so the server records managedFields)."""
    meta = body["metadata"]
    json_request(api, "PATCH", f"/api/v1/namespaces/{meta['namespace']}/configmaps/{meta['name']}", body,
                 query={"fieldManager": "test"}, content_type="application/apply-patch+yaml")


def test_stream_watch_keeps_nothing_and_drops_managed_fields(sandbox: Any) -> None:
    """keep=False: every change reaches the handler, the cache stays empty; drop_managed_fields: none in sight."""
    api = sandbox.api_client()
    namespace = f"watch-{uuid.uuid4().hex[:6]}"
    json_request(api, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": namespace}})
    seen: list[dict[str, Any]] = []
    lock = threading.Lock()

    def handler(kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        if obj["metadata"]["name"] == "kube-root-ca.crt":
            return  # the namespace's own CA ConfigMap, written by the cluster whenever its controller gets to it
        with lock:
            seen.append(obj)

    first = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "listed", "namespace": namespace},
             "data": {"k": "v"}}
    _apply(api, first)
    watch = ResourceWatch(api, f"/api/v1/namespaces/{namespace}/configmaps", handler, keep=False,
                          drop_managed_fields=True)
    watch.start()
    try:
        wait_until(watch.synced.is_set, timeout=15, message="the first list")
        for index in range(3):
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{index}", "namespace": namespace},
                    "data": {"k": "v"}}
            _apply(api, body)
        wait_until(lambda: len(seen) == 4, timeout=15, message="the listed object and three changes")
        assert watch.items() == [], "a stream watch keeps nothing"
        assert all("managedFields" not in obj["metadata"] for obj in seen)
        live = json_request(api, "GET", f"/api/v1/namespaces/{namespace}/configmaps/cm-0")
        assert live["metadata"].get("managedFields"), "the server does record managedFields (else this proves nothing)"
    finally:
        watch.stop()
        json_request(api, "DELETE", f"/api/v1/namespaces/{namespace}")


def test_kept_objects_share_their_keys_and_short_strings(sandbox: Any) -> None:
    """Two objects from two watch events (two json.loads) hold one copy of each key and short value; long text and
    every value stays as the server sent it."""
    api = sandbox.api_client()
    namespace = f"watch-{uuid.uuid4().hex[:6]}"
    json_request(api, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                      "metadata": {"name": namespace}})
    watch = ResourceWatch(api, f"/api/v1/namespaces/{namespace}/configmaps", label_selector="kept",
                          drop_managed_fields=True)
    watch.start()
    long_text = "x" * 200
    try:
        wait_until(watch.synced.is_set, timeout=15, message="the first list")
        for index in range(2):
            _apply(api, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                "name": f"cm-{index}", "namespace": namespace, "labels": {"kept": "yes"}},
                "data": {"status": "True", "message": f"{long_text}{index}", "count": "3"}})
        wait_until(lambda: len(watch.items()) == 2, timeout=15, message="two objects from two watch events")
        first, second = (watch.get(namespace, f"cm-{index}") for index in range(2))
        assert first is not None and second is not None
        live = json_request(api, "GET", f"/api/v1/namespaces/{namespace}/configmaps/cm-1")
        live["metadata"].pop("managedFields", None)
        assert second == live, "interning changes no value"
        key_of = {id(key): key for key in first["data"]}
        assert all(id(key) in key_of for key in second["data"]), "the keys are one copy"
        assert first["data"]["status"] is second["data"]["status"] and first["metadata"]["namespace"] is \
            second["metadata"]["namespace"], "short values are one copy"
        assert first["data"]["message"] is not second["data"]["message"]
    finally:
        watch.stop()
        json_request(api, "DELETE", f"/api/v1/namespaces/{namespace}")
