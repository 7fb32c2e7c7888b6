"""Who changed an object (foreign_change) and what the reconciler last established about it (AppliedCache)."""

from __future__ import annotations

from typing import Any

from gitops_tui.reconciler.applied_cache import AppliedCache
from gitops_tui.reconciler.drift_watch import foreign_change


def obj(version: str, replicas: int, *entries: tuple[str, str, str, str], status: int = 0) -> dict[str, Any]:
    """A Deployment at ``version`` with managedFields (manager, operation, subresource, time)."""
    managed = [{"manager": m, "operation": op, "subresource": sub, "time": t, "apiVersion": "apps/v1",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}} for m, op, sub, t in entries]
    for entry in managed:
        if not entry["subresource"]:
            del entry["subresource"]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "p", "resourceVersion": version, "managedFields": managed},
            "spec": {"replicas": replicas}, "status": {"readyReplicas": status}}


OURS = ("gitops-tui", "Apply", "", "2026-12-01T00:00:00Z")


def test_a_scale_through_the_subresource_is_foreign() -> None:
    old = obj("1", 2, OURS)
    scaled = obj("2", 5, OURS, ("kubectl", "Update", "scale", "2026-12-01T00:00:05Z"))
    assert foreign_change(old, scaled)


def test_an_edit_by_the_same_manager_again_is_foreign() -> None:
    first = obj("2", 5, OURS, ("kubectl-edit", "Update", "", "2026-12-01T00:00:05Z"))
    second = obj("3", 7, OURS, ("kubectl-edit", "Update", "", "2026-12-01T00:00:09Z"))
    assert foreign_change(first, second)


def test_our_own_apply_and_status_updates_are_not() -> None:
    old = obj("1", 2, OURS)
    assert not foreign_change(old, obj("2", 3, ("gitops-tui", "Apply", "", "2026-12-01T00:01:00Z")))
    with_status = obj("3", 2, OURS, ("kube-controller-manager", "Update", "status", "2026-12-01T00:01:00Z"), status=2)
    assert not foreign_change(old, with_status)


def test_a_change_nobody_can_be_named_for_is_foreign() -> None:
    assert foreign_change(obj("1", 2, OURS), obj("2", 9, OURS))
    assert not foreign_change(obj("1", 2, OURS), obj("2", 2, OURS))
    assert foreign_change(None, obj("1", 2, ("kubectl-create", "Update", "", "t")))


def test_an_answer_recorded_after_the_watch_saw_later_changes_is_carried_to_them() -> None:
    """The watch may deliver our write (and a status update after it) before the apply's answer is recorded."""
    cache = AppliedCache()
    cache.carry("dev", "id", "1", "2")  # our apply's event: nothing recorded yet
    cache.carry("dev", "id", "2", "3")  # the controller's status update
    cache.record("dev", "id", "1", clean=True)
    assert cache.checked("dev", "id").resource_version == "3"
    cache.carry("dev", "id", "3", "4")
    assert cache.checked("dev", "id").resource_version == "4"
    cache.carry("dev", "id", "9", "10")  # from a version never recorded: nothing carried
    assert cache.checked("dev", "id").resource_version == "4"


def test_the_full_pass_is_due_until_done_then_after_the_resync_period() -> None:
    now = [100.0]
    cache = AppliedCache(clock=lambda: now[0])
    assert cache.full_pass_due("dev", "p", "web", 3600)
    cache.full_pass_done("dev", "p", "web")
    now[0] += 3599
    assert not cache.full_pass_due("dev", "p", "web", 3600)
    now[0] += 1
    assert cache.full_pass_due("dev", "p", "web", 3600)
    cache.forget_cluster("dev")
    assert cache.full_pass_due("dev", "p", "web", 1e9)
