"""A kill -9 of the reconciler in the middle of an apply: after restart it converges, with a complete inventory and no orphan."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from tests.gitserver import commit
from tests.waiting import wait_until
from tests.world import World, assert_propagated, configmap

RUNNER = """
import sys
from pathlib import Path
from gitops_tui.kube.client import ClusterConnections, api_client_from_kubeconfig
from gitops_tui.kube.events import EventRecorder
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.source import GitSource
from gitops_tui.reconciler.source_controller import reconcile_source

kubeconfig, namespace, name, data = sys.argv[1:5]
api = api_client_from_kubeconfig(kubeconfig, "management")
ctx = ReconcileContext(api_client=api, dynamic=None, clusters=ClusterConnections(api), recorder=EventRecorder(api),
                       git=GitSource(Path(data) / "git"), data_dir=Path(data))
reconcile_source(ctx, namespace, name)
"""


def _ids(world: World, names: set[str]) -> set[str]:
    return {f"{world.namespace}_{n}__ConfigMap" for n in names}


def test_kill_9_mid_apply_then_restart_converges_without_orphans(world: World, sandbox: Any) -> None:
    clusters = ["dev"]
    base = {f"a/{i:02d}.yaml": configmap(f"a-{i:02d}") for i in range(10)}
    repo = world.repo("crash", base)
    world.create("crash", f"file://{repo}", clusters=clusters)
    world.reconcile("crash")
    commit(repo, {f"b/{i:03d}.yaml": configmap(f"b-{i:03d}") for i in range(250)})

    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(sandbox.kubeconfig), world.namespace, "crash", str(world.tmp / "runner")],
        env=sandbox.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: len(world.labelled("dev", "configmaps", "crash")) >= 40 or proc.poll() is not None,
                   timeout=90, interval=0.02, message="the runner is in the middle of the apply")
        assert proc.poll() is None, "the apply finished before the kill"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    applied = world.labelled("dev", "configmaps", "crash")
    assert 40 <= len(applied) < 260
    rows = {c["name"]: c for c in world.status("crash")["clusters"]}
    recorded = {i["id"] for i in rows["dev"]["inventory"]}
    assert _ids(world, applied) <= recorded, "every object written before the kill is in the recorded inventory"

    # Git moves on and drops the b/ objects the killed run had started to apply.
    commit(repo, {**{f"b/{i:03d}.yaml": None for i in range(250)}, "c.yaml": configmap("c-new")})
    world.reconcile("crash")
    assert_propagated(world, "crash", f"main@sha1:{world.head(repo)}", clusters)
    wanted = {f"a-{i:02d}" for i in range(10)} | {"c-new"}
    for cluster in clusters:
        live = world.labelled(cluster, "configmaps", "crash")
        assert live == wanted, f"orphans on {cluster}: {sorted(live - wanted)[:5]}"
        inventory = {i["id"] for i in {c["name"]: c for c in world.status("crash")["clusters"]}[cluster]["inventory"]}
        assert inventory == _ids(world, wanted)
