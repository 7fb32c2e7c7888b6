#!/usr/bin/env python3
"""Console benchmark: first paint, key-to-screen delay (1,000 sources, 50 events/s streaming), memory.

Each number is measured beside a minimal Textual app in the same run, each app in its own process
(so peak RSS is per app). Paint times are taken at the first frame the driver writes; the key delay
is from the key press to the first frame written after it.

Usage: .venv/bin/python bench/bench_console.py [--sources 1000] [--rate 50] [--presses 40] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SHA = "9f2c41d7a3b05e6c8d1f2a3b4c5d6e7f80912345"


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

        return Minimal(), "down"
    from gitops_tui.themes import builtin_dir
    from gitops_tui.tui.app import GitOpsApp
    from gitops_tui.views.static import StaticBackend

    backend = StaticBackend(demo_objects(sources))
    backend.feed = event_feed(rate)
    app = GitOpsApp(backend, theme="gitops-dark", live=True, remember_theme=False, theme_dirs=(builtin_dir(),))
    return app, "down"


async def measure(kind: str, sources: int, rate: float, presses: int) -> dict[str, float]:
    """Run one app headless at 120x36 and return its numbers."""
    clock = FrameClock()
    started = time.perf_counter()
    app, key = build(kind, sources, rate)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        first_paint = (clock.first_after(started) or time.perf_counter()) - started
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
        events_seen = len(app.backend.state.items("events")) if kind == "console" else 0
    threading.Event().wait(0)
    return {
        "first_paint_ms": round(first_paint * 1000, 1),
        "key_delay_median_ms": round(statistics.median(delays), 1),
        "key_delay_p95_ms": round(sorted(delays)[int(len(delays) * 0.95) - 1], 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "events_streamed": events_seen,
    }


def child(kind: str, sources: int, rate: float, presses: int) -> None:
    """Measure one app in this process and print JSON."""
    print(json.dumps(asyncio.run(measure(kind, sources, rate, presses))))


def main() -> int:
    """Run both apps in child processes and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--child", choices=("console", "minimal"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.sources, args.rate, args.presses)
        return 0
    results = {}
    for kind in ("minimal", "console"):
        out = subprocess.run([sys.executable, __file__, "--child", kind, "--sources", str(args.sources),
                              "--rate", str(args.rate), "--presses", str(args.presses)],
                             capture_output=True, text=True, timeout=300, check=False)
        if out.returncode != 0:
            print(out.stdout[-3000:], out.stderr[-3000:], file=sys.stderr)
            return 1
        results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"gitops-tui console vs a minimal Textual app ({args.sources} sources, {args.rate:g} events/s, 120x36)")
    print(f"{'metric':<22}{'minimal':>12}{'console':>12}")
    for metric in ("first_paint_ms", "key_delay_median_ms", "key_delay_p95_ms", "peak_rss_mib", "events_streamed"):
        print(f"{metric:<22}{results['minimal'][metric]:>12}{results['console'][metric]:>12}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
