"""Fleet benchmark: 100 projects x 10 sources (2 ConfigMaps each, local git) on dev, staging and prod.

Held by one `gitops-tui run` process, then (on a fresh sandbox) by two processes sharing the shards: the time
from the processes' start to every source Ready, then each process's steady-state CPU (its own and its git
children's, over a window after all are Ready) and memory (RSS now, and peak). Flux's published figure for
comparison: 1,000 Kustomizations reconciled in 4 min 16 s (fluxcd.io, "Flux benchmark", v2.2).

Every run prints its figures (stderr as it ends, and in the result) with the load average at its start and end;
each phase's medians follow its runs.

Run: .venv/bin/python bench/bench_fleet.py [--phase one|two|both] [--runs 1] [--projects 100] [--sources 10]
     [--interval 1m] [--steady 60] [--timeout 900] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CLUSTERS, init_repo, load_average  # noqa: E402
from bench.run_process import cpu_seconds, memory_mib  # noqa: E402 - measured as every run benchmark measures
from gitops_tui.actions import resources, sources  # noqa: E402
from gitops_tui.kube.client import api_client_from_kubeconfig, json_request  # noqa: E402
from gitops_tui.kube.management_api import ensure_management_api  # noqa: E402
from gitops_tui.sandbox import manager  # noqa: E402

KUSTOMIZATIONS = "/apis/types.kubefed.io/v1beta1/federatedkustomizations"


def configmap(name: str) -> str:
    """A small ConfigMap manifest."""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"0\"\n"


def make_project_repo(path: Path, sources_per_project: int, objects: int) -> Path:
    """One repository per project: a folder per source, each with ``objects`` ConfigMaps of its own names."""
    def write(root: Path) -> None:
        for s in range(sources_per_project):
            folder = root / f"src-{s}"
            folder.mkdir()
            for o in range(objects):
                (folder / f"cm-{o}.yaml").write_text(configmap(f"src-{s}-cm-{o}"))
    return init_repo(path, write)


def build_fleet(home: Path, projects: int, per_project: int, objects: int, interval: str) -> tuple[Any, Path]:
    """Start a private sandbox under ``home`` and create the fleet's projects and sources (no reconciler yet)."""
    kubeconfig = manager.up(clusters=CLUSTERS, seed_demo=False, home=home).kubeconfig
    api = api_client_from_kubeconfig(kubeconfig, "management")
    ensure_management_api(api)
    repos = home / "repos"
    for p in range(projects):
        name = f"fleet-{p:03d}"
        repo = make_project_repo(repos / name, per_project, objects)
        resources.create_project(api, name, CLUSTERS)
        for s in range(per_project):
            sources.create_source(api, name, f"src-{s}", str(repo), path=f"./src-{s}", interval=interval,
                                  local_repos=[repos])
    return api, kubeconfig


def ready_count(api: Any) -> int:
    """Sources Ready at their current generation on every cluster."""
    count = 0
    for ks in json_request(api, "GET", KUSTOMIZATIONS).get("items") or []:
        status = ks.get("status") or {}
        ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
        clusters = status.get("clusters") or []
        if (ready.get("status") == "True" and status.get("observedGeneration") == ks["metadata"].get("generation")
                and len(clusters) == len(CLUSTERS) and all(c.get("lastAppliedRevision") for c in clusters)):
            count += 1
    return count


def run_phase(label: str, processes: int, args: argparse.Namespace) -> dict[str, Any]:
    """Build a fresh fleet, start ``processes`` run processes, time to all Ready, then steady CPU and memory."""
    home = Path(tempfile.mkdtemp(prefix=f"bench-fleet-{label}-"))
    total = args.projects * args.sources
    procs: list[subprocess.Popen] = []
    try:
        built = time.monotonic()
        api, kubeconfig = build_fleet(home, args.projects, args.sources, args.objects, args.interval)
        setup = time.monotonic() - built
        env = {**os.environ, "GITOPS_TUI_HOME": str(home), "KUBECONFIG": str(kubeconfig)}
        command = [sys.executable, "-m", "gitops_tui", "run", "--allow-local-repos", str(home / "repos"),
                   "--workers", str(args.workers), "--log-level", "warning"]
        started = time.monotonic()
        for i in range(processes):
            procs.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                          stderr=(home / f"run-{i}.log").open("w")))
        ready, elapsed = 0, 0.0
        while elapsed < args.timeout:
            time.sleep(3)
            elapsed = time.monotonic() - started
            ready = ready_count(api)
            if ready == total:
                break
        result: dict[str, Any] = {"processes": processes, "sources": total, "setup_s": round(setup, 1),
                                  "ready": ready, "start_to_all_ready_s": round(elapsed, 1) if ready == total else None}
        before = {p.pid: cpu_seconds(p.pid) for p in procs}
        window = time.monotonic()
        time.sleep(args.steady)
        window = time.monotonic() - window
        result["steady_window_s"] = round(window, 1)
        result["steady_cpu_percent_of_one_core"] = [round(100 * (cpu_seconds(p.pid) - before[p.pid]) / window, 1)
                                                     for p in procs]
        result["rss_mib"] = [memory_mib(p.pid)[0] for p in procs]
        result["peak_rss_mib"] = [memory_mib(p.pid)[1] for p in procs]
        return result
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        manager.down(home=home)
        shutil.rmtree(home, ignore_errors=True)


def medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of each figure over the runs of one phase (lists: per process, medians taken by position)."""
    out: dict[str, Any] = {}
    for key in ("start_to_all_ready_s", "steady_cpu_percent_of_one_core", "rss_mib", "peak_rss_mib"):
        values = [r[key] for r in runs if r.get(key) is not None]
        if not values:
            out[key] = None
        elif isinstance(values[0], list):
            out[key] = [round(statistics.median(v), 1) for v in zip(*values, strict=False)]
        else:
            out[key] = round(statistics.median(values), 1)
    return out


def main() -> int:
    """Run the phases asked for (``--runs`` times each) and print every run's figures and their medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--sources", type=int, default=10, help="sources per project")
    parser.add_argument("--objects", type=int, default=2, help="ConfigMaps per source")
    parser.add_argument("--interval", default="1m", help="each source's interval (the product's default: 1m)")
    parser.add_argument("--workers", type=int, default=3, help="workers per run process (the default: 3)")
    parser.add_argument("--steady", type=float, default=60.0, help="seconds of the steady-state window")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up waiting for Ready after this")
    parser.add_argument("--phase", choices=("one", "two", "both"), default="both",
                        help="one: a single run process; two: two processes sharing the shards (default both)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each phase, each on a fresh sandbox")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    phases = {"one": ("one_process", 1), "two": ("two_shards", 2)}
    chosen = ["one", "two"] if args.phase == "both" else [args.phase]
    results: dict[str, Any] = {}
    for phase in chosen:
        label, processes = phases[phase]
        runs = []
        for _ in range(args.runs):
            load_start = load_average()
            figures = run_phase(phase, processes, args)
            figures["load average (1, 5, 15 min) at the start"] = load_start
            figures["load average (1, 5, 15 min) at the end"] = load_average()
            runs.append(figures)
            print(f"{label} run {len(runs)}: {figures}", file=sys.stderr, flush=True)
        results[label] = {"runs": runs, "medians": medians(runs)}
    results["flux_published"] = "1,000 Kustomizations in 4 min 16 s (256 s), one cluster"
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for phase, figures in results.items():
            print(f"{phase}: {figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
