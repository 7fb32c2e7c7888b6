"""Shared pieces of the reconciler and Helm benchmarks: git, a private sandbox with one project, running and printing."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gitops_tui.actions import resources  # noqa: E402
from gitops_tui.kube.client import ClusterConnections, api_client_from_kubeconfig, json_request  # noqa: E402
from gitops_tui.kube.events import EventRecorder  # noqa: E402
from gitops_tui.kube.management_api import ensure_management_api  # noqa: E402
from gitops_tui.reconciler.context import ReconcileContext  # noqa: E402
from gitops_tui.reconciler.projects import reconcile_project  # noqa: E402
from gitops_tui.reconciler.source import GitSource  # noqa: E402
from gitops_tui.reconciler.source_controller import reconcile_source  # noqa: E402
from gitops_tui.sandbox import manager  # noqa: E402

CLUSTERS = ["dev", "staging", "prod"]
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.com", "GIT_COMMITTER_NAME": "bench",
           "GIT_COMMITTER_EMAIL": "b@example.com"}


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; return its output."""
    out = subprocess.run(["git", "-C", str(repo), *args], env={**os.environ, **GIT_ENV}, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def init_repo(path: Path, write: Callable[[Path], None]) -> Path:
    """A git repository at ``path`` whose first commit holds what ``write(path)`` wrote."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    write(path)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


def load_average() -> list[float]:
    """The machine's load average over 1, 5 and 15 minutes (printed beside every figure: the machine is shared)."""
    return [round(x, 2) for x in os.getloadavg()]


def print_load(label: str = "load average (1, 5, 15 min)") -> None:
    """Print the load average now, on stderr (the figures on stdout stay machine-readable)."""
    print(f"{label}: {load_average()}", file=sys.stderr, flush=True)


def request_counts(text: str) -> dict[str, int]:
    """Requests answered by "VERB resource" from a /metrics text (resource "" for /api, /metrics and the like)."""
    from tests.metrics import parse

    out: dict[str, int] = {}
    for name, labels, value in parse(text):
        if name == "apiserver_request_total":
            key = f"{labels.get('verb')} {labels.get('resource')}"
            out[key] = out.get(key, 0) + int(value)
    return out


class RequestMeter:
    """Scrapes the /metrics of some clusters; ``since()`` gives each cluster's requests since the last call."""

    def __init__(self, kubeconfig: Path, contexts: list[str]) -> None:
        """Start counting now."""
        from tests.metrics import scrape

        self._scrape = scrape
        self.clients = {c: api_client_from_kubeconfig(kubeconfig, c) for c in contexts}
        self.last = {c: request_counts(scrape(client)) for c, client in self.clients.items()}

    def since(self) -> dict[str, dict[str, int]]:
        """Per cluster, requests by "VERB resource" since the last call (this meter's own scrapes left out)."""
        out = {}
        for cluster, client in self.clients.items():
            now = request_counts(self._scrape(client))
            diff = {k: n - self.last[cluster].get(k, 0) for k, n in now.items() if n != self.last[cluster].get(k, 0)}
            diff["GET "] = diff.get("GET ", 0) - 1  # the previous scrape
            out[cluster] = {k: n for k, n in diff.items() if n}
            self.last[cluster] = now
        return out


def median(values: list[float], digits: int = 3) -> float:
    """Median, rounded for printing."""
    return round(statistics.median(values), digits)


def ratio(ours: float, baseline: float) -> float:
    """``ours`` over ``baseline`` (both measured in the same run), rounded."""
    return round(ours / baseline, 2) if baseline else float("inf")


class BenchSandbox:
    """A private sandbox (dev, staging, prod), the management client, and one project on every cluster."""

    def __init__(self, home: Path, project: str) -> None:
        """Start the sandbox under ``home`` and create ``project``."""
        self.home = home
        self.kubeconfig = manager.up(clusters=CLUSTERS, seed_demo=False, home=home).kubeconfig
        self.api = api_client_from_kubeconfig(self.kubeconfig, "management")
        ensure_management_api(self.api)
        self.project = project
        resources.create_project(self.api, project, CLUSTERS)
        self.ctx = ReconcileContext(api_client=self.api, dynamic=None,  # type: ignore[arg-type]
                                    clusters=ClusterConnections(self.api), recorder=EventRecorder(self.api),
                                    git=GitSource(home / "git"), data_dir=home)
        reconcile_project(self.ctx, "", project)

    def reconcile(self, name: str) -> float:
        """Seconds for one reconcile_source of ``name``; stop the benchmark when it is not Ready after it."""
        start = time.monotonic()
        reconcile_source(self.ctx, self.project, name)
        took = time.monotonic() - start
        fk = json_request(self.api, "GET", f"/apis/types.kubefed.io/v1beta1/namespaces/{self.project}/"
                                           f"federatedkustomizations/{name}")
        ready = next((c for c in (fk.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"), {})
        if ready.get("status") != "True":
            raise SystemExit(f"bench source {name} is not Ready: {ready.get('message')}")
        return took

    def close(self) -> None:
        """Stop the sandbox."""
        self.ctx.clusters.close()
        manager.down(home=self.home)


def run(prefix: str, make: Callable[[Path], Any], measure: Callable[[Any], dict[str, Any]], as_json: bool) -> int:
    """Start a private sandbox with ``make(home)`` (a BenchSandbox), run ``measure`` on it, always stop it, print."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    started = load_average()
    bench = make(home)
    try:
        results = measure(bench)
    finally:
        bench.close()
        shutil.rmtree(home, ignore_errors=True)
    results["load average (1, 5, 15 min) at the start"] = started
    results["load average (1, 5, 15 min) at the end"] = load_average()
    if as_json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key}: {value}")
    return 0
