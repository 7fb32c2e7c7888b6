"""Runaway charts: how soon after their deadline the process is back at idle CPU (issue 18 item 7, attack F).

``--charts`` (8) releases whose chart loops forever (10^12 empty iterations, constant memory) are rendered at
once through ``gitops_tui.helm.render.render_release`` with ``--deadline`` seconds. After the last render
has failed, the CPU of the process and of its children (live ones and the reaped ones' totals, from
/proc) is sampled every ``--sample`` seconds for ``--watch`` seconds: the figure is the first moment after
the deadline from which the process stays idle (under 0.05 of a core), and the CPU rate in each second.

Each mode runs in a process of its own, so that its CPU is its own:
- ``pool`` (now): render workers killed at the deadline;
- ``thread`` (the baseline, how renders ran before): a helper thread per render, abandoned at the deadline
  (the process is killed when the measurement ends; its threads cannot be stopped otherwise).

Run: .venv/bin/python bench/bench_render_kill.py [--charts 8] [--deadline 10] [--watch 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

IDLE = 0.05  # cores
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    """CPU used so far by this process, its reaped children and its live children (seconds)."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    total = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                other = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(other[1]) == me:
                total += int(other[11]) + int(other[12])
    return total / TICKS


def thread_render(chart: Any, values: dict, release_name: str, namespace: str, revision: int,
                  failure_reason: str) -> dict[str, str]:
    """How renders ran before the workers: a helper thread, abandoned (still running) at the deadline."""
    import helm_python as helm

    from gitops_tui.helm import render as render_mod

    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["rendered"] = chart.render(values, name=release_name, namespace=namespace, revision=revision)
        except BaseException as exc:  # noqa: BLE001
            outcome["error"] = exc

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(render_mod.RENDER_TIMEOUT)
    if thread.is_alive():
        raise helm.HelmError(f"rendering the chart did not finish within {render_mod.RENDER_TIMEOUT:g}s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["rendered"]


def measure(mode: str, charts: int, deadline: float, watch: float, sample: float) -> dict[str, Any]:
    """Render ``charts`` runaway charts at once in ``mode``; sample CPU after the deadline."""
    from gitops_tui.helm import render as render_mod
    from gitops_tui.helm.charts import load_from_git
    from gitops_tui.helm.errors import INSTALL_FAILED, HelmReleaseFailed
    from tests.helm.charts import write_runaway_chart

    render_mod.RENDER_TIMEOUT = deadline
    if mode == "thread":
        render_mod._render_with_deadline = thread_render  # type: ignore[attr-defined]  # noqa: SLF001 - the baseline
    root = Path(tempfile.mkdtemp(prefix="bench-render-kill-"))
    loaded = [load_from_git(root, write_runaway_chart(root, f"spin{i}").name) for i in range(charts)]
    failures: list[str] = []
    idle_before = cpu_seconds()

    def one(chart: Any) -> None:
        try:
            render_mod.render_release(chart, {}, release_name="spin", namespace="bench", revision=1,
                                      failure_reason=INSTALL_FAILED)
        except HelmReleaseFailed as exc:
            failures.append(exc.message)

    started = time.monotonic()
    workers = [threading.Thread(target=one, args=(c,)) for c in loaded]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    failed_at = time.monotonic() - started
    samples: list[tuple[float, float]] = []
    last_cpu, last_t = cpu_seconds(), time.monotonic()
    while time.monotonic() - started < deadline + watch:
        time.sleep(sample)
        cpu, now = cpu_seconds(), time.monotonic()
        samples.append((round(now - started - deadline, 2), round((cpu - last_cpu) / (now - last_t), 3)))
        last_cpu, last_t = cpu, now
    idle_from = next((t for i, (t, _) in enumerate(samples) if all(rate < IDLE for _, rate in samples[i:])), None)
    return {"mode": mode, "charts": charts, "deadline_s": deadline, "all_failed_after_s": round(failed_at, 2),
            "failures": sorted(set(failures)), "cpu_before_s": round(idle_before, 2),
            "cpu_cores_after_deadline": samples,
            "idle_within_s_of_deadline": idle_from,
            "cpu_cores_last_second": samples[-1][1] if samples else None}


def main() -> int:
    """Run both modes in their own processes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--charts", type=int, default=8)
    parser.add_argument("--deadline", type=float, default=10.0)
    parser.add_argument("--watch", type=float, default=10.0)
    parser.add_argument("--sample", type=float, default=1.0)
    parser.add_argument("--mode", choices=["pool", "thread"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(measure(args.mode, args.charts, args.deadline, args.watch, args.sample)), flush=True)
        return 0
    results = {"loadavg": os.getloadavg()}
    for mode in ("pool", "thread"):
        cmd = [sys.executable, __file__, "--mode", mode, "--charts", str(args.charts), "--deadline",
               str(args.deadline), "--watch", str(args.watch), "--sample", str(args.sample)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline() if proc.stdout else ""
        finally:
            proc.kill()  # the thread mode's renders never end: only the process's end stops them
            proc.wait()
        results[mode] = json.loads(line) if line.strip() else {"error": "no result"}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for mode in ("pool", "thread"):
            r = results[mode]
            print(f"{mode:7} {r.get('charts')} charts, deadline {r.get('deadline_s')} s: all failed after "
                  f"{r.get('all_failed_after_s')} s; idle from {r.get('idle_within_s_of_deadline')} s after the "
                  f"deadline; CPU cores per second after it: {[c for _, c in r.get('cpu_cores_after_deadline', [])]}")
        print(f"load average {results['loadavg']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
