#!/usr/bin/env python3
"""What a staged rollout costs (issue 22): the extra management requests per wave, and the time from a soak's end to
the next wave's first write (goal: under 1 s), each beside a baseline measured in the same run.

A private sandbox (dev, staging, prod), one project, sources of ConfigMaps:

- ``requests``: the same commit (every object changed) of two alike sources of ``--objects`` ConfigMaps, one plain,
  one with a rollout ``dev/staging/prod`` (soak 1m, an injected clock: no waiting). The plain source applies it in
  one reconcile; the staged one in one reconcile per wave plus the one that ends the last soak. Requests are
  counted by each API server's own ``apiserver_request_total`` (management and workload clusters); the difference
  over the waves is what a wave adds. An unchanged reconcile of the plain source is measured too: a wave's extra
  requests are mostly the reconcile that wakes at the soak's end.
- ``latency``: the embedded Reconciler on the real clock (2 workers, as bench_reconciler), a rollout with a soak of
  ``--soak``: from the soak's end (``status.rollout.soakStarted`` + soak: the reconciler's own clock) to the next
  wave's first object seen written (a LIST of the wave's namespace every 10 ms). The baseline: a reconcile asked for
  (``requestedAt``, as the console's ``R`` and `reconcile source` write it) to the first object seen written on dev, for a plain source.

Medians of ``--rounds``; the load average is printed at the start and the end (the machine is shared).
Usage: bench/bench_rollout.py [--objects 20] [--rounds 3] [--soak 2s] [--json]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_reconciler import bump, make_repo, wait_for  # noqa: E402
from bench.common import CLUSTERS, BenchSandbox, RequestMeter, median, ratio, run  # noqa: E402
from gitops_tui.actions import rollout as rollout_actions  # noqa: E402
from gitops_tui.actions import sources as actions  # noqa: E402
from gitops_tui.api.formats import parse_duration, parse_time  # noqa: E402
from gitops_tui.api.paths import resource_path  # noqa: E402
from gitops_tui.api.rollout import progress_of  # noqa: E402
from gitops_tui.kube.client import json_request  # noqa: E402
from gitops_tui.reconciler.manager import Reconciler  # noqa: E402
from gitops_tui.reconciler.options import ReconcilerOptions  # noqa: E402
from gitops_tui.reconciler.source_controller import reconcile_source  # noqa: E402
from gitops_tui.reconciler.source_urls import ALLOW_ENV  # noqa: E402
from gitops_tui.reconciler.status import load_source  # noqa: E402

WAVES = "dev/staging/prod"


class Clock:
    """An injected clock (the reconciler's ``ctx.now``) that ``advance`` moves."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(seconds=seconds)


def _done(bench: BenchSandbox, name: str) -> bool:
    """Whether the source's rollout recorded its revision done (False before the reconciler recorded any)."""
    progress = progress_of(load_source(bench.api, bench.project, name).kustomization)
    return progress is not None and bool(progress.done)


def _total(counts: dict[str, dict[str, int]], clusters: list[str]) -> int:
    return sum(n for cluster in clusters for n in counts.get(cluster, {}).values())


def _values(bench: BenchSandbox, prefix: str) -> dict[str, set[str]]:
    """Per cluster, the values of the ConfigMaps named ``prefix``-NNN (one LIST each)."""
    out = {}
    for cluster in CLUSTERS:
        items = json_request(bench.ctx.clusters.get(cluster)[0], "GET",
                             resource_path("v1", "configmaps", bench.project)).get("items") or []
        out[cluster] = {str((i.get("data") or {}).get("value")) for i in items
                        if i["metadata"]["name"].startswith(f"{prefix}-")}
    return out


def requests(bench: BenchSandbox, objects: int, rounds: int) -> dict[str, Any]:
    """Requests the same revision costs without and with a three-wave rollout, per API server."""
    clock = Clock()
    bench.ctx.now = clock
    repos = {}
    for name in ("plain", "staged"):
        repos[name] = make_repo(bench.home / f"repo-{name}", objects, name)
        actions.create_source(bench.api, bench.project, name, f"file://{repos[name]}", interval="1h")
        reconcile_source(bench.ctx, bench.project, name)
    rollout_actions.set_rollout(bench.api, bench.project, "staged",
                                rollout_actions.RolloutRequest(WAVES, "bench", soak="1m"), actor="bench", now=clock())
    reconcile_source(bench.ctx, bench.project, "staged")
    meter = RequestMeter(bench.kubeconfig, ["management", *CLUSTERS])
    plain, staged, noop, plain_work, staged_work, reconciles = [], [], [], [], [], 0
    for r in range(rounds):
        bump(repos["plain"], objects, f"r{r}", "plain")
        meter.since()
        reconcile_source(bench.ctx, bench.project, "plain")
        counts = meter.since()
        plain.append(_total(counts, ["management"]))
        plain_work.append(_total(counts, CLUSTERS))
        reconcile_source(bench.ctx, bench.project, "plain")
        noop.append(_total(meter.since(), ["management"]))

        bump(repos["staged"], objects, f"r{r}", "staged")
        meter.since()
        reconciles, requeues = 0, []
        while True:
            result = reconcile_source(bench.ctx, bench.project, "staged")
            requeues.append(None if result.requeue_after is None else round(result.requeue_after, 1))
            reconciles += 1
            if _done(bench, "staged") or reconciles > 8:
                break
            clock.advance(61)
        counts = meter.since()
        staged.append(_total(counts, ["management"]))
        staged_work.append(_total(counts, CLUSTERS))
        found = _values(bench, "staged")
        if any(found[c] != {f"r{r}"} for c in CLUSTERS):
            raise SystemExit(f"the staged revision did not reach every cluster: {found}")
    waves = len(WAVES.split("/"))
    extra = (median(staged, 1) - median(plain, 1)) / waves
    beyond = extra - (reconciles - 1) * median(noop, 1) / waves
    return {
        "management requests, plain source, one revision (1 reconcile)": median(plain, 1),
        f"management requests, 3-wave rollout, one revision ({reconciles} reconciles)": median(staged, 1),
        "management requests, an unchanged reconcile": median(noop, 1),
        "extra management requests per wave": round(extra, 1),
        "  of which beyond the wake-up reconcile itself": round(beyond, 1),
        "ratio staged / plain (management)": ratio(median(staged, 1), median(plain, 1)),
        "requeue after each reconcile of the staged revision (s; interval 1h)": requeues,
        "workload-cluster requests, plain / staged (same objects written)": [median(plain_work, 1),
                                                                            median(staged_work, 1)],
    }


def _first_write(bench: BenchSandbox, cluster: str, prefix: str, value: str, timeout: float = 60.0) -> float:
    """time.time() when the first ConfigMaps ``prefix``-NNN on ``cluster`` is seen at ``value`` (LIST every 10 ms)."""
    api = bench.ctx.clusters.get(cluster)[0]
    path = resource_path("v1", "configmaps", bench.project)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = json_request(api, "GET", path).get("items") or []
        if any(i["metadata"]["name"].startswith(f"{prefix}-") and (i.get("data") or {}).get("value") == value
               for i in items):
            return time.time()
        time.sleep(0.01)
    raise TimeoutError(f"{prefix} never reached {value} on {cluster}")


def _soak_end(bench: BenchSandbox, name: str, wave: int, soak: float, timeout: float = 60.0) -> float:
    """The epoch second the soak of ``wave`` (0-based) ends, once the reconciler recorded its start."""
    found: list[float] = []

    def started() -> bool:
        progress = progress_of(load_source(bench.api, bench.project, name).kustomization)
        when = parse_time(progress.soak_started) if progress is not None else None
        if progress is not None and progress.current == wave and when is not None:
            found.append(when.timestamp() + soak)
            return True
        return False

    wait_for(started, timeout)
    return found[-1]


def latency(bench: BenchSandbox, rounds: int, soak_text: str) -> dict[str, Any]:
    """Seconds from a soak's end to the next wave's first write, and from a requested reconcile to the first write."""
    bench.ctx.now = lambda: datetime.now(UTC)
    soak = parse_duration(soak_text, default=2.0)
    repos = {name: make_repo(bench.home / f"repo-{name}", 5, name) for name in ("quick", "timed")}
    for name, repo in repos.items():
        actions.create_source(bench.api, bench.project, name, f"file://{repo}", interval="1h")
    reconciler = Reconciler(bench.api, ReconcilerOptions(data_dir=bench.home / "mgr-rollout", elect=False, install=False,
                                                           workers=2))
    reconciler.start()
    after_soak: list[float] = []
    requested: list[float] = []
    done: list[Any] = []
    try:
        for name in repos:
            wait_for(lambda name=name: _values(bench, name)["prod"] == {"0"}, 120)
        rollout_actions.set_rollout(bench.api, bench.project, "timed",
                                    rollout_actions.RolloutRequest(WAVES, "bench", soak=soak_text), actor="bench")
        wait_for(lambda: _done(bench, "timed"), 60)
        for r in range(rounds):
            value = f"r{r}"
            bump(repos["quick"], 5, value, "quick")
            asked = time.time()
            actions.request_reconcile(bench.api, bench.project, "quick")
            requested.append(_first_write(bench, "dev", "quick", value) - asked)

            bump(repos["timed"], 5, value, "timed")
            actions.request_reconcile(bench.api, bench.project, "timed")
            for wave, cluster in ((0, "staging"), (1, "prod")):
                end = _soak_end(bench, "timed", wave, soak)
                after_soak.append(_first_write(bench, cluster, "timed", value) - end)
            end = _soak_end(bench, "timed", 2, soak)
            try:
                wait_for(lambda: _done(bench, "timed"), 15)
                done.append(round(time.time() - end, 3))
            except TimeoutError:
                done.append("not within 15 s")
    finally:
        reconciler.stop()
    return {
        "soak end to the next wave's first write (s), per wave": [round(t, 3) for t in after_soak],
        "soak end to the next wave's first write (s), median (goal < 1)": median(after_soak),
        "reconcile requested to the first write on dev (s), median (baseline)": median(requested),
        "ratio soak-end / requested": ratio(median(after_soak), median(requested)),
        "last wave's soak end to the rollout recorded done (s), per run": done,
        "soak": soak_text,
    }


def main() -> int:
    """Run both measures on a private sandbox and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--soak", default="2s")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ[ALLOW_ENV] = tempfile.gettempdir()  # the bench's repositories live in its temporary home

    def measure(bench: BenchSandbox) -> dict[str, Any]:
        return {**requests(bench, args.objects, args.rounds), **latency(bench, args.rounds, args.soak),
                "objects": args.objects, "rounds": args.rounds}

    return run("bench-rollout-", lambda home: BenchSandbox(home, "rollout"), measure, args.json)


if __name__ == "__main__":
    sys.exit(main())
