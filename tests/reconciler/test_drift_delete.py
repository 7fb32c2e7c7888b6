"""Drift (Event naming object, fields and manager; corrected; `diff` exit codes) and delete through the finalizer."""

from __future__ import annotations

from typing import Any

from gitops_tui.actions import sources as actions
from tests.waiting import wait_until
from tests.world import CLUSTERS, World, assert_propagated, configmap, deployment


def test_drift_is_reported_with_fields_and_manager_then_corrected(world: World, sandbox: Any) -> None:
    repo = world.repo("drift", {"web.yaml": deployment("web", replicas=2), "cm.yaml": configmap("cfg")})
    world.create("drift", f"file://{repo}")
    world.reconcile("drift")
    clean = sandbox.cli("diff", "source", "drift", "-p", world.project, check=False)
    assert clean.returncode == 0 and clean.stdout.count("no drift") == 3, clean.stdout + clean.stderr

    world.kubectl_edit("staging", "deployment/web", "s/replicas: 2/replicas: 7/")
    sandbox.kubectl("prod", "-n", world.namespace, "delete", "configmap", "cfg")
    proc = sandbox.cli("diff", "source", "drift", "-p", world.project, "-o", "json", check=False)
    assert proc.returncode == 1, proc.stderr
    assert '"path": ".spec.replicas"' in proc.stdout and '"kubectl-edit"' in proc.stdout

    writes = world.writes.count()
    world.reconcile("drift")
    assert world.writes.count() == writes + 2, "only the two drifted objects are re-applied"
    assert world.get("staging", "deployments", "web")["spec"]["replicas"] == 2
    assert world.get("prod", "configmaps", "cfg") is not None
    drift_events = [e for e in world.events("drift") if e["reason"] == "DriftDetected"]
    messages = " | ".join(e["message"] for e in drift_events)
    assert f"Deployment {world.namespace}/web fields .spec.replicas changed by kubectl-edit" in messages
    assert f"ConfigMap {world.namespace}/cfg was deleted" in messages
    assert {e["metadata"]["annotations"]["gitops-tui.io/cluster"] for e in drift_events} == {"staging", "prod"}
    assert "DriftCorrected" in [e["reason"] for e in world.events("drift")]
    assert_propagated(world, "drift", f"main@sha1:{world.head(repo)}")
    assert sandbox.cli("diff", "source", "drift", "-p", world.project, check=False).returncode == 0


def test_diff_exits_2_on_error(world: World, sandbox: Any) -> None:
    missing = sandbox.cli("diff", "source", "nope", "-p", world.project, check=False)
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    repo = world.repo("broken", {"cm.yaml": "kind: [\n"})
    world.create("broken", f"file://{repo}")
    broken = sandbox.cli("diff", "source", "broken", "-p", world.project, check=False)
    assert broken.returncode == 2 and "invalid YAML in cm.yaml" in broken.stderr


def _all_gone(world: World, source: str) -> bool:
    return all(not world.labelled(c, "configmaps", source) and not world.labelled(c, "deployments", source)
               for c in CLUSTERS)


def test_delete_prunes_every_cluster(world: World) -> None:
    repo = world.repo("del", {"web.yaml": deployment("web"), "cm.yaml": configmap("cfg")})
    world.create("del", f"file://{repo}")
    world.reconcile("del")
    preview = actions.delete_preview(world.api, world.project, "del")
    ns = world.namespace
    assert preview == {c: sorted([f"ConfigMap {ns}/cfg", f"Deployment {ns}/web"]) for c in CLUSTERS}
    actions.delete_source(world.api, world.project, "del", actor="dave")
    assert world.source("del").kustomization["metadata"]["deletionTimestamp"]
    world.reconcile("del")
    assert _all_gone(world, "del")
    assert world.source("del").kustomization is None and world.source("del").repository is None
    reasons = [e["reason"] for e in world.events("del")]
    assert "DeleteRequested" in reasons and "Pruned" in reasons and "Deleted" in reasons


def test_delete_with_orphan_keeps_objects(world: World, sandbox: Any) -> None:
    repo = world.repo("orph", {"web.yaml": deployment("web"), "cm.yaml": configmap("cfg")})
    world.create("orph", f"file://{repo}")
    world.reconcile("orph")
    actions.delete_source(world.api, world.project, "orph", orphan=True)
    assert actions.delete_preview(world.api, world.project, "orph") == {c: [] for c in CLUSTERS}
    world.reconcile("orph")
    assert world.source("orph").kustomization is None
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "cfg") is not None
        assert world.get(cluster, "deployments", "web") is not None
    assert "Orphaned" in [e["reason"] for e in world.events("orph")]


def test_delete_through_the_cli_and_the_manager(world: World, sandbox: Any) -> None:
    from gitops_tui.reconciler.manager import Reconciler
    from gitops_tui.reconciler.options import ReconcilerOptions

    repo = world.repo("cli-del", {"cm.yaml": configmap("cfg")})
    world.create("clidel", f"file://{repo}")
    reconciler = Reconciler(world.api, ReconcilerOptions(data_dir=world.tmp / "mgr", elect=False, install=False,
                                                         workers=2))
    reconciler.start()
    try:
        wait_until(lambda: all(world.get(c, "configmaps", "cfg") for c in CLUSTERS), timeout=30,
                   message="the source is applied")
        proc = sandbox.cli("delete", "source", "clidel", "-p", world.project, "--yes", check=False)
        assert proc.returncode == 0, proc.stderr
        wait_until(lambda: world.source("clidel").kustomization is None, timeout=30, message="the finalizer ran")
        assert _all_gone(world, "clidel")
    finally:
        reconciler.stop()
