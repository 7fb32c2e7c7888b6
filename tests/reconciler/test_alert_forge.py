"""Commit statuses on GitHub and GitLab: the requests match the forges' documented shapes (recorded as fixtures)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from gitops_tui.actions import alerts as actions
from gitops_tui.api import alerts as al
from gitops_tui.kube.outbound import FetchPolicy
from gitops_tui.reconciler.alert_dispatch import AlertDispatcher
from tests.receiver import Receiver
from tests.waiting import wait_until
from tests.world import World

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "forge"
SHA = "0123456789abcdef0123456789abcdef01234567"
TOKEN = "forge-token-9c1e"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback receiver standing in for the forge's API."""
    box = Receiver().start()
    yield box
    box.stop()


def _event(world: World, kind: str, cluster: str = "prod") -> al.AlertEvent:
    return al.AlertEvent(kind, world.project, world.namespace, "web", [cluster], f"main@sha1:{SHA}",
                         "Applied" if kind != "failure" else "ApplyFailed", "m", "gitops-tui reconciler",
                         "2026-12-07T21:00:00Z")


def _check(shape: dict, path: str, headers: dict[str, str], body: bytes, expected_path: str) -> dict:
    assert path == expected_path
    for name, value in shape["headers"].items():
        assert headers[name] == value.replace("{token}", TOKEN), name
    payload = json.loads(body)
    allowed = set(shape["body"]["required"]) | set(shape["body"]["optional"])
    assert set(shape["body"]["required"]) <= set(payload) <= allowed
    assert payload["state"] in shape["body"]["state"]
    return payload


@pytest.mark.parametrize("format_", ["github-status", "gitlab-status"])
def test_an_apply_and_a_failure_set_the_commit_status_per_cluster(world: World, receiver: Receiver,
                                                                  format_: str) -> None:
    shape = json.loads((FIXTURES / f"{format_}.json").read_text())
    actions.create_alert(world.api, world.project, "forge", format_=format_,
                         url=f"http://127.0.0.1:{receiver.port}/team/app", events=["failure"], secret_value=TOKEN)
    sender = AlertDispatcher(world.api, FetchPolicy([receiver.pattern()]), world.ctx.recorder, backoff=0.01)
    sender.start()
    try:
        sender.submit(_event(world, "applied"))
        sender.submit(_event(world, "failure", "dev"))
        wait_until(lambda: len(receiver.posts) == 2, timeout=10.0, message="two statuses")
    finally:
        sender.stop()
    if format_ == "github-status":
        expected = f"/api/v3/repos/team/app/statuses/{SHA}"
    else:
        expected = f"/api/v4/projects/{quote('team/app', safe='')}/statuses/{SHA}"
    applied = _check(shape, *receiver.posts[0], expected)
    failed = _check(shape, *receiver.posts[1], expected)
    label = "context" if format_ == "github-status" else "name"
    assert applied["state"] == "success" and applied[label] == "gitops-tui/web/prod"
    assert applied["description"] == "prod: applied"
    assert failed["state"] in ("failure", "failed") and failed[label] == "gitops-tui/web/dev"
    assert TOKEN not in json.dumps([applied, failed])


def test_a_forge_alert_needs_the_repository_url(world: World) -> None:
    from gitops_tui.actions import ActionError

    with pytest.raises(ActionError, match="repository's web URL"):
        actions.create_alert(world.api, world.project, "gh", format_="github-status", url="https://github.com",
                             events=["failure"], secret_value=TOKEN)
