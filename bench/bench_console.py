#!/usr/bin/env python3
"""Console benchmark: first frame on a real pty, key-to-screen delay, memory and requests against a live sandbox.

- first-frame: from process start to the first frame in a real terminal (a tmux pane, 120x36, watched
  from outside through tmux's control mode: bench/tmux_terminal.py; ``--terminal pty`` for a bare pty),
  the console beside a bare Textual app (header, table, footer: bench/bare_app.py) in the same run,
  with two CPU burners beside them (``--burners``), median of several runs: the console's skeleton
  (its first tab drawn) and its first frame with the demo data, and each one's RSS at that moment.
  Targets (issue 21): skeleton within 1.5x of the bare app, with data within 2x.
- keys: key press to screen update with 1,000 sources and 50 Events/s (in-process, StaticBackend),
  beside a minimal app, each in its own process.
- memory, requests: against a live sandbox, see bench/console_live.py.

Usage: .venv/bin/python bench/bench_console.py [first-frame] [keys] [memory] [requests] [--runs 7]
       [--terminal tmux|pty] [--burners 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHA = "9f2c41d7a3b05e6c8d1f2a3b4c5d6e7f80912345"
#: Drawn in each app's first frame: the bare app's title, the console's first tab.
BARE_MARK = "BareApp"
FRAME_MARK = "Projects"
#: Drawn when the demo project's row is on screen (its clusters, ready).
DATA_MARK = "✓dev"
TICK = os.sysconf("SC_CLK_TCK")
MEASURES = ("first-frame", "keys", "memory", "requests")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


# -- first frame on a pty ------------------------------------------------------------------------


def _rss_mib(pid: int) -> float:
    """Resident set size of a running process in MiB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _terminal(kind: str, argv: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    """The app started on a 120x36 terminal: a bare pty, or a pane of tmux (a real terminal emulator)."""
    if kind == "tmux":
        from bench.tmux_terminal import TmuxTerminal

        return TmuxTerminal(argv, {**env, "TERM": "xterm-256color"}, cwd=str(REPO))
    from tests.ptyconsole import PtyProcess

    return PtyProcess(argv, env, cwd=str(REPO))


def _time_marks(argv: list[str], env: dict[str, str], marks: list[str],
                terminal: str = "pty") -> list[tuple[float, float, float]]:
    """Start ``argv`` on a terminal; per mark, (seconds from start, CPU seconds, RSS MiB) when it was drawn."""
    from tests.waiting import wait_until

    app = _terminal(terminal, argv, env)
    try:
        times = []
        for mark in marks:
            seen = wait_until(lambda: app.seen_at(mark), timeout=120, interval=0.002, message=mark)  # noqa: B023
            times.append((seen - app.started, _cpu_seconds(app.proc.pid), _rss_mib(app.proc.pid)))
        return times
    finally:
        app.proc.send_signal(signal.SIGTERM)
        try:
            app.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        app.end()


def first_frame(runs: int, terminal: str = "pty", burners: int = 2) -> dict[str, float]:
    """Median seconds (CPU seconds, RSS) to the first frame: bare app, console skeleton, console with the demo data.

    The sandbox is up before (as when an operator opens a second console); runs alternate the apps;
    ``burners`` processes spin on the CPU beside them the whole time (the issue's loaded machine).
    """
    from bench.machine import Burners, load_average
    from gitops_tui.sandbox import manager

    home = Path(tempfile.mkdtemp(prefix="bench-console-"))
    manager.up(home=home)
    env = {**os.environ, "GITOPS_TUI_HOME": str(home), "TERM": "xterm-256color", "COLORTERM": "truecolor"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed console has its bytecode, as the bare app's Textual has
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "gitops_tui"), str(REPO / "bench")],
                   check=True, timeout=300)
    samples: dict[str, list[tuple[float, float, float]]] = {"bare": [], "skeleton": [], "data": []}
    load = load_average()
    try:
        with Burners(burners):
            for _ in range(runs):
                samples["bare"] += _time_marks([sys.executable, str(REPO / "bench" / "bare_app.py")], env,
                                               [BARE_MARK], terminal)
                frame, shown = _time_marks([sys.executable, "-m", "gitops_tui"], env, [FRAME_MARK, DATA_MARK],
                                           terminal)
                samples["skeleton"].append(frame)
                samples["data"].append(shown)
            load_after = load_average()
    finally:
        manager.down(home=home)
        shutil.rmtree(home, ignore_errors=True)
    result: dict[str, float] = {}
    for name, values in samples.items():
        result[f"{name}_s"] = statistics.median(v[0] for v in values)
        result[f"{name}_cpu_s"] = statistics.median(v[1] for v in values)
        result[f"{name}_rss_mib"] = statistics.median(v[2] for v in values)
    for name in ("skeleton", "data"):
        result[f"{name}_ratio"] = result[f"{name}_s"] / result["bare_s"]
        result[f"{name}_cpu_ratio"] = result[f"{name}_cpu_s"] / result["bare_cpu_s"]
    out: dict[str, object] = {k: round(v, 3) for k, v in result.items()}
    out.update(terminal=terminal, burners=burners, runs=runs, load_before=load, load_after=load_after,
               targets="skeleton_ratio <= 1.5, data_ratio <= 2.0",
               runs_s={name: [round(v[0], 3) for v in values] for name, values in samples.items()})
    return out  # type: ignore[return-value]


# -- key press to screen update (in-process, recorded objects) ----------------------------------


def demo_objects(count: int) -> dict[str, list[dict]]:
    """One project on three clusters with ``count`` sources, all applied."""
    clusters = ["dev", "staging", "prod"]
    objects: dict[str, list[dict]] = {
        "projects": [{"metadata": {"name": "bench"}, "spec": {"namespace": "bench",
                      "placement": {"clusters": [{"name": c} for c in clusters]}}}],
        "clusters": [{"metadata": {"name": c, "namespace": "kube-federation-system"},
                      "spec": {"apiEndpoint": f"https://127.0.0.1:{6000 + i}"},
                      "status": {"conditions": [{"type": "Ready", "status": "True"}]}} for i, c in enumerate(clusters)],
        "gitrepositories": [], "kustomizations": [],
    }
    for i in range(count):
        meta = {"name": f"app-{i:04d}", "namespace": "bench"}
        objects["gitrepositories"].append({"metadata": dict(meta), "spec": {"template": {"spec": {
            "url": f"https://git.example.com/bench/app-{i:04d}.git", "ref": {"branch": "main"}}}},
            "status": {"artifact": {"revision": f"main@sha1:{SHA}"}}})
        objects["kustomizations"].append({"metadata": dict(meta), "spec": {"template": {"spec": {"path": "./"}}},
            "status": {"conditions": [{"type": "Ready", "status": "True", "message": "applied"}],
                       "clusters": [{"name": c, "status": "", "lastAppliedRevision": f"main@sha1:{SHA}",
                                     "lastAttemptedRevision": f"main@sha1:{SHA}"} for c in clusters]}})
    return objects


def event_feed(rate: float):  # type: ignore[no-untyped-def]
    """A feed emitting ``rate`` Events per second until stopped (the producer's own cadence)."""
    from gitops_tui.views.state import Change

    def run(emit, stopped) -> None:  # type: ignore[no-untyped-def]
        n = 0
        while not stopped():
            n += 1
            emit([Change("events", "ADDED", {
                "metadata": {"name": f"ev.{n}", "namespace": "bench"}, "type": "Normal", "reason": "Applied",
                "involvedObject": {"name": f"app-{n % 1000:04d}"}, "message": f"event {n}",
                "lastTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})])
            time.sleep(1.0 / rate)

    return run


class FrameClock:
    """Timestamps of the frames the app displays (headless: the terminal bytes are still rendered)."""

    def __init__(self) -> None:
        self.frames: list[float] = []
        from textual._compositor import CompositorUpdate
        from textual.app import App

        original = App._display
        clock = self

        def display(app, screen, renderable) -> None:  # type: ignore[no-untyped-def]
            original(app, screen, renderable)
            if renderable is not None and not app._batch_count:
                if isinstance(renderable, CompositorUpdate):
                    renderable.render_segments(app.console)  # the bytes a terminal would receive
                clock.frames.append(time.perf_counter())

        App._display = display  # type: ignore[method-assign]

    def first_after(self, moment: float) -> float | None:
        """The first frame written after ``moment``."""
        return next((t for t in self.frames if t > moment), None)


def build(kind: str, sources: int, rate: float):  # type: ignore[no-untyped-def]
    """The app under test: the console over ``sources`` sources with a live event feed, or a minimal app."""
    if kind == "minimal":
        from textual.app import App, ComposeResult
        from textual.widgets import Static

        class Minimal(App):
            """A minimal Textual app: one Static that changes on each key."""

            BINDINGS = [("down", "bump"), ("up", "bump")]

            def compose(self) -> ComposeResult:
                """Lay out the widgets."""
                yield Static("hello", id="s")

            def action_bump(self) -> None:
                """Change the text."""
                self.n = getattr(self, "n", 0) + 1
                self.query_one(Static).update(f"hello {self.n}")

        return Minimal()
    from gitops_tui.backends.static import StaticBackend
    from gitops_tui.themes import builtin_dir
    from gitops_tui.tui.app import GitOpsApp

    backend = StaticBackend(demo_objects(sources))
    backend.feed = event_feed(rate)
    return GitOpsApp(backend, theme="gitops-dark", live=True, remember_theme=False, theme_dirs=(builtin_dir(),))


async def measure_keys(kind: str, sources: int, rate: float, presses: int) -> dict[str, float]:
    """Run one app headless at 120x36 and return its key delays (ms)."""
    clock = FrameClock()
    app = build(kind, sources, rate)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        if kind == "console":
            await pilot.press("2")
            await pilot.pause(1.0)  # let the feed stream for a second before measuring
        delays = []
        for i in range(presses):
            before = time.perf_counter()
            await pilot.press("down" if i % 2 == 0 else "up")
            frame = clock.first_after(before)
            while frame is None and time.perf_counter() - before < 2.0:
                await pilot.pause(0.001)
                frame = clock.first_after(before)
            delays.append(((frame or time.perf_counter()) - before) * 1000)
    return {"key_delay_median_ms": round(statistics.median(delays), 1),
            "key_delay_p95_ms": round(sorted(delays)[int(len(delays) * 0.95) - 1], 1)}


def keys(sources: int, rate: float, presses: int) -> dict[str, dict[str, float]]:
    """Key delays of the minimal app and the console, each in its own process."""
    results = {}
    for kind in ("minimal", "console"):
        out = subprocess.run([sys.executable, __file__, "--keys-child", kind, "--sources", str(sources),
                              "--rate", str(rate), "--presses", str(presses)],
                             capture_output=True, text=True, timeout=300, check=False)
        if out.returncode != 0:
            raise SystemExit(out.stdout[-3000:] + out.stderr[-3000:])
        results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    return results


def main() -> int:
    """Run the chosen measures and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("measures", nargs="*", help="first-frame, keys, memory, requests (default: all)")
    parser.add_argument("--runs", type=int, default=7, help="first-frame runs (the median is kept)")
    parser.add_argument("--terminal", choices=("tmux", "pty"), default="tmux",
                        help="first-frame: a tmux pane (a real terminal emulator) or a bare pty")
    parser.add_argument("--burners", type=int, default=2, help="first-frame: CPU burners running beside it")
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="Events per second")
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=60.0, help="memory and requests: seconds measured")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--keys-child", choices=("console", "minimal"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.keys_child:
        print(json.dumps(asyncio.run(measure_keys(args.keys_child, args.sources, args.rate, args.presses))))
        return 0
    measures = args.measures or list(MEASURES)
    if set(measures) - set(MEASURES):
        parser.error(f"measures are {', '.join(MEASURES)}")
    results: dict[str, object] = {}
    for measure in measures:
        if measure == "first-frame":
            results[measure] = first_frame(args.runs, args.terminal, args.burners)
        elif measure == "keys":
            results[measure] = keys(args.sources, args.rate, args.presses)
        else:
            from bench import console_live

            run = console_live.memory if measure == "memory" else console_live.requests
            results[measure] = run(sources=args.sources, rate=args.rate, seconds=args.seconds)
        print(f"{measure}: {json.dumps(results[measure], indent=2)}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
