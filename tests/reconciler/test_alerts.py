"""Alerts delivered to a real HTTP receiver on loopback: signed generic JSON, retries, the rate limit, failures told."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest

from gitops_tui.actions import ActionError
from gitops_tui.actions import alerts as actions
from gitops_tui.api import alerts as al
from gitops_tui.kube.client import json_request
from gitops_tui.kube.outbound import FetchPolicy
from gitops_tui.reconciler.alert_dispatch import AlertDispatcher
from tests.receiver import Receiver
from tests.waiting import wait_until
from tests.world import World, configmap

SECRET = "hmac-key-never-shown-7f3a"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver answering 200."""
    box = Receiver().start()
    yield box
    box.stop()


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def dispatcher(world: World, receiver: Receiver, **kwargs: Any) -> AlertDispatcher:
    """A started dispatcher listening to the world's recorder, allowed to post to the receiver only."""
    kwargs.setdefault("backoff", 0.01)
    sender = AlertDispatcher(world.api, FetchPolicy([receiver.pattern()]), world.ctx.recorder, **kwargs)
    world.ctx.recorder.listeners.append(sender.listen)
    sender.start()
    return sender


def event(world: World, kind: str = "failure", cluster: str = "dev") -> al.AlertEvent:
    """An event of the world's project as the dispatcher's listener would make it."""
    return al.AlertEvent(kind, world.project, world.namespace, "web", [cluster], "main@sha1:abc", "ApplyFailed",
                         "apply failed on dev", "gitops-tui reconciler", "2026-12-07T21:00:00Z", "error")


def alert_events(world: World) -> list[dict[str, Any]]:
    """Events about Alerts in the project's namespace."""
    listed = json_request(world.api, "GET", f"/api/v1/namespaces/{world.namespace}/events")
    return [e for e in listed.get("items") or [] if (e.get("involvedObject") or {}).get("kind") == al.KIND_ALERT]


def test_a_failure_on_dev_reaches_the_receiver_signed_within_five_seconds(world: World, receiver: Receiver) -> None:
    actions.create_alert(world.api, world.project, "oncall", format_="generic", url=receiver.url("/hook"),
                         events=["failure", "recovery"], secret_value=SECRET)
    sender = dispatcher(world, receiver)
    try:
        bad = configmap("bad").replace("metadata:\n", "metadata:\n  labels:\n    tier: " + "x" * 64 + "\n")
        repo = world.repo("alerting", {"apps/a.yaml": configmap("a"), "apps/bad.yaml": bad})
        world.create("alerting", f"file://{repo}", path="./apps", clusters=["dev"])
        world.reconcile("alerting")
        wait_until(lambda: receiver.posts, timeout=5.0, message="the failure reached the receiver")
    finally:
        sender.stop()
    path, headers, body = receiver.posts[0]
    assert path == "/hook"
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-signature"] == expected
    payload = json.loads(body)
    assert payload["kind"] == "failure" and payload["project"] == world.project and payload["source"] == "alerting"
    assert payload["revision"].startswith("main@sha1:") and payload["reason"] and payload["who"]
    assert payload["time"].endswith("Z") and payload["journal"] == f"gitops-tui journal -p {world.project} " \
                                                                 "--source alerting"
    assert payload["clusters"] in (["dev"], [])
    assert payload["involvedObject"]["name"] == "alerting" and payload["severity"] == "error"
    assert SECRET not in body.decode()


def test_a_500_is_retried_with_backoff_until_it_arrives(world: World) -> None:
    box = Receiver(codes=[500, 503]).start()
    try:
        actions.create_alert(world.api, world.project, "flaky", format_="generic", url=box.url(), events=["failure"])
        sender = dispatcher(world, box)
        try:
            sender.submit(event(world))
            wait_until(lambda: box.posts, timeout=10.0, message="delivered after the retries")
        finally:
            sender.stop()
        assert box.attempts == 3 and len(box.posts) == 1
        assert "x-signature" not in box.posts[0][1]  # no secret: unsigned
        assert not alert_events(world)
    finally:
        box.stop()


def test_repeats_within_a_minute_are_counted_in_the_next_message(world: World, receiver: Receiver) -> None:
    actions.create_alert(world.api, world.project, "limited", format_="generic", url=receiver.url(),
                         events=["failure"])
    clock = Clock()
    sender = dispatcher(world, receiver, clock=clock)
    try:
        for _ in range(3):
            sender.submit(event(world))
        sender.submit(event(world, cluster="prod"))  # another cluster: its own limit
        wait_until(lambda: sender.handled == 4, timeout=10.0, message="four events handled")
        assert [b["clusters"] for b in receiver.json_bodies()] == [["dev"], ["prod"]]
        clock.now += 61
        sender.submit(event(world))
        wait_until(lambda: len(receiver.posts) == 3, timeout=10.0, message="the next message after the minute")
    finally:
        sender.stop()
    bodies = receiver.json_bodies()
    assert bodies[0]["repeats"] == 0 and bodies[2]["repeats"] == 2 and bodies[2]["clusters"] == ["dev"]


def test_a_failed_delivery_is_a_warning_event_without_the_secret_or_the_path(world: World) -> None:
    box = Receiver(codes=[500] * 10).start()
    try:
        actions.create_alert(world.api, world.project, "down", format_="generic", url=box.url("/hook/T0KENPATH"),
                             events=["failure"], secret_value=SECRET)
        sender = dispatcher(world, box, attempts=3)
        try:
            sender.submit(event(world))
            wait_until(lambda: alert_events(world), timeout=10.0, message="the Warning Event about the alert")
        finally:
            sender.stop()
        warning = alert_events(world)[0]
        assert warning["type"] == "Warning" and warning["reason"] == al.REASON_DELIVERY_FAILED
        assert warning["involvedObject"]["name"] == "down" and "3 attempts" in warning["message"]
        assert "HTTP 500" in warning["message"]
        assert "T0KENPATH" not in warning["message"] and SECRET not in warning["message"]
        assert box.attempts == 3
    finally:
        box.stop()


def test_an_address_outside_the_allow_list_is_never_posted_to(world: World, receiver: Receiver) -> None:
    actions.create_alert(world.api, world.project, "inside", format_="generic", url=receiver.url("/secret-path"),
                         events=["failure"])
    sender = AlertDispatcher(world.api, FetchPolicy([]), world.ctx.recorder, backoff=0.01)
    sender.start()
    try:
        sender.submit(event(world))
        wait_until(lambda: alert_events(world), timeout=10.0, message="the refusal told")
    finally:
        sender.stop()
    assert receiver.attempts == 0
    message = alert_events(world)[0]["message"]
    assert "is not fetched" in message and "--allow-fetch" in message and "secret-path" not in message


def test_apprise_json_posts_through_the_library(world: World, receiver: Receiver) -> None:
    actions.create_alert(world.api, world.project, "chat", format_="apprise",
                         url=f"json://127.0.0.1:{receiver.port}/apprise", events=["drift"])
    sender = dispatcher(world, receiver)
    try:
        sender.submit(event(world, kind="drift"))
        wait_until(lambda: receiver.posts, timeout=10.0, message="apprise's JSON post")
    finally:
        sender.stop()
    path, headers, body = receiver.posts[0]
    payload = json.loads(body)
    assert path == "/apprise" and payload["title"].startswith(f"[drift] {world.project}/web on dev")
    assert "gitops-tui journal -p" in payload["message"]


def test_chat_formats_need_their_services_urls(world: World) -> None:
    with pytest.raises(ActionError, match="Slack incoming-webhook URL"):
        actions.create_alert(world.api, world.project, "slack", format_="slack", url="https://example.com/x",
                             events=["failure"])
    with pytest.raises(ActionError, match="Teams Workflows"):
        actions.create_alert(world.api, world.project, "teams", format_="msteams", url="https://example.com/x",
                             events=["failure"])
    with pytest.raises(ActionError, match="repository's web URL"):
        actions.create_alert(world.api, world.project, "gh", format_="github-status", url="https://api.github.com",
                             events=["failure"])
    with pytest.raises(ActionError, match="not known"):
        actions.create_alert(world.api, world.project, "bad", format_="generic", url="https://example.com/x",
                             events=["failure", "everything"])
    created = actions.create_alert(world.api, world.project, "slack", format_="slack",
                                   url="https://hooks.slack.com/services/T000/B000/XXXXSECRET", events=["failure"])
    rows = [actions.summary(p, a, raw) for p, a, raw in actions.list_alerts(world.api, world.project)]
    assert [r["address"] for r in rows] == ["https://hooks.slack.com/…"]
    assert created["spec"]["format"] == "slack"
    actions.delete_alert(world.api, world.project, "slack")
    assert actions.list_alerts(world.api, world.project) == []


def test_a_freeze_expiry_alarms_through_an_alert_with_who_froze(world: World, receiver: Receiver) -> None:
    from gitops_tui.actions import freeze as freeze_actions
    from tests.clock import FakeClock

    actions.create_alert(world.api, world.project, "freezes", format_="generic", url=receiver.url(),
                         events=["expiry"])
    clock = FakeClock()
    world.ctx.now = clock
    repo = world.repo("frozen", {"cm.yaml": configmap("cfg")})
    world.create("frozen", f"file://{repo}", interval="1h")
    world.reconcile("frozen")
    sender = dispatcher(world, receiver)
    try:
        freeze_actions.freeze_source(world.api, world.project, "frozen",
                                     freeze_actions.FreezeRequest("incident 7", for_="30m"), actor="alice",
                                     now=clock())
        clock.advance(minutes=35)
        world.reconcile("frozen")
        wait_until(lambda: receiver.posts, timeout=5.0, message="the expiry alarm")
    finally:
        sender.stop()
    payload = receiver.json_bodies()[0]
    assert payload["kind"] == "expiry" and payload["reason"] == "FreezeExpired" and payload["who"] == "alice"
    assert "incident 7" in payload["message"]


def test_a_fixed_revision_after_a_failure_is_a_recovery(world: World, receiver: Receiver) -> None:
    from tests.gitserver import commit

    actions.create_alert(world.api, world.project, "both", format_="generic", url=receiver.url(),
                         events=["failure", "recovery"])
    sender = dispatcher(world, receiver)
    try:
        bad = configmap("bad").replace("metadata:\n", "metadata:\n  labels:\n    tier: " + "x" * 64 + "\n")
        repo = world.repo("healing", {"a.yaml": configmap("a"), "bad.yaml": bad})
        world.create("healing", f"file://{repo}", clusters=["dev"])
        world.reconcile("healing")
        wait_until(lambda: receiver.posts, timeout=5.0, message="the failure")
        commit(repo, {"bad.yaml": configmap("bad")})
        world.reconcile("healing")
        wait_until(lambda: any(b["kind"] == "recovery" for b in receiver.json_bodies()), timeout=5.0,
                   message="the recovery")
    finally:
        sender.stop()
    kinds = [b["kind"] for b in receiver.json_bodies()]
    assert kinds[0] == "failure" and kinds.count("recovery") == 1
    recovery = next(b for b in receiver.json_bodies() if b["kind"] == "recovery")
    assert recovery["clusters"] == ["dev"] and recovery["severity"] == "info"


def test_a_rollout_halt_raised_on_every_reconcile_posts_once(world: World, receiver: Receiver) -> None:
    """The hook for the rollout branch: its RolloutHalted Event, recorded again by each reconcile, is one message."""
    actions.create_alert(world.api, world.project, "rollouts", format_="generic", url=receiver.url(),
                         events=["rollout"])
    sender = dispatcher(world, receiver)
    fk = {"apiVersion": "types.kubefed.io/v1beta1", "kind": "FederatedKustomization",
          "metadata": {"name": "web", "namespace": world.namespace}}
    try:
        for _ in range(4):
            world.ctx.recorder.emit(fk, "Warning", al.REASON_ROLLOUT_HALTED, "wave prod halted: staging unhealthy",
                                    revision="main@sha1:abc")
        wait_until(lambda: sender.handled == 4, timeout=10.0, message="four halts handled")
    finally:
        sender.stop()
    bodies = receiver.json_bodies()
    assert len(bodies) == 1 and bodies[0]["kind"] == "rollout" and bodies[0]["reason"] == "RolloutHalted"


def test_the_cli_creates_lists_and_deletes_an_alert_without_echoing_the_secret(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    from gitops_tui.cli import main

    assert main(["create", "alert", "pager", "-p", world.project, "--url", "https://events.example.com/v2/T0K",
                 "--format", "generic", "--secret-value", SECRET, "--events", "failure,expiry"]) == 0
    created = capsys.readouterr().out
    assert "alert pager created" in created and "(signed)" in created and SECRET not in created
    assert main(["get", "alerts", "-p", world.project, "-o", "json"]) == 0
    out = capsys.readouterr()
    assert out.out.strip(), out.err
    listed = json.loads(out.out)
    assert listed["kind"] == "AlertList" and [i["name"] for i in listed["items"]] == ["pager"]
    item = listed["items"][0]
    assert item["address"] == "https://events.example.com/…" and item["events"] == ["failure", "expiry"]
    assert item["secret"] == "pager-alert-token" and SECRET not in json.dumps(listed)
    assert main(["create", "alert", "bad", "-p", world.project, "--url", "https://x.example.com/h", "--format",
                 "generic", "--events", "failure,everything"]) != 0
    assert "not known" in capsys.readouterr().err
    assert main(["delete", "alert", "pager", "-p", world.project]) == 0
    assert "alert pager deleted" in capsys.readouterr().out
    assert main(["get", "alerts", "-p", world.project, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["items"] == []
