"""The cost of issue 18's checks: an unchanged reconcile of a 500-object source, this tree against a baseline tree.

Each round runs the same measure twice, in child processes on private sandboxes, alternating: once with the
baseline's code (``--baseline REF``, default ``main``, exported with ``git archive`` into a temporary folder)
and once with this working tree's. The measure is bench_idle's unchanged re-apply: one source of N ConfigMaps
on dev, applied once, then ``--reconciles`` reconciles of the same revision, each after a spec change (so none
is skipped), with the drift watches' cache, as the running reconciler does them; and the same with the render
cache emptied before each reconcile (the revision rendered and checked again, the references walk included).
Medians per tree of the wall time (what the user sees) and of the CPU time of the reconciling process and its
git children (steadier on a loaded machine); the ratio (this tree / baseline) is the figure (goal: at most 1.10).

Run: .venv/bin/python bench/bench_checks.py [--rounds 3] [--objects 500] [--reconciles 8] [--baseline main] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent


def child(code: Path, objects: int, reconciles: int) -> dict[str, Any]:
    """Measure with the gitops_tui of ``code`` (imported from there): seconds of each unchanged reconcile."""
    sys.path.insert(0, str(code))
    os.environ["GITOPS_TUI_ALLOW_LOCAL_REPOS"] = tempfile.gettempdir()
    from bench.bench_reconciler import make_repo  # noqa: PLC0415 - imported from the tree being measured
    from bench.common import BenchSandbox  # noqa: PLC0415
    from gitops_tui.actions import sources as actions  # noqa: PLC0415
    from gitops_tui.api import names  # noqa: PLC0415
    from gitops_tui.kube.client import json_request  # noqa: PLC0415
    from gitops_tui.reconciler import desired  # noqa: PLC0415
    from gitops_tui.reconciler.drift_watch import DriftWatch  # noqa: PLC0415
    from tests.waiting import wait_until  # noqa: PLC0415

    home = Path(tempfile.mkdtemp(prefix="bench-checks-"))
    os.environ["GITOPS_TUI_HOME"] = str(home)
    bench = BenchSandbox(home, "bench")
    watch = DriftWatch(lambda *key: None)
    try:
        repo = make_repo(home / "repo", objects, "re")
        actions.create_source(bench.api, bench.project, "re", f"file://{repo}", interval="1h", clusters=["dev"])
        bench.ctx.drift_watch = watch
        bench.reconcile("re")
        wait_until(lambda: watch.synced("dev") and watch.watch_count() > 0, timeout=120, message="the watch listed")
        path = f"/apis/{names.TYPES_GROUP}/{names.TYPES_VERSION}/namespaces/{bench.project}/federatedkustomizations/re"
        found: dict[str, list[float]] = {"warm": [], "cold": [], "warm cpu": [], "cold cpu": []}
        for index in range(reconciles * 2):
            json_request(bench.api, "PATCH", path, {"spec": {"template": {"spec": {"timeout": f"{60 + index}s"}}}},
                         content_type="application/merge-patch+json")
            kind = "cold" if index % 2 else "warm"
            if kind == "cold":
                desired._render_cache.clear()  # the revision rendered and checked again
            cpu = sum(os.times()[:4])  # this process's threads and its git children
            found[kind].append(bench.reconcile("re"))
            found[f"{kind} cpu"].append(sum(os.times()[:4]) - cpu)
    finally:
        watch.stop()
        bench.close()
        shutil.rmtree(home, ignore_errors=True)
    return found


def checks_alone(objects: int) -> dict[str, float]:
    """Milliseconds of the new checks by themselves, in this process: the references walk of a revision of
    ``objects`` ConfigMaps (what a cold reconcile adds) and one request path built from quoted parts."""
    sys.path.insert(0, str(HERE))
    from gitops_tui.api.paths import resource_path  # noqa: PLC0415
    from gitops_tui.reconciler.flux.references import check_all, display  # noqa: PLC0415

    revision = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"re-{i:04d}", "namespace": "bench"},
                 "data": {"value": "0"}} for i in range(objects)]
    start = time.perf_counter()
    for _ in range(20):
        check_all([(obj, "bench", display(obj, f"app/{i}.yaml")) for i, obj in enumerate(revision)])
    walk = (time.perf_counter() - start) / 20 * 1000
    start = time.perf_counter()
    for _ in range(10000):
        resource_path("v1", "configmaps", "bench", "re-0001")
    return {"references walk of the revision (ms)": round(walk, 2),
            "one request path (ms)": round((time.perf_counter() - start) / 10000 * 1000, 4)}


def export(ref: str, into: Path) -> Path:
    """The tree of ``ref`` of this repository, written into ``into`` (read-only use)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(HERE), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def run_child(code: Path, objects: int, reconciles: int) -> dict[str, Any]:
    """One measure in a child process with ``code``'s gitops_tui."""
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(code), "--objects",
                          str(objects), "--reconciles", str(reconciles)], check=True, capture_output=True, text=True,
                         cwd=str(code), timeout=1800)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    """Alternate baseline and this tree, print the medians and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--reconciles", type=int, default=8)
    parser.add_argument("--baseline", default="main", help="git ref of the baseline (default main)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.objects, args.reconciles)))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench-checks-trees-"))
    try:
        baseline = export(args.baseline, work / "baseline")
        keys = ("warm", "cold", "warm cpu", "cold cpu")
        found: dict[str, dict[str, list[float]]] = {"baseline": {k: [] for k in keys},
                                                    "this tree": {k: [] for k in keys}}
        started = time.monotonic()
        per_round: list[dict[str, float]] = []
        for index in range(args.rounds):
            order = (("baseline", baseline), ("this tree", HERE))
            for label, code in order if index % 2 == 0 else order[::-1]:  # neither always runs first
                result = run_child(code, args.objects, args.reconciles)
                for key in keys:
                    found[label][key].extend(result[key])
                per_round.append({"round": index, "tree": label, "warm": round(statistics.median(result["warm"]), 3),
                                  "cold": round(statistics.median(result["cold"]), 3)})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {label: {key: round(statistics.median(values), 3) for key, values in parts.items()}
               for label, parts in found.items()}
    results = {
        "objects": args.objects, "reconciles per tree": len(found["this tree"]["warm"]) * 2,
        "baseline": args.baseline, "seconds (medians)": medians,
        **{f"ratio: {what}": round(medians["this tree"][key] / medians["baseline"][key], 3)
           for key, what in (("warm", "unchanged reconcile, render cache warm (wall)"),
                             ("cold", "unchanged reconcile, revision rendered and checked again (wall)"),
                             ("warm cpu", "unchanged reconcile, render cache warm (CPU of the reconciler and git)"),
                             ("cold cpu", "unchanged reconcile, rendered and checked again (CPU of the reconciler and "
                                          "git)"))},
        "the new checks alone, this process": checks_alone(args.objects),
        "per round (medians)": per_round,
        "load average (1, 5, 15 min) at the end": [round(x, 2) for x in os.getloadavg()],
        "wall time (s)": round(time.monotonic() - started),
    }
    print(json.dumps(results, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in results.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
