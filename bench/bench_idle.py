"""Idle cost (issues 12 and 21), counted with each cluster's /metrics and the reconciler process's CPU.

1. Idle requests per minute per cluster against object count (one source of 10, 100, 1,000 ConfigMaps on dev,
   staging and prod, interval 10 s, the Reconciler running with its default 5 s health check): watches and
   health checks apart, the goal is 0 whatever the count.
2. 3 sources x 100 objects on 3 clusters over ``--minutes`` idle minutes (default 5): requests to the clusters
   but watches and health checks, after; and before, the cost of one interval without the watches (every object
   GET and dry-run, as each interval did), times the intervals of the window.
3. Unchanged re-apply of 500 objects (a spec change re-applies the revision): one reconcile_source with the watch
   cache against `kubectl apply --server-side` of the same, unchanged, 500 files, as a ratio.
4. ``sources`` (issue 21): `gitops-tui run` holding 3 sources (100 ConfigMaps each, 3 repositories) and then, on a
   fresh sandbox, 33 (the same 3, and 30 of 10 ConfigMaps on 3 shared repositories), interval 10 s: over an idle
   window, the management cluster's requests (watches apart), the workload clusters' requests, the process's CPU
   (its own and its git children's), its git processes (git's trace2) and memory; the goal is at most 1.5x from 3
   to 33 sources and under 5 % of one core for 33.

Run: .venv/bin/python bench/bench_idle.py [--what all|sources|objects|reapply] [--minutes 5] [--scan-minutes 1]
     [--idle-minutes 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_reconciler import make_repo  # noqa: E402
from bench.common import CLUSTERS, BenchSandbox, RequestMeter, load_average, median, ratio, run  # noqa: E402
from gitops_tui.actions import sources as actions  # noqa: E402
from gitops_tui.api import names  # noqa: E402
from gitops_tui.kube.client import json_request  # noqa: E402
from gitops_tui.reconciler.clusters import cluster_ready  # noqa: E402
from gitops_tui.reconciler.drift_watch import DriftWatch  # noqa: E402
from gitops_tui.reconciler.manager import Reconciler  # noqa: E402
from gitops_tui.reconciler.options import ReconcilerOptions  # noqa: E402
from gitops_tui.reconciler.source_controller import reconcile_source  # noqa: E402
from gitops_tui.reconciler.source_urls import ALLOW_ENV  # noqa: E402
from tests.waiting import wait_until  # noqa: E402


def Meter(bench: BenchSandbox) -> RequestMeter:  # noqa: N802 - kept as the class it was
    """Counts every workload cluster's requests (common.RequestMeter)."""
    return RequestMeter(bench.kubeconfig, CLUSTERS)


#: The resources the reconciler reads and writes at idle, if it did: its objects, project namespaces, Secrets.
MANAGED = ("configmaps", "namespaces", "secrets")


def split(found: dict[str, int]) -> tuple[int, int, int]:
    """(watches, non-resource GETs: the health checks, requests to the managed resources).

    What is left (LISTs of pods, nodes, ...) comes from the sandbox's own controllers relisting their informers.
    """
    watches = sum(n for k, n in found.items() if k.startswith("WATCH "))
    health = found.get("GET ", 0)
    managed = sum(n for k, n in found.items() if k.split(" ")[0] != "WATCH" and k.split(" ")[1] in MANAGED)
    return watches, health, managed


def _settled(reconciler: Reconciler, namespace: str, sources: list[str]) -> bool:
    cache = reconciler.drift_watch.cache
    return (all(not cache.full_pass_due(c, namespace, s, 3600) for c in CLUSTERS for s in sources)
            and all(reconciler.drift_watch.synced(c) for c in CLUSTERS))


def idle(bench: BenchSandbox, tag: str, sources: dict[str, int], minutes: float) -> dict[str, Any]:
    """Create ``sources`` (name: object count), let a Reconciler apply and check them, then count ``minutes`` idle."""
    reconciler = Reconciler(bench.api, ReconcilerOptions(data_dir=bench.home / f"mgr-{tag}", elect=False, install=False,
                                                         workers=3, local_repos=[bench.home]))
    reconciler.start()
    try:
        # The first health check writes each KubeFedCluster's status, which rebuilds its connection (and discovery):
        # start-up cost, done before the sources arrive.
        wait_until(lambda: all(cluster_ready(k) for k in bench.ctx.list(
            names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE)), timeout=60, message="clusters Ready")
        for name, count in sources.items():
            repo = make_repo(bench.home / f"repo-{name}", count, name)
            actions.create_source(bench.api, bench.project, name, f"file://{repo}", interval="10s")
        wait_until(lambda: _settled(reconciler, bench.project, list(sources)), timeout=600, interval=0.2,
                   message="sources applied and checked")
        meter = Meter(bench)
        time.sleep(minutes * 60)  # the idle window is the measurement
        found = meter.since()
    finally:
        reconciler.stop()
        for name in sources:
            actions.delete_source(bench.api, bench.project, name, orphan=True)
            reconcile_source(bench.ctx, bench.project, name)
    per = {c: split(found[c]) for c in CLUSTERS}
    return {
        "requests to managed resources per minute per cluster": round(max(p[2] for p in per.values()) / minutes, 2),
        "health checks per minute per cluster": round(max(p[1] for p in per.values()) / minutes, 2),
        "watch requests per minute per cluster": round(max(p[0] for p in per.values()) / minutes, 2),
        "requests to managed resources": {c: {k: n for k, n in found[c].items() if k.split(" ")[0] != "WATCH"
                                              and k.split(" ")[1] in MANAGED} for c in CLUSTERS},
        "other requests (the sandbox's controllers)": {
            c: sum(n for k, n in found[c].items() if not k.startswith("WATCH ") and k != "GET ") - per[c][2]
            for c in CLUSTERS},
    }


def before(bench: BenchSandbox, sources: dict[str, int], minutes: float) -> dict[str, Any]:
    """One idle interval of such sources without the watches (the drift check of every object, as every interval
    did before them), scaled to the window."""
    for name, count in sources.items():
        repo = make_repo(bench.home / f"repo-{name}", count, name)
        actions.create_source(bench.api, bench.project, name, f"file://{repo}", interval="10s")
        reconcile_source(bench.ctx, bench.project, name)
    meter = Meter(bench)
    for name in sources:
        reconcile_source(bench.ctx, bench.project, name)
    found = meter.since()
    for name in sources:
        actions.delete_source(bench.api, bench.project, name, orphan=True)
        reconcile_source(bench.ctx, bench.project, name)
    per_interval = max(split(found[c])[2] for c in CLUSTERS)
    return {"requests per interval per cluster": per_interval,
            "requests over the window (10 s interval)": int(per_interval * minutes * 6)}


def reapply(bench: BenchSandbox, count: int, rounds: int) -> dict[str, Any]:
    """Seconds of an unchanged re-apply of ``count`` objects: reconcile_source with the watch cache vs kubectl."""
    repo = make_repo(bench.home / "repo-reapply", count, "re")
    actions.create_source(bench.api, bench.project, "re", f"file://{repo}", interval="1h", clusters=["dev"])
    watch = DriftWatch(lambda *key: None)
    bench.ctx.drift_watch = watch
    ours, writes = [], []
    try:
        reconcile_source(bench.ctx, bench.project, "re")
        wait_until(lambda: watch.synced("dev") and watch.watch_count() > 0, timeout=60, message="the watch listed")
        path = (f"/apis/{names.TYPES_GROUP}/{names.TYPES_VERSION}/namespaces/{bench.project}/"
                "federatedkustomizations/re")
        meter = Meter(bench)
        for r in range(rounds):
            json_request(bench.api, "PATCH", path, {"spec": {"template": {"spec": {"timeout": f"{60 + r}s"}}}},
                         content_type="application/merge-patch+json")
            ours.append(bench.reconcile("re"))
        writes.append(meter.since()["dev"].get("APPLY configmaps", 0))
    finally:
        bench.ctx.drift_watch = None
        watch.stop()
        actions.delete_source(bench.api, bench.project, "re", orphan=True)
        reconcile_source(bench.ctx, bench.project, "re")
    kubectl = ["kubectl", "--kubeconfig", str(bench.kubeconfig), "--context", "dev"]
    subprocess.run([*kubectl, "create", "namespace", "kubectl-idle"], check=True, capture_output=True)
    apply = [*kubectl, "apply", "--server-side", "-n", "kubectl-idle", "-f", str(repo / "app")]
    subprocess.run(apply, check=True, capture_output=True)
    theirs = []
    for _ in range(rounds):
        start = time.monotonic()
        subprocess.run(apply, check=True, capture_output=True)
        theirs.append(time.monotonic() - start)
    return {"gitops-tui unchanged re-apply (s)": median(ours), "kubectl apply --server-side, unchanged (s)": median(theirs),
            "ratio (gitops-tui / kubectl; goal <= 0.1)": ratio(median(ours), median(theirs)),
            "applies sent by gitops-tui": writes[0]}


def main() -> int:
    """Run the three measures on one private sandbox and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="idle window of the 3 x 100 x 3 run (default 5)")
    parser.add_argument("--scan-minutes", type=float, default=1.0, help="idle window per object count (default 1)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--objects", type=int, default=500, help="objects of the re-apply measure (default 500)")
    parser.add_argument("--what", choices=("all", "sources", "objects", "reapply"), default="all",
                        help="which measures (default all; sources: `gitops-tui run` with 3 then 33 sources)")
    parser.add_argument("--idle-minutes", type=float, default=3.0, help="idle window of each sources layout (default 3)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ[ALLOW_ENV] = tempfile.gettempdir()  # the benchmark's repositories live in its temporary home
    if args.what == "sources":
        from bench.idle_sources import measure as measure_sources

        results = {**measure_sources(args.idle_minutes), "load average (1, 5, 15 min) at the end": load_average()}
        print(json.dumps(results, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in results.items()))
        return 0

    def measure(bench: BenchSandbox) -> dict[str, Any]:
        results: dict[str, Any] = {}
        if args.what in ("all", "reapply"):
            results["unchanged re-apply"] = reapply(bench, args.objects, args.rounds)
        if args.what in ("all", "objects"):
            for count in (10, 100, 1000):
                results[f"idle, {count} objects"] = idle(bench, f"scan{count}", {f"s{count}": count}, args.scan_minutes)
            results["idle, 3 sources x 100 objects, before (no watches)"] = before(
                bench, {f"b{i}": 100 for i in range(3)}, args.minutes)
            results[f"idle, 3 sources x 100 objects, {args.minutes:g} min, after"] = idle(
                bench, "fleet", {f"f{i}": 100 for i in range(3)}, args.minutes)
        if args.what == "all":
            from bench.idle_sources import measure as measure_sources

            results["sources"] = measure_sources(args.idle_minutes)
        return results

    return run("gitops-tui-bench-idle-", lambda home: BenchSandbox(home, "idle"), measure, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
