"""Renders can be stopped (issue 18 item 7, attack F): a runaway chart's render process is killed at its deadline.

Helm's template engine is Go in-process and cannot be interrupted from Python: charts render in worker
processes (gitops_tui/helm/render_pool.py). These tests count processes and threads, waiting with a bound;
none of them times anything.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from gitops_tui.api import names
from gitops_tui.helm import render as render_mod
from gitops_tui.helm.charts import load_from_git
from gitops_tui.helm.errors import INSTALL_FAILED, HelmReleaseFailed
from gitops_tui.helm.render_pool import RenderPool, RenderStopped
from tests.gitserver import commit
from tests.helm.charts import GROW_TEMPLATE, write_chart, write_runaway_chart
from tests.waiting import wait_until
from tests.world import CLUSTERS, World


def children() -> set[int]:
    """The live (not reaped) child processes of this process, zombies included."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:
            found.add(int(entry))
    return found


def threads() -> int:
    """The threads of this process."""
    return len(os.listdir("/proc/self/task"))


def _request(chart: Path) -> dict:
    return {"chart": str(chart), "values": {}, "name": "shop", "namespace": "team-a", "revision": 1,
            "max_bytes": 16 << 20}


@pytest.fixture
def pool() -> RenderPool:
    """A private pool keeping one worker between renders."""
    made = RenderPool(max_workers=2, keep_idle=1)
    yield made
    made.close()


def test_a_runaway_render_is_killed_and_leaves_no_process_and_no_thread(pool: RenderPool, tmp_path: Path) -> None:
    good = write_chart(tmp_path)
    assert pool.render(_request(good), 30).rendered, "a worker is started and kept"
    (worker,) = pool.workers()
    before_children, before_threads = children(), threads()
    assert worker in before_children

    with pytest.raises(RenderStopped) as stopped:
        pool.render(_request(write_runaway_chart(tmp_path)), 1.5)
    assert stopped.value.why == "deadline"
    wait_until(lambda: worker not in children() and not Path(f"/proc/{worker}").exists(), timeout=10,
               message="the killed worker reaped")
    wait_until(lambda: children() == before_children - {worker}, timeout=10, message="no render process left")
    wait_until(lambda: threads() <= before_threads, timeout=10, message="no thread left")
    assert pool.workers() == []

    assert pool.render(_request(good), 30).rendered, "the next render starts a fresh worker"
    assert pool.workers() and pool.workers() != [worker]


def test_the_cpu_and_memory_limits_stop_a_render_before_its_deadline(tmp_path: Path) -> None:
    small, before = RenderPool(max_workers=1, keep_idle=0, memory_bytes=256 << 20), children()
    try:
        with pytest.raises(RenderStopped) as stopped:
            small.render(_request(write_runaway_chart(tmp_path, "grow", GROW_TEMPLATE)), 120)
        assert stopped.value.why == "memory"
        with pytest.raises(RenderStopped) as stopped:
            small.render(_request(write_runaway_chart(tmp_path)), 120, cpu_seconds=1)
        assert stopped.value.why == "cpu"
        wait_until(lambda: children() <= before, timeout=10, message="no render process left")
    finally:
        small.close()


def test_a_render_past_its_deadline_says_so_in_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_mod, "RENDER_TIMEOUT", 1.5)
    chart = load_from_git(tmp_path, write_runaway_chart(tmp_path).name)
    with pytest.raises(HelmReleaseFailed) as failed:
        render_mod.render_release(chart, {}, release_name="shop", namespace="team-a", revision=1,
                                  failure_reason=INSTALL_FAILED)
    assert failed.value.message == "render of chart spin exceeded its deadline of 1.5 s and was stopped"


def test_a_runaway_chart_fails_the_reconcile_and_applies_nothing(world: World,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_mod, "RENDER_TIMEOUT", 1.5)
    release = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "shop"},
               "spec": {"chart": {"spec": {"chart": "./charts/spin",
                                           "sourceRef": {"kind": "GitRepository", "name": "shop"}}}}}
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain"}, "data": {"a": "b"}}
    repo = world.repo("spin", {"deploy/hr.yaml": yaml.safe_dump(release), "deploy/cm.yaml": yaml.safe_dump(cm)})
    write_runaway_chart(repo / "charts")
    commit(repo, {}, "runaway chart")
    world.create("shop", f"file://{repo}", path="./deploy")
    world.reconcile("shop")
    ready = world.condition("shop", names.READY)
    assert ready["status"] == "False", ready
    assert ready["message"] == ("HelmRelease/shop: render of chart spin exceeded its deadline of 1.5 s and was "
                                "stopped"), ready
    assert all(world.get(c, "configmaps", "plain") is None for c in CLUSTERS), "nothing of the revision applied"
