"""bench_reconciler's ``latency`` measure (issue 21 items 3 and 7): commit to applied on dev, staging and prod, as the
user sees it: `gitops-tui run --webhook-listen` in its own process, a signed GitHub push delivery, and the clock
started once the commit is written.

Two sources: 20 ConfigMaps all changed by each commit, and 500 ConfigMaps of which one changes. The baselines run in
the same sandbox and the same minute: `kubectl apply --server-side` to the three clusters in parallel (three kubectl
processes) of the same 20 files, and of just the one changed file. Per-run figures, medians and ratios are printed,
with the load average at the start and the end.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.bench_reconciler import (
    configmap,
    make_repo,
    propagated,
    wait_for,
    write_objects,
)
from bench.common import CLUSTERS, BenchSandbox, git, load_average, median, ratio
from bench.run_process import RunProcess
from gitops_tui.actions import sources as actions
from gitops_tui.api import names
from gitops_tui.api.paths import management_path, resource_path
from gitops_tui.kube.client import json_request
from gitops_tui.kube.watch import ResourceWatch
from gitops_tui.reconciler.webhook import hmac_hex

TOKEN = b"bench-latency-token"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def deliver(port: int, namespace: str, name: str, delivery: str) -> None:
    """POST a signed GitHub push delivery for ``namespace/name``."""
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/hook/{namespace}/{name}", data=body, method="POST",
        headers={"X-Hub-Signature-256": "sha256=" + hmac_hex(TOKEN, body), "X-GitHub-Event": "push",
                 "X-GitHub-Delivery": delivery, "Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).read()


class AppliedWatch:
    """The sources' FederatedKustomizations followed by one watch, as the console (or `kubectl wait`) follows them:
    the end of a round is the status event itself, and the measuring costs the shared sandbox no polling."""

    def __init__(self, api: Any, namespace: str) -> None:
        self._namespace = namespace
        self._changed = threading.Condition()
        self._watch = ResourceWatch(api, management_path(names.KIND_FEDERATED_KUSTOMIZATION, namespace),
                                    self._seen, timeout_seconds=300, name="bench applied")

    def _seen(self, _type: str, _obj: dict[str, Any], _old: dict[str, Any] | None) -> None:
        with self._changed:
            self._changed.notify_all()

    def __enter__(self) -> AppliedWatch:
        self._watch.start()
        if not self._watch.synced.wait(60):
            raise TimeoutError("the bench's watch did not list")
        return self

    def __exit__(self, *exc: object) -> None:
        self._watch.stop()

    def wait_applied(self, name: str, revision: str, timeout: float) -> None:
        """Return once ``name`` shows ``revision`` applied on every cluster (TimeoutError after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not applied(self._watch.get(self._namespace, name), revision):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{name} did not apply {revision}")
                self._changed.wait(left)


def applied(kustomization: dict[str, Any] | None, revision: str) -> bool:
    """True when the FederatedKustomization's status shows ``revision`` applied on every cluster (bench.propagated)."""
    rows = ((kustomization or {}).get("status") or {}).get("clusters") or []
    return len(rows) == len(CLUSTERS) and all(r.get("lastAppliedRevision") == revision and not r.get("status")
                                              for r in rows)


def kubectl_parallel(bench: BenchSandbox, namespace: str, files: list[Path]) -> float:
    """Seconds for `kubectl apply --server-side` of ``files`` to the three clusters, three processes at once."""
    args = [arg for f in files for arg in ("-f", str(f))]
    start = time.monotonic()
    running = [subprocess.Popen(["kubectl", "--kubeconfig", str(bench.kubeconfig), "--context", c, "apply",
                                 "--server-side", "-n", namespace, *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for c in CLUSTERS]
    for process in running:
        if process.wait(timeout=120):
            raise SystemExit(f"kubectl failed: {process.stderr.read().decode()[:300] if process.stderr else ''}")
    return time.monotonic() - start


def measure(bench: BenchSandbox, rounds: int) -> dict[str, Any]:
    """Both cases, ``rounds`` commits each, against their kubectl baselines."""
    started_load = load_average()
    cases = {"all 20 changed": ("every", 20), "1 of 500 changed": ("one", 500)}
    repos = {}
    for label, (name, count) in cases.items():
        repos[label] = make_repo(bench.home / "repos" / name, count, name)
        actions.create_source(bench.api, bench.project, name, f"file://{repos[label]}", path="./app", interval="1h",
                              local_repos=[bench.home / "repos"])
        json_request(bench.api, "POST", resource_path("v1", "secrets", bench.project),
                     {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{name}-webhook"},
                      "stringData": {"token": TOKEN.decode()}})
    for cluster in CLUSTERS:  # the baselines' own namespace
        subprocess.run(["kubectl", "--kubeconfig", str(bench.kubeconfig), "--context", cluster, "create", "namespace",
                        "kubectl-latency"], check=True, capture_output=True)
    port = free_port()
    run = RunProcess(bench.home, bench.kubeconfig, local_repos=[bench.home / "repos"],
                     args=["--webhook-listen", f"127.0.0.1:{port}"], trace_git=False).start()
    results: dict[str, Any] = {}
    try:
        for label, (name, _count) in cases.items():
            first = f"main@sha1:{git(repos[label], 'rev-parse', 'HEAD')}"
            wait_for(lambda name=name, first=first: propagated(bench.api, bench.project, name, first), 600)
        with AppliedWatch(bench.api, bench.project) as follow:
            for label, (name, count) in cases.items():
                repo = repos[label]
                kubectl_parallel(bench, "kubectl-latency", sorted((repo / "app").iterdir()))  # the baseline's first apply
                ours, theirs = [], []
                for r in range(rounds):
                    if count == 20:
                        write_objects(repo / "app", count, f"r{r}", name)
                        changed = sorted((repo / "app").iterdir())
                    else:
                        changed = [repo / "app" / f"{name}-{r % count:03d}.yaml"]
                        changed[0].write_text(configmap(f"{name}-{r % count:03d}", f"r{r}"))
                    git(repo, "commit", "-q", "-am", f"round {r}")
                    revision = f"main@sha1:{git(repo, 'rev-parse', 'HEAD')}"
                    start = time.monotonic()  # the commit is written: the user's clock starts
                    deliver(port, bench.project, name, f"{name}-{r}")
                    follow.wait_applied(name, revision, 120)
                    ours.append(time.monotonic() - start)
                    theirs.append(kubectl_parallel(bench, "kubectl-latency", changed))
                results[label] = {
                    "gitops-tui run + webhook, commit to applied on 3 clusters (s), per run": [round(t, 3) for t in ours],
                    "kubectl apply --server-side of the changed files, 3 clusters in parallel (s), per run":
                        [round(t, 3) for t in theirs],
                    "median gitops-tui (s)": median(ours),
                    "median kubectl (s)": median(theirs),
                    "ratio gitops-tui / kubectl": ratio(median(ours), median(theirs)),
                }
    finally:
        run.stop()
    results["load average (1, 5, 15 min) at the start"] = started_load
    results["load average (1, 5, 15 min) at the end"] = load_average()
    return results
