"""Reconciler benchmarks on a private sandbox: commit-to-propagated (webhook and polling), no-op writes, 500-object apply
vs kubectl, the dry-run pass (10 of 500 objects changed vs all 500), and a source's commit beside alias bombs.

Baselines are measured in the same run: `kubectl apply --server-side` of the same 50 files to dev, staging and
prod one after the other (for commit-to-propagated), and of the same 500 files to dev (for the big apply); the
dry-run pass of a revision changing all 500 objects; the calm source's commit with no bomb beside it.

First, commit to applied as the user sees it (bench/commit_latency.py): `gitops-tui run --webhook-listen` in its own
process, a signed push delivery, the clock started after the commit is written; 20 objects all changed and 1 of 500
changed, against `kubectl apply --server-side` of the changed files to the three clusters in parallel.

Run: .venv/bin/python bench/bench_reconciler.py [--what all|latency] [--rounds 3] [--objects 500] [--json]
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
from gitops_tui.kube.inventory import entry_hashes  # noqa: E402
from gitops_tui.reconciler import preflight, propagate  # noqa: E402
from gitops_tui.reconciler.desired import desired_objects, fetch_artifact, scope_checker  # noqa: E402
from gitops_tui.reconciler.manager import Reconciler  # noqa: E402
from gitops_tui.reconciler.options import ReconcilerOptions  # noqa: E402
from gitops_tui.reconciler.source_controller import reconcile_source  # noqa: E402
from gitops_tui.reconciler.status import load_source  # noqa: E402
from gitops_tui.reconciler.webhook import WebhookReceiver, hmac_hex  # noqa: E402


def configmap(name: str, value: str) -> str:
    """A ConfigMap manifest."""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  value: \"{value}\"\n"


def write_objects(directory: Path, count: int, value: str, prefix: str = "cm") -> None:
    """Write ``count`` ConfigMap files into ``directory`` (objects of one source need names of their own)."""
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (directory / f"{prefix}-{i:03d}.yaml").write_text(configmap(f"{prefix}-{i:03d}", value))


def make_repo(path: Path, count: int, prefix: str = "cm") -> Path:
    """A git repository with ``count`` ConfigMaps named ``prefix``-NNN under app/."""
    return init_repo(path, lambda root: write_objects(root / "app", count, "0", prefix))


def bump(repo: Path, count: int, value: str, prefix: str = "cm") -> str:
    """Commit a change to every object; return the new revision."""
    write_objects(repo / "app", count, value, prefix)
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
    repo = make_repo(bench.home / f"repo-{name}", 50, name)
    interval = "1h" if webhook else "5s"
    actions.create_source(bench.api, bench.project, name, f"file://{repo}", interval=interval)
    options = ReconcilerOptions(data_dir=bench.home / f"mgr-{name}", elect=False, install=False, workers=2)
    reconciler = Reconciler(bench.api, options)
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
            revision = bump(repo, 50, str(r + 1), name)
            if receiver is not None:
                body = json.dumps({"ref": "refs/heads/main"}).encode()
                req = urllib.request.Request(f"{receiver.url}/hook/{bench.project}/{name}", data=body, method="POST",
                                             headers={"X-Hub-Signature-256": "sha256=" + hmac_hex(token, body),
                                                      "X-GitHub-Event": "push", "Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=10).read()
            wait_for(lambda revision=revision: propagated(bench.api, bench.project, name, revision), 120)
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
    repo = make_repo(bench.home / "repo-noop", 50, "noop")
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
    repo = make_repo(bench.home / "repo-big", count, "big")
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


def bench_dry_run_pass(bench: BenchSandbox, count: int, changed: int, rounds: int) -> dict[str, Any]:
    """Seconds of the dry-run pass on dev, staging and prod: a revision changing ``changed`` of ``count`` objects vs all."""
    repo = make_repo(bench.home / "repo-dry-run", count, "dryrun")
    actions.create_source(bench.api, bench.project, "dryrun", f"file://{repo}")
    bench.reconcile("dryrun")
    source = load_source(bench.api, bench.project, "dryrun")
    connections = {c: bench.ctx.clusters.get(c)[1] for c in CLUSTERS}
    desired = desired_objects(source, fetch_artifact(bench.ctx, source), bench.project, scope_checker(connections))
    hashes = {row["name"]: entry_hashes(row.get("inventory")) for row in source.kustomization["status"]["clusters"]}

    def revision(changes: int, round_: int) -> list[dict[str, Any]]:
        objects = json.loads(json.dumps(desired))
        for obj in objects[:changes]:
            obj["data"]["value"] = f"round-{round_}"
        return objects

    def timed(changes: int) -> tuple[list[float], int]:
        times, checked = [], 0
        for r in range(rounds):
            objects = revision(changes, r)
            start = time.monotonic()
            result = preflight.dry_run_clusters(connections, objects, hashes)
            times.append(time.monotonic() - start)
            if result.refused or result.unreachable:
                raise SystemExit(f"dry-run pass failed: {result.refused or result.unreachable}")
            checked = sum(result.checked.values())
        return times, checked

    few, few_checked = timed(changed)
    every, every_checked = timed(count)
    return {f"changed_{changed}_of_{count}_s": round(statistics.median(few), 3), "requests": few_checked,
            f"changed_{count}_of_{count}_s": round(statistics.median(every), 3), "baseline_requests": every_checked,
            "ratio": ratio(statistics.median(few), statistics.median(every))}


def alias_bomb(name: str, levels: int = 9) -> str:
    """A ConfigMap-shaped object whose `spec` expands to 10**levels strings through nested aliases."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", f"  name: {name}", "anchors:",
             "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]" for n in range(1, levels)]
    return "\n".join([*lines, f"spec: *l{levels - 1}"]) + "\n"


def bench_hostile_neighbour(bench: BenchSandbox, rounds: int, newcomers: int = 3) -> dict[str, Any]:
    """A calm source's one-line commit, commit to propagated: alone, beside ``newcomers`` new plain sources (the
    baseline: they take the workers too), and beside as many new alias-bomb sources (10**9 nodes each)."""
    calm = init_repo(bench.home / "repo-calm", lambda root: write_objects(root / "app", 5, "0", "calm"))
    actions.create_source(bench.api, bench.project, "calm", f"file://{calm}", interval="1h")
    reconciler = Reconciler(bench.api, ReconcilerOptions(data_dir=bench.home / "mgr-calm", elect=False, install=False))
    reconciler.start()

    def commit_and_wait(value: str) -> float:
        start = time.monotonic()
        revision = bump(calm, 1, value, "calm")
        actions.request_reconcile(bench.api, bench.project, "calm")
        wait_for(lambda: propagated(bench.api, bench.project, "calm", revision), 120)
        return time.monotonic() - start

    def settled(name: str, bomb: bool) -> bool:
        fk = load_source(bench.api, bench.project, name).kustomization or {}
        ready = next((c for c in (fk.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"), {})
        return ready.get("reason") == "LimitExceeded" if bomb else ready.get("status") == "True"

    def beside(round_: int, bomb: bool) -> tuple[float, float]:
        kind = "bomb" if bomb else "plain"
        repos = {}
        for b in range(newcomers):
            name = f"{kind}-{round_}-{b}"
            content = alias_bomb(name) if bomb else "".join(configmap(f"{name}-{i}", "0") + "---\n" for i in range(5))
            repos[name] = init_repo(bench.home / f"repo-{name}", lambda root, c=content: (root / "app.yaml").write_text(c))
        start = time.monotonic()
        for name, repo in repos.items():
            actions.create_source(bench.api, bench.project, name, f"file://{repo}", interval="1h")
        took = commit_and_wait(f"{kind}-{round_}")
        wait_for(lambda: all(settled(n, bomb) for n in repos), 120)
        return took, time.monotonic() - start

    alone, plain, bombs, refused = [], [], [], []
    try:
        wait_for(lambda: propagated(bench.api, bench.project, "calm", f"main@sha1:{git(calm, 'rev-parse', 'HEAD')}"), 120)
        for r in range(rounds):
            alone.append(commit_and_wait(f"alone-{r}"))
            plain.append(beside(r, bomb=False)[0])
            took, settled_after = beside(r, bomb=True)
            bombs.append(took)
            refused.append(settled_after)
    finally:
        reconciler.stop()
    return {"calm_commit_alone_s": round(statistics.median(alone), 2),
            f"calm_commit_beside_{newcomers}_new_plain_sources_s": round(statistics.median(plain), 2),
            f"calm_commit_beside_{newcomers}_alias_bombs_s": round(statistics.median(bombs), 2),
            f"all_{newcomers}_bombs_refused_s": round(statistics.median(refused), 2),
            "ratio_bombs_vs_plain": ratio(statistics.median(bombs), statistics.median(plain))}


def main() -> int:
    """Run every benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--what", choices=("all", "latency"), default="all",
                        help="latency: only commit to applied through `gitops-tui run` and a signed webhook")
    args = parser.parse_args()

    def measure(bench: BenchSandbox) -> dict[str, Any]:
        from bench.commit_latency import measure as measure_latency

        results: dict[str, Any] = {"commit to applied, from the user's side": measure_latency(bench, args.rounds)}
        if args.what == "latency":
            return results
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
        results["dry_run_pass"] = bench_dry_run_pass(bench, args.objects, 10, args.rounds)
        results["hostile_neighbour"] = bench_hostile_neighbour(bench, args.rounds)
        return results

    return run("gitops-tui-bench-", lambda home: BenchSandbox(home, "bench"), measure, args.json)


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
