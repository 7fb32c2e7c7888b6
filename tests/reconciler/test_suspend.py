"""Suspend and resume: who/why/when recorded, nothing applied or reverted while suspended, diff, resume, a suspend mid-apply."""

from __future__ import annotations

import threading
import time
from typing import Any

from gitops_tui.actions import sources as actions
from gitops_tui.actions.actor import current_actor, ssh_client_address
from gitops_tui.api import names
from tests.gitserver import commit
from tests.waiting import wait_until
from tests.world import CLUSTERS, World, assert_propagated, configmap, deployment


def test_actor_names_the_os_user_and_the_ssh_client() -> None:
    assert ssh_client_address({"SSH_CLIENT": "10.1.2.3 53422 22"}) == "10.1.2.3"
    assert ssh_client_address({"SSH_CONNECTION": "192.168.0.9 5000 10.0.0.1 22"}) == "192.168.0.9"
    assert ssh_client_address({}) is None
    assert current_actor({"SSH_CLIENT": "10.1.2.3 53422 22"}).endswith("@10.1.2.3")
    assert "@" not in current_actor({})


def test_suspend_holds_commits_and_edits_then_resume_reverts_and_applies(world: World, sandbox: Any) -> None:
    repo = world.repo("susp", {"web.yaml": deployment("web", replicas=1), "cm.yaml": configmap("cfg")})
    world.create("susp", f"file://{repo}")
    world.reconcile("susp")
    first = f"main@sha1:{world.head(repo)}"
    assert_propagated(world, "susp", first)

    actions.suspend_source(world.api, world.project, "susp", "incident 42: hand fix", actor="alice@10.9.8.7")
    annotations = world.source("susp").kustomization["metadata"]["annotations"]
    assert annotations[names.ANNOTATION_SUSPENDED_BY] == "alice@10.9.8.7"
    assert annotations[names.ANNOTATION_SUSPEND_REASON] == "incident 42: hand fix"
    assert annotations[names.ANNOTATION_SUSPENDED_AT].endswith("Z")
    assert world.source("susp").suspend

    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.kubectl_edit("dev", "deployment/web", "s/replicas: 1/replicas: 4/")
    assert world.get("dev", "deployments", "web")["spec"]["replicas"] == 4
    writes = world.writes.count()
    world.reconcile("susp")
    assert world.writes.count() == writes, "a suspended source writes nothing"
    assert world.get("dev", "deployments", "web")["spec"]["replicas"] == 4, "the hand edit stays"
    observed = [e["message"] for e in world.events("susp") if e["reason"] == "DriftDetected"]
    assert observed == [f"drift on dev: Deployment {world.namespace}/web fields .spec.replicas changed by "
                        "kubectl-edit (not corrected: the source is suspended)"]
    assert all(world.get(c, "configmaps", "cfg")["data"] == {"value": "v1"} for c in CLUSTERS)

    proc = sandbox.cli("diff", "source", "susp", "-p", world.project, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "dev: Deployment" in proc.stdout and ".spec.replicas: live 4 -> git 1" in proc.stdout
    assert "kubectl-edit" in proc.stdout
    assert "staging: ConfigMap" in proc.stdout and "prod: ConfigMap" in proc.stdout
    preview = actions.preview_resume(world.api, world.project, "susp", data_dir=world.tmp / "preview")
    drifted = {c.cluster: [d.ref.name for d in c.objects] for c in preview.clusters}
    assert sorted(drifted["dev"]) == ["cfg", "web"] and drifted["prod"] == ["cfg"]

    actions.resume_source(world.api, world.project, "susp", actor="bob")
    resumed = world.source("susp").kustomization["metadata"].get("annotations") or {}
    assert names.ANNOTATION_SUSPENDED_BY not in resumed and names.ANNOTATION_REQUESTED_AT in resumed
    world.reconcile("susp")
    assert world.get("dev", "deployments", "web")["spec"]["replicas"] == 1, "resume reverts the hand edit"
    assert all(world.get(c, "configmaps", "cfg")["data"] == {"value": "v2"} for c in CLUSTERS)
    assert_propagated(world, "susp", f"main@sha1:{world.head(repo)}")

    events = {e["reason"]: e["message"] for e in world.events("susp")}
    assert events["Suspended"] == "suspended by alice@10.9.8.7: incident 42: hand fix"
    assert events["Resumed"].startswith("resumed by bob") and "alice@10.9.8.7" in events["Resumed"]
    clean = sandbox.cli("diff", "source", "susp", "-p", world.project, check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr


def test_suspend_during_a_300_object_apply_stops_at_once(world: World) -> None:
    files = {f"cm/{i:03d}.yaml": configmap(f"cm-{i:03d}") for i in range(300)}
    repo = world.repo("big", files)
    world.create("big", f"file://{repo}", clusters=["dev"])
    suspended = threading.Event()
    done = threading.Event()
    suspended_at: list[float] = []

    def suspend_when_busy() -> None:
        wait_until(lambda: world.writes.count() >= 40 or done.is_set(), timeout=60, message="40 writes")
        actions.suspend_source(world.api, world.project, "big", "stop now", actor="carol")
        suspended_at.append(time.monotonic())
        suspended.set()

    thread = threading.Thread(target=suspend_when_busy)
    thread.start()
    try:
        world.reconcile("big")
    finally:
        done.set()
        thread.join(timeout=60)
    assert suspended.is_set()
    records = list(world.writes.records)
    seen = [r.started for r in records if r.started > suspended_at[0]]
    assert len(seen) <= 1, f"{len(seen)} writes started after the suspend was recorded"
    assert 40 <= len(records) < 300
    present = world.labelled("dev", "configmaps", "big")
    assert len(present) == len(records), "what the hook saw is what the cluster has"
    status = world.status("big")
    row = {c["name"]: c for c in status["clusters"]}["dev"]
    assert row["lastAppliedRevision"] == "" and row["status"] == "ApplyStopped"
    inventory = {i["id"] for i in row["inventory"]}
    assert {f"{world.namespace}_{n}__ConfigMap" for n in present} <= inventory, "nothing applied is untracked"
    assert "ApplyStopped" in [e["reason"] for e in world.events("big")]



def test_suspend_and_resume_a_project_does_each_source(world: World, sandbox: Any) -> None:
    for name in ("one", "two"):
        repo = world.repo(name, {"cm.yaml": configmap(f"cm-{name}")})
        world.create(name, f"file://{repo}")
    proc = sandbox.cli("suspend", "project", world.project, "--reason", "freeze", check=False)
    assert proc.returncode == 0, proc.stderr
    assert f"project {world.project} frozen on every cluster" in proc.stdout and ": freeze;" in proc.stdout
    assert "2 source(s) held: one, two" in proc.stdout
    for name in ("one", "two"):
        assert not world.source(name).suspend, "the freeze is the project's state, not each source's"
        world.reconcile(name)
        assert world.get("dev", "configmaps", f"cm-{name}") is None
    proc = sandbox.cli("resume", "project", world.project, check=False)
    # No reconciler runs in this world (reconciles are driven by hand): resume says so and exits 1.
    assert f"project {world.project} resumed" in proc.stdout
    assert proc.returncode == 0 or "no reconciler is running" in proc.stderr
    for name in ("one", "two"):
        assert not world.source(name).suspend
        world.reconcile(name)
        assert world.get("prod", "configmaps", f"cm-{name}") is not None
    missing = sandbox.cli("suspend", "source", "one", "-p", world.project, "--reason", " ", check=False)
    assert missing.returncode == 1 and "reason is required" in missing.stderr
    one = sandbox.cli("suspend", "source", "one", "-p", world.project, "--reason", "db migration", check=False)
    assert one.returncode == 0 and "db migration" in one.stdout, one.stderr
    assert world.source("one").suspend and not world.source("two").suspend
    waited = sandbox.cli("reconcile", "source", "one", "-p", world.project, "--wait", "--timeout", "5", check=False)
    # Issue 19: a freeze is not a failure; --wait names the held clusters and exits 0 (nothing is meant to change).
    assert waited.returncode == 0 and "held on every cluster" in waited.stdout and "db migration" in waited.stdout
    back = sandbox.cli("resume", "source", "one", "-p", world.project, check=False)
    assert (back.returncode == 0 or "no reconciler is running" in back.stderr) and not world.source("one").suspend
    unknown = sandbox.cli("resume", "source", "nope", "-p", world.project, check=False)
    assert unknown.returncode == 1 and "does not exist" in unknown.stderr
