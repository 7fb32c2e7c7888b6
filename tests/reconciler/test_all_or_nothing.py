"""All or nothing against the cluster: every changed object is dry-run on every cluster before the first write."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from gitops_tui.api import names
from gitops_tui.reconciler import preflight
from tests.gitserver import commit
from tests.world import CLUSTERS, World, assert_propagated, configmap

LONG_LABEL = "x" * 64


def labelled_configmap(name: str, value: str) -> str:
    """A ConfigMap whose label value is ``value`` (the API server allows at most 63 characters)."""
    return configmap(name).replace("metadata:\n", f"metadata:\n  labels:\n    tier: {value}\n")


def test_a_revision_the_api_server_rejects_applies_nothing_anywhere(world: World) -> None:
    repo = world.repo("reject", {"a.yaml": configmap("base")})
    world.create("reject", f"file://{repo}")
    world.reconcile("reject")
    good = f"main@sha1:{world.head(repo)}"
    assert_propagated(world, "reject", good)

    # "a-first" comes first in apply order; "z-second" has a label value of 64 characters.
    commit(repo, {"b.yaml": configmap("a-first"), "c.yaml": labelled_configmap("z-second", LONG_LABEL),
                  "a.yaml": configmap("base", "v2")})
    writes = world.writes.count()
    world.reconcile("reject")
    assert world.writes.count() == writes, "not one write for a revision a cluster rejects"
    ready = world.condition("reject", names.READY)
    assert ready["status"] == "False" and ready["reason"] == "DryRunFailed", ready
    assert f"ConfigMap {world.namespace}/z-second refused by " in ready["message"], ready["message"]
    assert "must be no more than 63 characters" in ready["message"], "the API server's own message"
    assert "nothing of the revision was applied" in ready["message"]
    rows = {c["name"]: c for c in world.status("reject")["clusters"]}
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "a-first") is None, f"a-first was written to {cluster}"
        assert world.get(cluster, "configmaps", "base")["data"] == {"value": "v1"}
        assert rows[cluster]["status"] == "DryRunFailed" and f"refused by {cluster}" in rows[cluster]["message"]
        assert rows[cluster]["lastAppliedRevision"] == good
        assert rows[cluster]["lastAttemptedRevision"] == f"main@sha1:{world.head(repo)}"
    assert world.status("reject")["lastAttemptedRevision"] == f"main@sha1:{world.head(repo)}"
    assert any(e["reason"] == "DryRunFailed" and "z-second" in e["message"] for e in world.events("reject"))

    commit(repo, {"c.yaml": labelled_configmap("z-second", "short")})
    world.reconcile("reject")
    assert_propagated(world, "reject", f"main@sha1:{world.head(repo)}")
    assert all(world.get(c, "configmaps", "a-first") for c in CLUSTERS)


def test_only_changed_objects_are_dry_run_again(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {f"cm{i}.yaml": configmap(f"cm{i}") for i in range(6)}
    repo = world.repo("hashes", files)
    world.create("hashes", f"file://{repo}")
    dry_runs: list[tuple[str, str]] = []
    lock = threading.Lock()
    real = preflight.apply_object

    def counting(dynamic: Any, obj: dict, **kwargs: Any) -> dict:
        with lock:
            dry_runs.append((obj["metadata"]["name"], str(kwargs.get("dry_run"))))
        return real(dynamic, obj, **kwargs)

    monkeypatch.setattr(preflight, "apply_object", counting)
    world.reconcile("hashes")
    assert len(dry_runs) == 6 * len(CLUSTERS) and {d for _, d in dry_runs} == {"True"}
    rows = world.status("hashes")["clusters"]
    assert all(len(i.get("h", "")) == 16 for row in rows for i in row["inventory"]), "each entry records its hash"

    dry_runs.clear()
    commit(repo, {"cm2.yaml": configmap("cm2", "v2"), "new.yaml": configmap("new")})
    world.reconcile("hashes")
    assert_propagated(world, "hashes", f"main@sha1:{world.head(repo)}")
    assert sorted(dry_runs) == sorted([("cm2", "True"), ("new", "True")] * len(CLUSTERS)), dry_runs
