#!/usr/bin/env python3
"""What alerts and metrics add to an idle reconcile (issue 23: under 5%), beside a baseline measured in the same run.

One source of ``--objects`` ConfigMaps on dev, staging and prod, applied once; then unchanged reconciles (what every
interval does at idle), alternating:

- baseline: no listener on the recorder, the git-fetch timer replaced by a bare context;
- with alerts and metrics: the Reconciler's listeners (the alert dispatcher, running, with an Alert on the project;
  the metrics' Event listener), the reconcile timed into the histogram, the git fetch timed, and a full
  ``/metrics`` exposition after each reconcile (a scrape per reconcile: more than Prometheus ever asks).

Medians of ``--rounds`` (the order of the pair alternates each round). Usage: bench/bench_alerts.py [--objects 100] [--rounds 15] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_reconciler import make_repo  # noqa: E402
from bench.common import BenchSandbox, median, ratio, run  # noqa: E402
from gitops_tui.actions import alerts as alert_actions  # noqa: E402
from gitops_tui.actions import sources as actions  # noqa: E402
from gitops_tui.kube.outbound import FetchPolicy  # noqa: E402
from gitops_tui.reconciler import metrics  # noqa: E402
from gitops_tui.reconciler.alert_dispatch import AlertDispatcher  # noqa: E402
from gitops_tui.reconciler.metrics_listener import ReconcileMetrics  # noqa: E402
from gitops_tui.reconciler.source_urls import ALLOW_ENV  # noqa: E402


@contextlib.contextmanager
def _bare() -> Iterator[dict[str, str]]:
    yield {"result": ""}


def measure(bench: BenchSandbox, objects: int, rounds: int) -> dict[str, Any]:
    """Median seconds of an unchanged reconcile without and with alerts and metrics."""
    repo = make_repo(bench.home / "repo-alerts", objects, "al")
    actions.create_source(bench.api, bench.project, "quiet", f"file://{repo}", interval="1h")
    alert_actions.create_alert(bench.api, bench.project, "oncall", format_="generic",
                               url="https://alerts.example.invalid/hook", events=["failure", "recovery", "drift"])
    bench.reconcile("quiet")  # the first apply
    dispatcher = AlertDispatcher(bench.api, FetchPolicy(), bench.ctx.recorder)
    feed = ReconcileMetrics()
    dispatcher.start()
    timed = metrics.git_fetch
    base, ours = [], []
    try:
        for index in range(rounds):
            for with_alerts in ((False, True) if index % 2 == 0 else (True, False)):  # alternate the order
                if with_alerts:
                    bench.ctx.recorder.listeners = [dispatcher.listen, feed.note_event]
                    metrics.git_fetch = timed  # type: ignore[assignment]
                    started = time.monotonic()
                    with feed.reconcile(bench.project, "quiet"):
                        bench.reconcile("quiet")
                    metrics.exposition()
                    ours.append(time.monotonic() - started)
                else:
                    bench.ctx.recorder.listeners = []
                    metrics.git_fetch = _bare  # type: ignore[assignment]
                    base.append(bench.reconcile("quiet"))
    finally:
        metrics.git_fetch = timed  # type: ignore[assignment]
        dispatcher.stop()
    load = os.getloadavg()[0]
    return {"idle reconcile, baseline (s)": median(base), "idle reconcile, alerts + metrics (s)": median(ours),
            "ratio (goal < 1.05)": ratio(median(ours), median(base)), "objects": objects, "rounds": rounds,
            "load average (1 min)": round(load, 2)}


def main() -> int:
    """Run on a private sandbox and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ[ALLOW_ENV] = tempfile.gettempdir()
    return run("gitops-tui-bench-alerts-", lambda home: BenchSandbox(home, "alerts"),
               lambda bench: measure(bench, args.objects, args.rounds), args.json)


if __name__ == "__main__":
    raise SystemExit(main())
