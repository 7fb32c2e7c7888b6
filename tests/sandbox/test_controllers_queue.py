"""The controllers' work queue and informer cache: what keeps a controller from acting twice or on stale data."""

from __future__ import annotations

import threading
import time

from gitops_tui.sandbox.controllers.informer import Informer
from gitops_tui.sandbox.controllers.kinds import PODS
from gitops_tui.util.workqueue import WorkQueue


def test_a_key_is_queued_once_and_never_handled_twice_at_once() -> None:
    queue = WorkQueue()
    queue.add("a")
    queue.add("a")
    queue.add("b")
    first = queue.get()
    queue.add(first)  # changed while being handled: handled again, but only after done()
    second = queue.get()
    assert {first, second} == {"a", "b"} and len(queue) == 0
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(queue.get()))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive()  # nothing is due while `first` is still processing
    queue.done(first)
    waiter.join(5)
    assert got == [first]
    queue.close()
    assert queue.get() is None


def test_a_delayed_key_waits_and_an_earlier_schedule_wins() -> None:
    queue = WorkQueue()
    queue.add("late", after=30)
    queue.add("late", after=0.05)
    start = time.monotonic()
    assert queue.get() == "late"
    assert 0.04 <= time.monotonic() - start < 5


def _pod(name: str, rv: str, node: str = "") -> dict:
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": rv}, "spec": {"nodeName": node}}


def test_the_cache_keeps_the_newest_version_and_ignores_late_events() -> None:
    informer = Informer(rest=None, resource=PODS, stop=threading.Event())  # type: ignore[arg-type]
    seen: list = []
    informer.handlers.append(lambda kind, old, new: seen.append((kind, (new or old)["metadata"]["resourceVersion"])))
    informer.upsert(_pod("p", "5"))
    informer._apply("MODIFIED", _pod("p", "4"))  # older than our own write: ignored, nobody told
    assert informer.get("ns", "p")["metadata"]["resourceVersion"] == "5" and seen == []
    informer.upsert(_pod("p", "5", node="n1"), assumed=True)  # a scheduler's assumption at the same version
    informer._apply("MODIFIED", _pod("p", "5"))  # the event of our own write: news, the assumption stays
    assert informer.get("ns", "p")["spec"]["nodeName"] == "n1" and seen == [("MODIFIED", "5")]
    informer.forget(_pod("p", "7"))
    informer._apply("MODIFIED", _pod("p", "6"))  # a late event of a pod we deleted does not bring it back
    assert informer.get("ns", "p") is None
    informer._apply("DELETED", _pod("p", "7"))
    assert seen[-1] == ("DELETED", "7")


def test_a_relist_tells_the_handlers_what_they_missed_even_when_the_cache_knew_it() -> None:
    informer = Informer(rest=None, resource=PODS, stop=threading.Event())  # type: ignore[arg-type]
    seen: list = []
    informer.handlers.append(lambda kind, old, new: seen.append((kind, (new or old)["metadata"]["name"])))
    informer._replace([_pod("kept", "1"), _pod("doomed", "2")])
    assert sorted(seen) == [("ADDED", "doomed"), ("ADDED", "kept")]
    seen.clear()
    informer.upsert(_pod("made", "3"))  # created by a controller: in the cache before any event
    informer.forget(_pod("doomed", "4"))  # deleted by a controller
    # The watch expired before either event arrived: the relist is the only news the handlers get.
    informer._replace([_pod("kept", "1"), _pod("made", "3")])
    assert sorted(seen) == [("ADDED", "made"), ("DELETED", "doomed")]
    seen.clear()
    informer._replace([_pod("kept", "1"), _pod("made", "3")])
    assert seen == []  # nothing new: nothing told twice


def test_the_scheduler_spreads_an_owners_pods_and_respects_room_and_selectors() -> None:
    from gitops_tui.sandbox.controllers.scheduler import choose_node

    def node(name: str, room: str = "2", **labels: str) -> dict:
        return {"metadata": {"name": name, "labels": labels},
                "status": {"allocatable": {"pods": room}, "conditions": [{"type": "Ready", "status": "True"}]}}

    def pod(owner: str, where: str = "", selector: dict | None = None) -> dict:
        return {"metadata": {"ownerReferences": [{"uid": owner, "controller": True}]},
                "spec": {"nodeName": where, "nodeSelector": selector or {}}}

    nodes = [node("a", disk="ssd"), node("b")]
    assert choose_node(pod("x"), nodes, [pod("y", "b")]) == "a"  # fewer pods
    assert choose_node(pod("x"), nodes, [pod("x", "a"), pod("y", "b")]) == "b"  # fewer of its owner's pods
    assert choose_node(pod("x", selector={"disk": "ssd"}), nodes, [pod("y", "a")]) == "a"
    assert choose_node(pod("x", selector={"disk": "ssd"}), nodes, [pod("y", "a"), pod("y", "a")]) is None
    assert choose_node(pod("x", selector={"disk": "hdd"}), nodes, []) is None
