#!/usr/bin/env python3
"""What the one effective state costs the console: every source's cells built, then again after one change, the panes.

Runs the same measure in two child processes, one on this tree and one on a baseline tree (``--baseline``, e.g. a
checkout of main before the effective state), in the same run, and prints the ratios (below 1 = faster than the
baseline). The state: one project on dev, staging and prod with ``--sources`` sources, a third of them frozen on
prod, a tenth pinned on staging; every figure is the median of ``--rounds``: ``rebuild`` builds every source (the
cache emptied: the first frame, or a cluster's change), ``one-change`` after one source changed (what a watch event
costs), ``propagation`` and ``header`` the pane's table and the header from the built sources.

Usage: bench/bench_truth.py --baseline /work/main [--sources 1000] [--rounds 7] [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
SHA = "0123456789abcdef0123456789abcdef01234567"
OLD = "fedcba9876543210fedcba9876543210fedcba98"


def objects(count: int) -> dict[str, list[dict]]:
    """One project on three clusters with ``count`` sources: some frozen on prod, some pinned on staging."""
    clusters = ["dev", "staging", "prod"]
    out: dict[str, list[dict]] = {
        "projects": [{"metadata": {"name": "bench"}, "spec": {"namespace": "bench",
                      "placement": {"clusters": [{"name": c} for c in clusters]}}}],
        "clusters": [{"metadata": {"name": c, "namespace": "kube-federation-system"},
                      "status": {"conditions": [{"type": "Ready", "status": "True"}]}} for c in clusters],
        "gitrepositories": [], "kustomizations": [],
    }
    for i in range(count):
        meta = {"name": f"app-{i:04d}", "namespace": "bench", "annotations": {}}
        spec: dict = {"path": "./"}
        if i % 3 == 0:
            spec["suspendClusters"] = ["prod"]
            meta["annotations"] = {"gitops-tui.io/suspended-by": "alice", "gitops-tui.io/suspend-reason": "INC",
                                   "gitops-tui.io/suspended-at": "2026-01-15T11:00:00Z"}
        if i % 10 == 0:
            spec["pin"] = {"revision": f"main@sha1:{OLD}", "clusters": ["staging"], "by": "bob", "reason": "bad"}
        out["gitrepositories"].append({"metadata": {"name": meta["name"], "namespace": "bench"},
                                       "spec": {"template": {"spec": {"url": "https://git.example.com/a.git",
                                                                      "ref": {"branch": "main"}}}},
                                       "status": {"artifact": {"revision": f"main@sha1:{SHA}"}}})
        out["kustomizations"].append({"metadata": meta, "spec": {"template": {"spec": spec}},
                                      "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                                 "clusters": [{"name": c, "status": "",
                                                               "lastAppliedRevision": f"main@sha1:{SHA}",
                                                               "lastAttemptedRevision": f"main@sha1:{SHA}"}
                                                              for c in clusters]}})
    return out


def child(sources: int, rounds: int) -> dict[str, float]:
    """The measures on the tree this process imports (run by ``main`` in a child)."""
    from datetime import datetime

    from gitops_tui.views import header, model, rows
    from gitops_tui.views.state import ManagementState

    state = ManagementState(objects(sources))
    now = datetime(2026, 1, 15, 12, tzinfo=UTC)
    if hasattr(state, "clock"):
        state.clock = lambda: now
    from gitops_tui.views.state import Change

    found: dict[str, list[float]] = {"rebuild": [], "one-change": [], "propagation": [], "header": []}
    for index in range(rounds):
        model._cache.clear()
        start = time.perf_counter()
        model.sources(state)
        found["rebuild"].append(time.perf_counter() - start)
        changed = dict(state.items("kustomizations")[index])  # one source's status moves (a new object, as a watch)
        state.apply(Change("kustomizations", "MODIFIED", changed))
        start = time.perf_counter()
        model.sources(state)
        found["one-change"].append(time.perf_counter() - start)
        start = time.perf_counter()
        rows.propagation_table(state, now)
        found["propagation"].append(time.perf_counter() - start)
        start = time.perf_counter()
        header.header_info(state, "bench", None, now)
        found["header"].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in found.items()}


def run(tree: Path, sources: int, rounds: int) -> dict[str, float]:
    """Run ``child`` on ``tree`` in a fresh interpreter (this worktree's venv)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    code = (f"import sys; sys.path.insert(0, {str(tree)!r}); sys.path.insert(1, {str(HERE / 'bench')!r}); "
            f"import json, bench_truth; print(json.dumps(bench_truth.child({sources}, {rounds})))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    """Measure this tree against the baseline tree; print seconds and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout to compare with (e.g. main)")
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="alternate the two trees this many times (medians)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    bases, mines = [], []
    for _ in range(args.repeat):  # alternated, so both see the machine's load alike
        bases.append(run(args.baseline, args.sources, args.rounds))
        mines.append(run(HERE, args.sources, args.rounds))
    base = {k: statistics.median(b[k] for b in bases) for k in bases[0]}
    mine = {k: statistics.median(m[k] for m in mines) for k in mines[0]}
    result = {k: {"this": mine[k], "baseline": base[k], "ratio": mine[k] / base[k]} for k in mine}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, row in result.items():
            print(f"{key:<12} {row['this'] * 1000:8.1f} ms   baseline {row['baseline'] * 1000:8.1f} ms   "
                  f"ratio {row['ratio']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
