"""Live events: the strip under the panes and pane 7 follow the newest event unless the operator scrolls up;
``key=value`` filters match exact names; a workload cluster's Warning about a source's object joins the stream."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from gitops_tui.backends.live import LiveBackend
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.tui.screens.main import MainScreen
from gitops_tui.tui.widgets.pane import ResourcePane
from gitops_tui.views.state import Change
from tests.tui.awaiting import app_wait_until
from tests.tui.screen_text import screen_text
from tests.waiting import wait_until
from tests.world import deployment

pytestmark = pytest.mark.timeout(240)

_serial = iter(range(10_000, 99_999))


def _event(source: str, message: str, second: int) -> dict[str, Any]:
    """A gitops-tui Event of a source, ``second`` seconds after 12:00 (the fixture's frozen clock)."""
    version = next(_serial)
    return {"apiVersion": "v1", "kind": "Event", "type": "Normal", "reason": "Applied", "message": message,
            "reportingComponent": "gitops-tui",
            "metadata": {"namespace": "demo", "name": f"{source}.{version}", "resourceVersion": str(version),
                         "annotations": {"gitops-tui.io/cluster": "dev"}},
            "involvedObject": {"kind": "FederatedKustomization", "name": source, "namespace": "demo"},
            "lastTimestamp": f"2026-01-15T12:{second // 60:02d}:{second % 60:02d}Z"}


async def _post(app: GitOpsApp, pilot: Any, events: list[dict[str, Any]]) -> None:
    app.coalescer.emit([Change("events", "ADDED", e) for e in events])
    await pilot.pause()
    await pilot.pause()


def _visible(app: GitOpsApp, text: str) -> bool:
    return text in screen_text(app)


async def test_strip_and_pane_follow_the_newest_event_unless_scrolled_up(make_app: Callable[..., GitOpsApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:  # 34 rows or more: the strip is under every pane
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await screen.mount_hidden()
        dock = screen.query_one("#events-dock", ResourcePane)
        for batch in range(3):
            await _post(app, pilot, [_event("podinfo", f"strip-{batch}-{i}", batch * 20 + i) for i in range(20)])
            assert _visible(app, f"strip-{batch}-19"), f"the strip shows the newest event after burst {batch}"
            assert not _visible(app, f"strip-{batch}-0 "), "the strip is 9 rows: the oldest of the burst is gone"
        assert dock.following
        # A repeated Event (its count grows, its time moves to now) and a full ring (500) rebuild the rows: the strip
        # still shows the newest (it used to stay on the row it had, for the whole session).
        again = {**_event("podinfo", "repeated", 61), "count": 2}
        first = [again] + [_event("podinfo", f"fill-{i}", 62 + i) for i in range(3)]
        await _post(app, pilot, first)
        await _post(app, pilot, [{**again, "lastTimestamp": "2026-01-15T12:09:00Z", "message": "repeated x2"}])
        assert _visible(app, "repeated x2")
        await _post(app, pilot, [_event("podinfo", f"ring-{i}", 600 + i) for i in range(520)])
        assert app.backend.state.events_dropped > 0 and _visible(app, "ring-519")

        await pilot.press("7")
        pane = screen.pane
        assert pane.id == "events" and pane.following
        await _post(app, pilot, [_event("podinfo", f"pane-{i}", 1200 + i) for i in range(5)])
        assert _visible(app, "pane-4") and pane.selected_key() == pane._keys[-1]

        # The operator scrolls up: the stream stays where it is while events arrive.
        for _ in range(6):
            await pilot.press("up")
        await pilot.pause()
        held = pane.selected_key()
        assert not pane.following
        await _post(app, pilot, [_event("podinfo", f"later-{i}", 1300 + i) for i in range(30)])
        assert pane.selected_key() == held, "the highlighted event stays highlighted"
        assert not _visible(app, "later-29"), "an operator reading older events is not pulled to the bottom"

        # Back at the bottom it follows again (like tail -f and k9s).
        await pilot.press("ctrl+end")
        await pilot.pause()
        assert pane.following
        await _post(app, pilot, [_event("podinfo", f"again-{i}", 1400 + i) for i in range(3)])
        assert _visible(app, "again-2") and pane.selected_key() == pane._keys[-1]


async def test_key_value_filter_matches_exact_names(make_app: Callable[..., GitOpsApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _post(app, pilot, [_event("podinfo", "of podinfo", 1), _event("podinfo-helm", "of the chart", 2)])
        await pilot.press("7", "slash", *"source=podinfo", "enter")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        shown = {row.tags["source"] for row in screen.pane.table_rows.values()}
        assert "podinfo" in shown and "podinfo-helm" not in shown
        await pilot.press("escape")  # clears the filter
        await pilot.press("slash", *"podinfo-h", "enter")  # a free word matches any part of a column
        assert {row.tags["source"] for row in screen.pane.table_rows.values()} == {"podinfo-helm"}


def _scheduler_event(pod: str, namespace: str, reason: str, kind: str = "Pod", type_: str = "Warning") -> str:
    """An Event as kube-scheduler writes one (reportingComponent default-scheduler), as JSON for kubectl.

    Stamped now: the stream keeps the newest events, and a sandbox shared with earlier tests holds many.
    """
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{pod}.{reason.lower()}", "namespace": namespace},
        "involvedObject": {"apiVersion": "v1", "kind": kind, "name": pod, "namespace": namespace},
        "type": type_, "reason": reason, "reportingComponent": "default-scheduler",
        "source": {"component": "default-scheduler"},
        "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available.",
        "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1})


async def test_a_workload_warning_about_a_sources_object_joins_the_stream(world: Any) -> None:
    repo = world.repo("web", {"web.yaml": deployment("web")})
    world.create("web", str(repo))
    world.reconcile("web")
    box, ns = world.sandbox, world.namespace
    pod = wait_until(lambda: next((p["metadata"]["name"] for p in json.loads(box.kubectl(
        "prod", "-n", ns, "get", "pods", "-o", "json").stdout)["items"] if p["metadata"]["name"].startswith("web-")),
        None), timeout=60, message="a Pod of the web Deployment on prod")
    backend = LiveBackend(box.kubeconfig, "management", "sandbox/management", reconcile="never")
    app = GitOpsApp(backend, live=True, remember_theme=False)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("7")
            screen = app.screen
            assert isinstance(screen, MainScreen)
            await app_wait_until(pilot, lambda: backend.warnings is not None and "prod" in backend.warnings.clusters(),
                                 timeout=60, message="the Warning watch of prod")
            box.kubectl("prod", "create", "-f", "-", input=_scheduler_event(pod, ns, "FailedScheduling"))
            box.kubectl("prod", "create", "-f", "-", input=_scheduler_event("other-5d8b7f-x2x4z", ns, "BackOff"))
            box.kubectl("prod", "create", "-f", "-", input=_scheduler_event(pod, ns, "Scheduled", type_="Normal"))

            def warning() -> Any:
                return next((r for r in screen.pane.table_rows.values() if r.cells[4] == "FailedScheduling"), None)

            row = await app_wait_until(pilot, warning, timeout=60, message="the FailedScheduling Warning on pane 7")
            assert row.cells[1:4] == ("Warning", "web", "prod") and row.tags["project"] == ns
            assert f"Pod {ns}/{pod}: 0/3 nodes are available" in row.cells[5]
            reasons = {r.cells[4] for r in screen.pane.table_rows.values()}
            assert "BackOff" not in reasons, "a Pod no source manages stays out of the stream"
            assert "Scheduled" not in reasons, "only Warnings are watched"
            await app.action_quit()
    finally:
        app.shutdown_backend()

    listed = json.loads(box.cli("get", "events", "-p", world.project, "-o", "json").stdout)["items"]
    found = [e for e in listed if e["reason"] == "FailedScheduling"]
    assert [(e["cluster"], e["source"], e["type"], e["object"]["name"]) for e in found] == \
        [("prod", "web", "Warning", pod)]
    assert not [e for e in listed if e["reason"] in ("BackOff", "Scheduled")]
    table = box.cli("get", "events", "-p", world.project).stdout.splitlines()
    assert "CLUSTER" in table[0] and any("FailedScheduling" in line and " prod " in line for line in table)
