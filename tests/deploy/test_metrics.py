"""`run --health-listen` serves GET /metrics: parsed by prometheus_client's own parser; the histogram moves on a commit;
and the running reconciler's alerts reach a receiver."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gitops_tui.actions import alerts as alert_actions
from gitops_tui.actions.sources import request_reconcile
from tests.gitserver import commit
from tests.receiver import Receiver
from tests.waiting import wait_until
from tests.world import World, configmap

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = {"gitops_tui_reconcile_duration_seconds", "gitops_tui_source_ready", "gitops_tui_objects_applied",
            "gitops_tui_objects_pruned", "gitops_tui_drift_corrected", "gitops_tui_git_fetch_duration_seconds",
            "gitops_tui_shards_held", "gitops_tui_alert_deliveries", "gitops_tui_holds_active"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Run:
    """A `gitops-tui run --health-listen` process against the test sandbox."""

    def __init__(self, sandbox: Any, folder: Path, *extra: str) -> None:
        self.port = _free_port()
        self.log = (folder / "run.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gitops_tui", "run", "--health-listen", f"127.0.0.1:{self.port}",
             "--allow-local-repos", str(folder), "--lease-duration", "2", *extra],
            cwd=ROOT, env=sandbox.env, stdout=self.log, stderr=subprocess.STDOUT)

    def scrape(self) -> dict[str, Any]:
        """Every family of GET /metrics, parsed by the library's parser (which fails on a malformed exposition)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as answer:
            assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = answer.read().decode()
        return {family.name: family for family in text_string_to_metric_families(text)}

    def stop(self) -> None:
        """SIGTERM, bounded wait, SIGKILL as a last resort."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.log.close()


@pytest.fixture
def run(sandbox: Any, tmp_path: Path, receiver: Receiver) -> Iterator[Run]:
    """A running reconciler allowed to post to the receiver."""
    process = Run(sandbox, tmp_path, "--allow-fetch", receiver.pattern())
    yield process
    process.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback receiver."""
    box = Receiver().start()
    yield box
    box.stop()


def reconciles(families: dict[str, Any], project: str, source: str) -> float:
    """The histogram's count of ``source``'s reconciles (every result)."""
    family = families.get("gitops_tui_reconcile_duration_seconds")
    return sum(s.value for s in (family.samples if family else []) if s.name.endswith("_count")
               and s.labels.get("project") == project and s.labels.get("source") == source)


def test_metrics_parse_and_the_histogram_moves_when_a_commit_lands(world: World, run: Run,
                                                                   receiver: Receiver) -> None:
    families = wait_until(run.scrape, timeout=60.0, message="GET /metrics answers")
    assert FAMILIES <= set(families), sorted(FAMILIES - set(families))
    alert_actions.create_alert(world.api, world.project, "oncall", format_="generic", url=receiver.url(),
                               events=["failure"])
    repo = world.repo("measured", {"apps/a.yaml": configmap("a")})
    world.create("measured", f"file://{repo}", path="./apps")
    wait_until(lambda: world.get("dev", "configmaps", "a"), timeout=60.0, message="applied on dev")
    first = wait_until(lambda: reconciles(run.scrape(), world.project, "measured"), timeout=60.0,
                       message="the first reconcile measured")
    commit(repo, {"apps/a.yaml": configmap("a", "v2")})
    request_reconcile(world.api, world.project, "measured")  # `gitops-tui reconcile`, not the 1m interval
    wait_until(lambda: reconciles(run.scrape(), world.project, "measured") > first, timeout=60.0,
               message="the histogram's count moved after the commit")
    wait_until(lambda: (world.get("dev", "configmaps", "a") or {}).get("data", {}).get("value") == "v2", timeout=60.0,
               message="the commit applied")
    families = run.scrape()
    ready = [s for s in families["gitops_tui_source_ready"].samples if s.labels.get("source") == "measured"]
    assert ready and ready[0].value in (0.0, 1.0)
    applied = [s for s in families["gitops_tui_objects_applied"].samples
               if s.labels.get("project") == world.project and s.name.endswith("_total")]
    assert sum(s.value for s in applied) >= 1

    commit(repo, {"apps/b.yaml": configmap("b").replace("metadata:\n", "metadata:\n  labels:\n    t: " + "x" * 64
                                                        + "\n")})
    request_reconcile(world.api, world.project, "measured")
    wait_until(lambda: receiver.posts, timeout=60.0, message="the running reconciler's failure alert")
    assert receiver.json_bodies()[0]["source"] == "measured"
