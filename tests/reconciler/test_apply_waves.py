"""Writes within one cluster in parallel (issue 21 item 3): 4 at a time inside an apply rank, ranks in order, the
first failure raised with no write left running; and on the sandbox, a revision's ConfigMaps all written before
its Deployment starts."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from gitops_tui.reconciler import propagate
from gitops_tui.reconciler.apply_waves import MAX_PARALLEL_APPLIES, apply_by_rank
from tests.world import World, configmap, deployment


def _objects(kind: str, count: int) -> list[dict[str, Any]]:
    return [{"kind": kind, "metadata": {"name": f"{kind.lower()}-{i}"}} for i in range(count)]


def test_a_rank_is_written_four_at_a_time_and_ranks_in_order() -> None:
    """Four writers meet at a barrier (a serial loop would time out there), a fifth never runs beside them, and
    no Deployment starts before every ConfigMap ended."""
    objects = _objects("ConfigMap", 8) + _objects("Deployment", 4)
    barrier = threading.Barrier(MAX_PARALLEL_APPLIES, timeout=30)
    lock = threading.Lock()
    running, most, log = 0, 0, []

    def write(obj: dict[str, Any]) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            log.append(("start", obj["kind"]))
        barrier.wait()
        with lock:
            running -= 1
            log.append(("end", obj["kind"]))
        return obj["metadata"]["name"]

    names = apply_by_rank(objects, lambda o: 0 if o["kind"] == "ConfigMap" else 1, write)
    assert names == [o["metadata"]["name"] for o in objects]
    assert most == MAX_PARALLEL_APPLIES
    first_deployment = log.index(("start", "Deployment"))
    assert [e for e in log[first_deployment:] if e[1] == "ConfigMap"] == []


def test_the_first_failure_is_raised_after_the_writes_in_flight_end_and_the_next_rank_never_starts() -> None:
    """Four writes in flight together, one refused: the refusal is raised only once the three beside it have ended
    (no write left running behind the reconcile), and no Deployment is written."""
    written: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(MAX_PARALLEL_APPLIES, timeout=30)

    def write(obj: dict[str, Any]) -> None:
        name = obj["metadata"]["name"]
        index = int(name.rsplit("-", 1)[1])
        if obj["kind"] == "ConfigMap" and index < MAX_PARALLEL_APPLIES:
            barrier.wait()  # the first four are in flight together
        if name == "configmap-0":
            raise ValueError("refused")
        with lock:
            written.append(name)

    with pytest.raises(ValueError, match="refused"):
        apply_by_rank(_objects("ConfigMap", 12) + _objects("Deployment", 2),
                      lambda o: 0 if o["kind"] == "ConfigMap" else 1, write)
    assert {"configmap-1", "configmap-2", "configmap-3"} <= set(written)
    assert not any(n.startswith("deployment") for n in written)


def test_a_revision_writes_its_configmaps_before_its_deployment(world: World) -> None:
    """On the sandbox: 12 ConfigMaps and a Deployment; the ConfigMap writes overlap at most 4 deep, and the
    Deployment's write starts after the last ConfigMap's ended, on each cluster."""
    files = {f"cm-{i}.yaml": configmap(f"cm-{i}") for i in range(12)}
    files["web.yaml"] = deployment("web")
    world.create("waves", f"file://{world.repo('waves', files)}")
    records: list[propagate.WriteRecord] = []
    remove = propagate.add_write_hook(records.append)
    try:
        world.reconcile("waves")
    finally:
        remove()
    assert world.condition("waves", "Ready")["status"] == "True"
    for cluster in {r.cluster for r in records}:
        mine = [r for r in records if r.cluster == cluster and r.verb == "apply"]
        maps = [r for r in mine if "ConfigMap" in r.object_id]
        web = [r for r in mine if "Deployment" in r.object_id]
        assert len(maps) == 12 and len(web) == 1
        assert web[0].started >= max(r.finished for r in maps)
        deepest = max(sum(1 for o in maps if o.started <= r.started < o.finished) for r in maps)
        assert deepest <= MAX_PARALLEL_APPLIES
