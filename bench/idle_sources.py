"""bench_idle's ``sources`` measure: the idle cost of `gitops-tui run` holding 3 sources, then 33 (30 on 3 shared URLs).

Each layout gets a fresh private sandbox (dev, staging, prod) and one project; the sources are made first, then
`gitops-tui run` starts, every source is waited for (Ready at its generation on the three clusters), the process
settles for two intervals, and an idle window is measured: requests answered by the management cluster and by
each workload cluster (their /metrics: watches counted apart), the process's CPU (its own and its git children's,
from /proc), its git processes (git's trace2) and its memory. The load average is printed beside every figure.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.bench_reconciler import make_repo, write_objects
from bench.common import CLUSTERS, BenchSandbox, RequestMeter, init_repo, load_average
from bench.run_process import RunProcess
from gitops_tui.actions import sources as actions
from gitops_tui.kube.client import json_request

KUSTOMIZATIONS = "/apis/types.kubefed.io/v1beta1/namespaces/{ns}/federatedkustomizations"


def make_shared_repo(path: Path, sources: int, objects: int, prefix: str) -> Path:
    """A repository with a folder per source (``src-N``), each of ``objects`` ConfigMaps of its own names."""
    def write(root: Path) -> None:
        for s in range(sources):
            write_objects(root / f"src-{s}", objects, "0", f"{prefix}-{s}")
    return init_repo(path, write)


def layout(bench: BenchSandbox, shared: bool, interval: str) -> list[str]:
    """Make the sources: 3 of 100 ConfigMaps on 3 repositories; with ``shared``, 30 more of 10 on 3 shared ones."""
    made = []
    for i in range(3):
        repo = make_repo(bench.home / "repos" / f"own-{i}", 100, f"own{i}")
        actions.create_source(bench.api, bench.project, f"own-{i}", f"file://{repo}", path="./app", interval=interval,
                              local_repos=[bench.home / "repos"])
        made.append(f"own-{i}")
    for r in range(3 if shared else 0):
        repo = make_shared_repo(bench.home / "repos" / f"shared-{r}", 10, 10, f"sh{r}")
        for s in range(10):
            name = f"shared-{r}-{s}"
            actions.create_source(bench.api, bench.project, name, f"file://{repo}", path=f"./src-{s}",
                                  interval=interval, local_repos=[bench.home / "repos"])
            made.append(name)
    return made


def ready(bench: BenchSandbox, names: list[str]) -> int:
    """How many of ``names`` are Ready at their generation with a revision applied on every cluster."""
    count = 0
    for ks in json_request(bench.api, "GET", KUSTOMIZATIONS.format(ns=bench.project)).get("items") or []:
        status = ks.get("status") or {}
        cond = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
        rows = status.get("clusters") or []
        if (ks["metadata"]["name"] in names and cond.get("status") == "True"
                and status.get("observedGeneration") == ks["metadata"].get("generation")
                and len(rows) == len(CLUSTERS) and all(r.get("lastAppliedRevision") for r in rows)):
            count += 1
    return count


def per_minute(found: dict[str, int], minutes: float, *, watches: bool = False) -> float:
    """Requests per minute, watches left out (or only them)."""
    total = sum(n for k, n in found.items() if k.startswith("WATCH ") == watches)
    return round(total / minutes, 1)


def measure_layout(label: str, shared: bool, minutes: float, interval: str, settle: float) -> dict[str, Any]:
    """One layout on a fresh sandbox: the idle figures of `gitops-tui run` holding it."""
    home = Path(tempfile.mkdtemp(prefix=f"bench-idle-{label}-"))
    bench = BenchSandbox(home, "idle")
    run: RunProcess | None = None
    try:
        names = layout(bench, shared, interval)
        run = RunProcess(home, bench.kubeconfig, local_repos=[home / "repos"]).start()
        started = time.monotonic()
        while ready(bench, names) < len(names):
            if time.monotonic() - started > 600 or not run.alive():
                raise SystemExit(f"{label}: not every source became Ready (see {run.log})")
            time.sleep(1.0)
        to_ready = time.monotonic() - started
        time.sleep(settle)  # the first intervals after start: full passes, the first ls-remotes shared
        meter = RequestMeter(bench.kubeconfig, ["management", *CLUSTERS])
        cpu, own, git = run.cpu(), run.own_cpu(), run.git_commands()
        load_start = load_average()
        window = time.monotonic()
        time.sleep(minutes * 60)  # the idle window is the measurement
        window = (time.monotonic() - window) / 60
        found = meter.since()
        cpu, own = run.cpu() - cpu, run.own_cpu() - own
        git_after = run.git_commands()
        ran = Counter({k: n - git.get(k, 0) for k, n in git_after.items() if n - git.get(k, 0)})
        rss, peak = run.memory()
        management = found["management"]
        return {
            "sources": len(names),
            "start to all Ready (s)": round(to_ready, 1),
            "idle window (min)": round(window, 2),
            "management requests per minute (watches apart)": per_minute(management, window),
            "management requests by kind": {k: n for k, n in sorted(management.items(), key=lambda kv: -kv[1])
                                            if not k.startswith("WATCH ")},
            "workload requests per minute per cluster (watches apart)": {
                c: per_minute(found[c], window) for c in CLUSTERS},
            "CPU, % of one core (process and git children)": round(100 * cpu / (window * 60), 2),
            "CPU, % of one core (process alone)": round(100 * own / (window * 60), 2),
            "git processes per minute": round(sum(ran.values()) / window, 1),
            "git processes by command": dict(ran.most_common()),
            "ls-remote per minute": round(ran.get("ls-remote", 0) / window, 1),
            "RSS MiB (now, peak)": [rss, peak],
            "load average (1, 5, 15 min) at the window's start": load_start,
            "load average (1, 5, 15 min) at the window's end": load_average(),
        }
    finally:
        if run is not None:
            run.stop()
        bench.close()
        shutil.rmtree(home, ignore_errors=True)


def measure(minutes: float, interval: str = "10s", settle: float = 25.0) -> dict[str, Any]:
    """Both layouts, then the ratios (33 over 3) the goal is about."""
    three = measure_layout("3", False, minutes, interval, settle)
    many = measure_layout("33", True, minutes, interval, settle)
    key_cpu = "CPU, % of one core (process and git children)"
    key_mgmt = "management requests per minute (watches apart)"
    return {
        "3 sources": three,
        "33 sources (30 on 3 shared URLs)": many,
        "ratio 33/3, management requests (goal <= 1.5)": round(many[key_mgmt] / max(three[key_mgmt], 0.1), 2),
        "ratio 33/3, CPU (goal <= 1.5)": round(many[key_cpu] / max(three[key_cpu], 0.01), 2),
        "33 sources, % of one core (goal < 5)": many[key_cpu],
    }
