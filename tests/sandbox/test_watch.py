"""Watches: resuming from a resourceVersion, bookmarks, 410 Expired once history is compacted, clean stops."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from pathlib import Path

import pytest
from kubernetes import config, watch
from kubernetes.client.exceptions import ApiException

from gitops_tui.kube.client import dynamic_client as new_dynamic_client
from gitops_tui.sandbox.serving.server import ClusterServer
from tests.sandbox.conftest import kubeconfig_for, raw_request, start_sandbox
from tests.waiting import wait_until

CM_PATH = "/api/v1/namespaces/{ns}/configmaps"


def _cm(name: str, value: str = "1") -> str:
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": value}})


def _post(server: ClusterServer, ns: str, name: str, value: str = "1") -> dict:
    answer = raw_request(server, "POST", CM_PATH.format(ns=ns), _cm(name, value),
                         headers={"Content-Type": "application/json"})
    assert answer.status == 201, answer.body
    return answer.json()


def _stream(server: ClusterServer, path: str, timeout: float = 15) -> list[dict]:
    """Read a whole watch response (the server ends it at timeoutSeconds) as a list of events."""
    body = raw_request(server, "GET", path, timeout=timeout).body
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def _namespace(server: ClusterServer, name: str) -> None:
    answer = raw_request(server, "POST", "/api/v1/namespaces",
                         json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
                         headers={"Content-Type": "application/json"})
    assert answer.status == 201


@pytest.fixture(scope="module")
def short_history(tmp_path_factory: pytest.TempPathFactory):
    """A server that keeps only the last 5 revisions of history."""
    server = start_sandbox(tmp_path_factory.mktemp("short"), keep_revisions=5, bookmark_interval=0.3)
    yield server
    server.stop()


def test_resumed_watch_sees_exactly_the_later_events(dynamic_client, sandbox_server) -> None:
    _namespace(sandbox_server, "w-resume")
    configmaps = dynamic_client.resources.get(api_version="v1", kind="ConfigMap")
    _post(sandbox_server, "w-resume", "a")
    mark = configmaps.get(namespace="w-resume").metadata.resourceVersion
    raw_request(sandbox_server, "PATCH", CM_PATH.format(ns="w-resume") + "/a", '{"data":{"v":"2"}}',
                headers={"Content-Type": "application/merge-patch+json"})
    _post(sandbox_server, "w-resume", "b")
    raw_request(sandbox_server, "DELETE", CM_PATH.format(ns="w-resume") + "/a")
    seen = [(e["type"], e["object"].metadata.name)
            for e in configmaps.watch(namespace="w-resume", resource_version=mark, timeout=1)]
    assert seen == [("MODIFIED", "a"), ("ADDED", "b"), ("DELETED", "a")]


def test_watch_from_zero_starts_with_the_current_objects(sandbox_server) -> None:
    _namespace(sandbox_server, "w-zero")
    _post(sandbox_server, "w-zero", "one")
    events = _stream(sandbox_server, CM_PATH.format(ns="w-zero") + "?watch=1&resourceVersion=0&timeoutSeconds=1")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "one")]


def test_live_watch_delivers_a_change_made_later(dynamic_client, sandbox_server) -> None:
    _namespace(sandbox_server, "w-live")
    configmaps = dynamic_client.resources.get(api_version="v1", kind="ConfigMap")
    start = configmaps.get(namespace="w-live").metadata.resourceVersion
    seen: list[str] = []
    watcher = watch.Watch()

    def consume() -> None:
        for event in configmaps.watch(namespace="w-live", resource_version=start, timeout=10, watcher=watcher):
            seen.append(event["object"].metadata.name)
            watcher.stop()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    _post(sandbox_server, "w-live", "later")
    wait_until(lambda: seen == ["later"], timeout=10, message="the watch delivers the new configmap")
    thread.join(10)


def test_bookmarks_carry_the_current_revision(sandbox_server) -> None:
    _namespace(sandbox_server, "w-bookmark")
    created = _post(sandbox_server, "w-bookmark", "x")
    rv = created["metadata"]["resourceVersion"]
    events = _stream(sandbox_server, CM_PATH.format(ns="w-bookmark")
                     + f"?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=1")
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert bookmarks, events
    assert bookmarks[-1]["object"]["kind"] == "ConfigMap"
    assert int(bookmarks[-1]["object"]["metadata"]["resourceVersion"]) >= int(rv)


def test_expired_resource_version_gets_410(short_history: ClusterServer, tmp_path: Path) -> None:
    _namespace(short_history, "w-old")
    first = _post(short_history, "w-old", "first")
    for i in range(20):
        _post(short_history, "w-old", f"c{i}")
    old = first["metadata"]["resourceVersion"]
    events = _stream(short_history, CM_PATH.format(ns="w-old") + f"?watch=1&resourceVersion={old}")
    assert len(events) == 1 and events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert status["kind"] == "Status" and status["code"] == 410 and status["reason"] == "Expired"

    api = config.new_client_from_config(config_file=str(kubeconfig_for(short_history, tmp_path / "kc")))
    try:
        configmaps = new_dynamic_client(api).resources.get(api_version="v1", kind="ConfigMap")
        with pytest.raises(ApiException) as err:
            list(configmaps.watch(namespace="w-old", resource_version=old, timeout=5))
        assert err.value.status == 410
    finally:
        api.close()


def test_expired_continue_token_gets_410(short_history: ClusterServer) -> None:
    _namespace(short_history, "w-page")
    for i in range(3):
        _post(short_history, "w-page", f"p{i}")
    page = raw_request(short_history, "GET", CM_PATH.format(ns="w-page") + "?limit=1").json()
    token = page["metadata"]["continue"]
    for i in range(10):
        _post(short_history, "w-page", f"q{i}")
    answer = raw_request(short_history, "GET", CM_PATH.format(ns="w-page") + f"?limit=1&continue={token}")
    assert answer.status == 410
    assert answer.json()["reason"] == "Expired"


def test_stop_ends_open_watches(tmp_path: Path) -> None:
    server = start_sandbox(tmp_path)
    context = ssl.create_default_context(cafile=str(server.tls.ca_cert))
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=20)
    conn.request("GET", CM_PATH.format(ns="default") + "?watch=1",
                 headers={"Authorization": f"Bearer {server.token}"})
    response = conn.getresponse()
    assert response.status == 200
    done = threading.Event()

    def drain() -> None:
        try:
            response.read()
        except (OSError, http.client.HTTPException):
            pass
        done.set()

    threading.Thread(target=drain, daemon=True).start()
    server.stop()
    wait_until(done.is_set, timeout=10, message="the open watch ends when the server stops")
    conn.close()


def test_selective_watch_sees_objects_enter_and_leave_the_selection(sandbox_server) -> None:
    _namespace(sandbox_server, "w-select")
    start = _post(sandbox_server, "w-select", "x")["metadata"]["resourceVersion"]
    path = CM_PATH.format(ns="w-select")

    def label(value: str | None, color: str = "red") -> None:
        body = json.dumps({"metadata": {"labels": {"tier": value, "color": color}}})
        answer = raw_request(sandbox_server, "PATCH", path + "/x", body,
                             headers={"Content-Type": "application/merge-patch+json"})
        assert answer.status == 200

    label("front")
    label("front", "blue")  # still selected: MODIFIED
    label("front", "blue")  # a no-op: no event at all
    label("back")  # leaves the selection: DELETED
    label(None)  # still outside: nothing
    events = _stream(sandbox_server, path + f"?watch=1&resourceVersion={start}"
                     "&labelSelector=tier%3Dfront&timeoutSeconds=1")
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    assert events[-1]["object"]["metadata"]["labels"] == {"tier": "back", "color": "red"}
