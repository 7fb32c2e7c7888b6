"""Reconciler benchmarks on a private sandbox: commit-to-propagated (webhook and polling), no-op writes, 500-object apply vs kubectl.

Baselines are measured in the same run: `kubectl apply --server-side` of the same 50 files to dev, staging and
prod one after the other (for commit-to-propagated), and of the same 500 files to dev (for the big apply).

Run: .venv/bin/python bench/bench_reconciler.py [--rounds 3] [--objects 500] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CLUSTERS, BenchSandbox, git, init_repo, ratio, run  # noqa: E402
from gitops_tui.actions import sources as actions  # noqa: E402
from gitops_tui.api import names  # noqa: E402
from gitops_tui.kube.client import json_request  # noqa: E402
from gitops_tui.reconciler import propagate  # noqa: E402
from gitops_tui.reconciler.manager import Reconciler  # noqa: E402
from gitops_tui.reconciler.source_controller import reconcile_source  # noqa: E402
from gitops_tui.reconciler.status import load_source  # noqa: E402
from gitops_tui.reconciler.webhook import WebhookReceiver, hmac_hex  # noqa: E402


def configmap(name: str, value: str) -> str:
    """A ConfigMap manifest."""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"{value}\"\n"


def write_objects(directory: Path, count: int, value: str) -> None:
    """Write ``count`` ConfigMap files into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (directory / f"cm-{i:03d}.yaml").write_text(configmap(f"cm-{i:03d}", value))


def make_repo(path: Path, count: int) -> Path:
    """A git repository with ``count`` ConfigMaps under app/."""
    return init_repo(path, lambda root: write_objects(root / "app", count, "0"))


def bump(repo: Path, count: int, value: str) -> str:
    """Commit a change to every object; return the new revision."""
    write_objects(repo / "app", count, value)
    git(repo, "commit", "-q", "-am", f"value {value}")
    return f"main@sha1:{git(repo, 'rev-parse', 'HEAD')}"


def propagated(api: Any, namespace: str, name: str, revision: str) -> bool:
    """True when every cluster shows ``revision`` applied."""
    status = (load_source(api, namespace, name).kustomization or {}).get("status") or {}
    rows = status.get("clusters") or []
    return len(rows) == len(CLUSTERS) and all(r.get("lastAppliedRevision") == revision and not r.get("status")
                                              for r in rows)


def wait_for(predicate: Any, timeout: float) -> float:
    """Poll ``predicate`` until true; return the elapsed seconds (raise on timeout)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError("benchmark condition not reached")
        time.sleep(0.01)
    return time.monotonic() - start


def bench_propagation(bench: BenchSandbox, rounds: int, webhook: bool) -> list[float]:
    """Seconds from commit to propagated on three clusters for a 50-object source, via webhook or polling."""
    name = "hook" if webhook else "poll"
    repo = make_repo(bench.home / f"repo-{name}", 50)
    interval = "1h" if webhook else "5s"
    actions.create_source(bench.api, bench.project, name, f"file://{repo}", interval=interval)
    reconciler = Reconciler(bench.api, data_dir=bench.home / f"mgr-{name}", elect=False, install=False, workers=2)
    reconciler.start()
    receiver = None
    token = b"bench-webhook-token"
    if webhook:
        json_request(bench.api, "POST", f"/api/v1/namespaces/{bench.project}/secrets",
                     {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{name}-webhook"},
                      "stringData": {"token": token.decode()}})
        receiver = WebhookReceiver(bench.api, "127.0.0.1:0", trigger=lambda ns, n: reconciler.request(
            names.KIND_FEDERATED_KUSTOMIZATION, ns, n))
        receiver.start()
    times = []
    try:
        first = f"main@sha1:{git(repo, 'rev-parse', 'HEAD')}"
        wait_for(lambda: propagated(bench.api, bench.project, name, first), 120)
        for r in range(rounds):
            start = time.monotonic()
            revision = bump(repo, 50, str(r + 1))
            if receiver is not None:
                body = json.dumps({"ref": "refs/heads/main"}).encode()
                req = urllib.request.Request(f"{receiver.url}/hook/{bench.project}/{name}", data=body, method="POST",
                                             headers={"X-Hub-Signature-256": "sha256=" + hmac_hex(token, body),
                                                      "X-GitHub-Event": "push", "Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=10).read()
            wait_for(lambda: propagated(bench.api, bench.project, name, revision), 120)
            times.append(time.monotonic() - start)
    finally:
        if receiver is not None:
            receiver.stop()
        reconciler.stop()
    return times


def bench_kubectl_three(bench: BenchSandbox, rounds: int) -> list[float]:
    """The baseline for commit-to-propagated: `kubectl apply --server-side` of the same 50 files to each cluster."""
    repo = make_repo(bench.home / "repo-kubectl", 50)
    namespace = "kubectl-three"
    times = []
    for r in range(rounds + 1):
        write_objects(repo / "app", 50, str(r + 1))
        start = time.monotonic()
        for cluster in CLUSTERS:
            kubectl = ["kubectl", "--kubeconfig", str(bench.kubeconfig), "--context", cluster]
            if r == 0:
                subprocess.run([*kubectl, "create", "namespace", namespace], check=True, capture_output=True)
            subprocess.run([*kubectl, "apply", "--server-side", "-n", namespace, "-f", str(repo / "app")], check=True,
                           capture_output=True)
        if r:
            times.append(time.monotonic() - start)
    return times


def bench_noop_writes(bench: BenchSandbox) -> dict[str, int]:
    """Writes a no-op reconcile makes: to clusters (hook) and to the management status (resourceVersions)."""
    repo = make_repo(bench.home / "repo-noop", 50)
    actions.create_source(bench.api, bench.project, "noop", f"file://{repo}")
    reconcile_source(bench.ctx, bench.project, "noop")
    records: list[Any] = []
    remove = propagate.add_write_hook(records.append)
    before = load_source(bench.api, bench.project, "noop")
    try:
        reconcile_source(bench.ctx, bench.project, "noop")
    finally:
        remove()
    after = load_source(bench.api, bench.project, "noop")
    status_writes = sum(1 for a, b in ((before.kustomization, after.kustomization),
                                       (before.repository, after.repository))
                        if a["metadata"]["resourceVersion"] != b["metadata"]["resourceVersion"])
    return {"cluster_writes": len(records), "management_writes": status_writes}


def bench_apply_vs_kubectl(bench: BenchSandbox, count: int) -> dict[str, float]:
    """Seconds to apply ``count`` objects to one cluster: gitops-tui vs `kubectl apply --server-side` of the same files."""
    repo = make_repo(bench.home / "repo-big", count)
    actions.create_source(bench.api, bench.project, "big", f"file://{repo}", clusters=["dev"])
    start = time.monotonic()
    reconcile_source(bench.ctx, bench.project, "big")
    ours = time.monotonic() - start
    namespace = "kubectl-bench"
    kubectl = ["kubectl", "--kubeconfig", str(bench.kubeconfig), "--context", "dev"]
    subprocess.run([*kubectl, "create", "namespace", namespace], check=True, capture_output=True)
    start = time.monotonic()
    subprocess.run([*kubectl, "apply", "--server-side", "-n", namespace, "-f", str(repo / "app")], check=True,
                   capture_output=True)
    theirs = time.monotonic() - start
    return {"gitops_tui_s": round(ours, 2), "kubectl_s": round(theirs, 2), "ratio": ratio(ours, theirs)}


def main() -> int:
    """Run every benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    def measure(bench: BenchSandbox) -> dict[str, Any]:
        results: dict[str, Any] = {}
        hook = bench_propagation(bench, args.rounds, webhook=True)
        poll = bench_propagation(bench, args.rounds, webhook=False)
        baseline = bench_kubectl_three(bench, args.rounds)
        results["commit_to_propagated_webhook_s"] = {"median": round(statistics.median(hook), 2),
                                                     "all": [round(t, 2) for t in hook]}
        results["commit_to_propagated_polling_5s_s"] = {"median": round(statistics.median(poll), 2),
                                                        "all": [round(t, 2) for t in poll]}
        results["baseline_kubectl_apply_3_clusters_s"] = {"median": round(statistics.median(baseline), 2),
                                                          "all": [round(t, 2) for t in baseline]}
        results["webhook_vs_kubectl_ratio"] = ratio(statistics.median(hook), statistics.median(baseline))
        results["noop_reconcile_writes"] = bench_noop_writes(bench)
        results[f"apply_{args.objects}_objects"] = bench_apply_vs_kubectl(bench, args.objects)
        return results

    return run("gitops-tui-bench-", lambda home: BenchSandbox(home, "bench"), measure, args.json)


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
