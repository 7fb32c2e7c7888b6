"""The dry-run diff names the manager of each changed field, subresource writers included."""

from __future__ import annotations

from gitops_tui.kube.diff import compare


def _deployment(replicas: int, managed: list[dict]) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "demo", "managedFields": managed},
        "spec": {"replicas": replicas},
        "status": {"readyReplicas": replicas},
    }


def test_scale_subresource_writer_is_named() -> None:
    managed = [
        {"manager": "gitops-tui", "operation": "Apply", "fieldsV1": {"f:spec": {"f:selector": {}}}},
        {"manager": "kubectl", "operation": "Update", "subresource": "scale", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        {"manager": "simulator", "operation": "Update", "subresource": "status", "fieldsV1": {"f:status": {"f:readyReplicas": {}}}},
    ]
    drift = compare(_deployment(5, managed), _deployment(2, []))
    assert drift is not None
    assert [(f.path, f.live, f.desired, f.managers) for f in drift.fields] == [(".spec.replicas", 5, 2, ["kubectl"])]


def test_equal_objects_have_no_drift() -> None:
    assert compare(_deployment(2, []), _deployment(2, [])) is None


def test_secret_values_are_masked_in_a_diff() -> None:
    def secret(data: dict) -> dict:
        return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "demo"}, "data": data}

    drift = compare(secret({"password": "aHVudGVyMg==", "user": "Ym9i"}), secret({"password": "c2VjcmV0"}))
    assert drift is not None
    assert [(f.path, f.live, f.desired) for f in drift.fields] == [
        (".data.password", "***", "***"), (".data.user", "***", None)]
    assert "aHVudGVyMg" not in str(drift.to_dict()) and "Ym9i" not in str(drift.to_dict())
    drift = compare(secret({}) | {"data": None}, secret({"token": "dG9rZW4="}))
    assert drift is not None and [(f.path, f.live, f.desired) for f in drift.fields] == [(".data", None, "***")]
