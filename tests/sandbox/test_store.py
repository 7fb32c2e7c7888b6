"""The kine-style SQLite store: revisions, preconditions, the event log, compaction and persistence."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from gitops_tui.sandbox.storage.store import AlreadyExists, Conflict, Expired, NotFound, Store, StoreClosed
from tests.sandbox.conftest import raw_request, start_sandbox


def _cm(name: str, value: str = "1") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"},
            "data": {"v": value}}


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "s.db", keep_revisions=5)
    yield s
    s.close()


def test_every_write_gets_the_next_global_revision(store: Store) -> None:
    a = store.create("", "configmaps", "ns", "a", _cm("a"))
    b = store.create("apps", "deployments", "ns", "b", {"metadata": {"name": "b"}})
    a2 = store.update("", "configmaps", "ns", "a", _cm("a", "2"))
    assert [a["metadata"]["resourceVersion"], b["metadata"]["resourceVersion"],
            a2["metadata"]["resourceVersion"]] == ["1", "2", "3"]
    assert store.revision == 3
    assert store.get("", "configmaps", "ns", "a")["data"] == {"v": "2"}
    gone = store.delete("", "configmaps", "ns", "a")
    assert gone["metadata"]["resourceVersion"] == "4"
    assert store.get("", "configmaps", "ns", "a") is None


def test_preconditions_and_existence_are_enforced(store: Store) -> None:
    store.create("", "configmaps", "ns", "a", _cm("a"))
    with pytest.raises(AlreadyExists):
        store.create("", "configmaps", "ns", "a", _cm("a"))
    with pytest.raises(Conflict):
        store.update("", "configmaps", "ns", "a", _cm("a", "2"), expected_rv=99)
    with pytest.raises(NotFound):
        store.update("", "configmaps", "ns", "missing", _cm("missing"))
    with pytest.raises(Conflict):
        store.delete("", "configmaps", "ns", "a", expected_rv=99)
    assert store.revision == 1, "refused writes must not consume revisions"


def test_list_filters_by_type_and_namespace(store: Store) -> None:
    store.create("", "configmaps", "ns", "b", _cm("b"))
    store.create("", "configmaps", "other", "a", _cm("a"))
    store.create("", "secrets", "ns", "s", {"metadata": {"name": "s"}})
    items, rev = store.list("", "configmaps")
    assert [(o["metadata"]["name"]) for o in items] == ["b", "a"]  # ordered by namespace, name
    assert rev == 3
    items, _ = store.list("", "configmaps", "other")
    assert [o["metadata"]["name"] for o in items] == ["a"]


def test_events_since_returns_exactly_the_later_changes(store: Store) -> None:
    store.create("", "configmaps", "ns", "a", _cm("a"))
    mark = store.revision
    store.update("", "configmaps", "ns", "a", _cm("a", "2"))
    store.create("", "secrets", "ns", "s", {"metadata": {"name": "s"}})
    store.delete("", "configmaps", "ns", "a")
    events = store.events_since(mark, "", "configmaps")
    assert [(e.type, e.revision) for e in events] == [("MODIFIED", 2), ("DELETED", 4)]
    assert events[0].object["data"] == {"v": "2"}
    assert events[1].object["metadata"]["resourceVersion"] == "4"


def test_compaction_expires_old_revisions(store: Store) -> None:
    for i in range(20):
        store.create("", "configmaps", "ns", f"c{i}", _cm(f"c{i}"))
    assert store.compacted_revision > 0
    assert store.revision - store.compacted_revision <= 5 + 2
    with pytest.raises(Expired):
        store.events_since(1, "", "configmaps")
    recent = store.events_since(store.compacted_revision, "", "configmaps")
    assert [e.revision for e in recent] == list(range(store.compacted_revision + 1, 21))
    assert store.get("", "configmaps", "ns", "c0") is not None, "compaction keeps live objects"


def test_revisions_and_compaction_survive_reopening(tmp_path: Path) -> None:
    first = Store(tmp_path / "p.db", keep_revisions=3)
    for i in range(10):
        first.create("", "configmaps", "ns", f"c{i}", _cm(f"c{i}"))
    for i in range(10):
        first.delete("", "configmaps", "ns", f"c{i}")
    compacted = first.compacted_revision
    first.close()
    second = Store(tmp_path / "p.db", keep_revisions=3)
    try:
        assert second.revision == 20
        assert second.compacted_revision == compacted
        created = second.create("", "configmaps", "ns", "new", _cm("new"))
        assert created["metadata"]["resourceVersion"] == "21", "row ids are never reused"
    finally:
        second.close()


def test_waiters_wake_on_writes_and_on_close(store: Store) -> None:
    woke: list[bool] = []
    thread = threading.Thread(target=lambda: woke.append(store.wait(store.revision, 10)))
    thread.start()
    store.create("", "configmaps", "ns", "a", _cm("a"))
    thread.join(5)
    assert woke == [True]
    thread = threading.Thread(target=lambda: woke.append(store.wait(store.revision, 10)))
    thread.start()
    store.close()
    thread.join(5)
    assert woke == [True, True]
    with pytest.raises(StoreClosed):
        store.get("", "configmaps", "ns", "a")


def test_a_waiter_of_one_type_sleeps_through_the_writes_of_others(store: Store) -> None:
    """A watch per type (as a controller manager holds them) is woken by its own type's writes only."""
    start = store.revision
    wakes: list[bool] = []
    ready = threading.Event()

    def waiter() -> None:
        ready.set()
        wakes.append(store.wait(start, 30, "", "configmaps"))

    thread = threading.Thread(target=waiter)
    thread.start()
    ready.wait(5)
    for index in range(20):
        store.create("", "secrets", "ns", f"s{index}", {"metadata": {"name": f"s{index}"}})
    assert store.type_revision("", "secrets") == store.revision and store.type_revision("", "configmaps") == 0
    assert thread.is_alive() and wakes == [], "20 Secret writes did not end the ConfigMap waiter's wait"
    written = store.create("", "configmaps", "ns", "a", _cm("a"))
    thread.join(10)
    assert wakes == [True]
    assert store.type_revision("", "configmaps") == int(written["metadata"]["resourceVersion"])
    assert store.changed_since(start, {("", "configmaps")}) and not store.changed_since(store.revision,
                                                                                      {("", "configmaps")})
    assert not store.wait(store.revision, 0.05, "", "configmaps"), "nothing new: the wait runs out"


def test_type_revisions_are_read_back_when_a_store_reopens(tmp_path: Path) -> None:
    first = Store(tmp_path / "t.db")
    first.create("", "configmaps", "ns", "a", _cm("a"))
    secret = first.create("", "secrets", "ns", "s", {"metadata": {"name": "s"}})
    first.close()
    second = Store(tmp_path / "t.db")
    try:
        assert second.type_revision("", "secrets") == int(secret["metadata"]["resourceVersion"])
        assert second.type_revision("", "configmaps") == 1
    finally:
        second.close()


def test_server_restart_keeps_objects_and_resource_versions(tmp_path: Path) -> None:
    server = start_sandbox(tmp_path)
    try:
        body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keep"},"data":{"a":"1"}}'
        created = raw_request(server, "POST", "/api/v1/namespaces/default/configmaps", body,
                              headers={"Content-Type": "application/json"}).json()
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "widgets.example.com"},
               "spec": {"group": "example.com", "scope": "Namespaced",
                        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                        "versions": [{"name": "v1", "served": True, "storage": True,
                                      "schema": {"openAPIV3Schema": {"type": "object",
                                                 "x-kubernetes-preserve-unknown-fields": True}}}]}}
        assert raw_request(server, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                           json.dumps(crd), headers={"Content-Type": "application/json"}).status == 201
        port = server.port
    finally:
        server.stop()
    server.stop()  # idempotent
    again = start_sandbox(tmp_path, token=server.token, port=port)
    try:
        got = raw_request(again, "GET", "/api/v1/namespaces/default/configmaps/keep").json()
        assert got["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
        assert got["metadata"]["uid"] == created["metadata"]["uid"]
        assert raw_request(again, "GET", "/apis/example.com/v1/namespaces/default/widgets").status == 200
        listed = raw_request(again, "GET", "/api/v1/namespaces/default/configmaps").json()
        assert int(listed["metadata"]["resourceVersion"]) >= int(created["metadata"]["resourceVersion"])
    finally:
        again.stop()
