#!/usr/bin/env python3
"""What freeze windows and overrides cost where the user sees it, each beside a baseline measured in the same run.

- ``windows``: every source's effective state built (the console's first frame, a cluster's change) for one project
  of ``--sources`` sources on dev, staging and prod, with two freeze windows on the Project (one open on prod),
  against the same state without windows.
- ``overrides``: a revision of ``--objects`` objects made into each cluster's objects (reconciler/overrides_step.py)
  with one JSON 6902 override on prod, against the size check every revision already gets once when it is rendered
  (``limits.check_revision``); with no override the step shares the list and costs nothing measurable.

Medians of ``--rounds``; ratios above 1 are what the feature adds. Usage: bench/bench_windows.py [--sources 1000]
[--objects 500] [--rounds 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_truth import objects as truth_objects  # noqa: E402
from gitops_tui.api.effective_state import source_state, stale_index  # noqa: E402
from gitops_tui.api.overrides import Override  # noqa: E402
from gitops_tui.api.source import GitOpsSource, pair_sources  # noqa: E402

NOW = datetime(2026, 6, 5, 15, 0, tzinfo=UTC)  # a Friday: the weekend window is open
WINDOWS = {"weekend": {"schedule": "0 16 * * 5", "duration": "64h", "timezone": "Europe/Berlin",
                       "clusters": ["prod"], "by": "bench", "reason": "bench"},
           "nightly": {"schedule": "0 22 * * 1-4", "duration": "8h", "by": "bench", "reason": "bench"}}


def _build(state: dict, project: dict) -> float:
    started = time.perf_counter()
    clusters = state["clusters"]
    stale, placements = stale_index(clusters), {}
    for pair in pair_sources(state["gitrepositories"], state["kustomizations"]):
        source_state(pair.repository, pair.kustomization, project, clusters, NOW, stale, placements)
    return time.perf_counter() - started


def windows(sources: int, rounds: int) -> dict[str, float]:
    """Median seconds to build every source's state, with and without windows, alternating."""
    state = truth_objects(sources)
    plain = state["projects"][0]
    with_windows = {**plain, "spec": {**plain["spec"], "windows": WINDOWS}}
    base, mine = [], []
    for _ in range(rounds):
        base.append(_build(state, plain))
        mine.append(_build(state, with_windows))
    return {"without": statistics.median(base), "with": statistics.median(mine)}


def overrides(count: int, rounds: int) -> dict[str, float]:
    """Median seconds to make each cluster's objects with one override on prod, and of one revision's size check."""
    from gitops_tui.reconciler.overrides_step import by_cluster

    desired = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "namespace": "bench",
                "labels": {}}, "data": {"value": "x" * 64}} for i in range(count)]
    source = GitOpsSource(None, {"metadata": {"name": "s", "namespace": "bench"}, "spec": {}})
    one = (Override("prod", "ConfigMap", "cm-7", ({"op": "replace", "path": "/data/value", "value": "y"},)),)
    from gitops_tui.kube import limits

    base, mine = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        limits.check_revision((obj, "") for obj in desired)
        base.append(time.perf_counter() - started)
        started = time.perf_counter()
        found = by_cluster(source, desired, ["dev", "staging", "prod"], one, "bench", "r")
        mine.append(time.perf_counter() - started)
        assert not found.refused
    return {"without": statistics.median(base), "with": statistics.median(mine)}


def main() -> int:
    """Run both measures and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = {"windows": windows(args.sources, args.rounds), "overrides": overrides(args.objects, args.rounds)}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for name, figures in result.items():
        ratio = figures["with"] / figures["without"] if figures["without"] else float("nan")
        print(f"{name:10s} with {figures['with'] * 1000:8.1f} ms   without {figures['without'] * 1000:8.1f} ms   "
              f"ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
