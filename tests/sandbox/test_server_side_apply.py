"""Server-side apply fidelity end to end: the real sandbox server, kubectl and the Python client."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from kubernetes.dynamic.exceptions import ApiException, ConflictError

NS = "ssa"


def deployment(name: str, containers: list[dict[str, Any]] | None = None, *,
               labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
               **spec: Any) -> dict[str, Any]:
    """A Deployment apply configuration in namespace ssa."""
    metadata: dict[str, Any] = {"name": name, "namespace": NS}
    if labels:
        metadata["labels"] = labels
    if annotations:
        metadata["annotations"] = annotations
    body: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
                            "spec": dict(spec)}
    if containers is not None:
        body["spec"]["template"] = {"metadata": {"labels": {"app": name}},
                                    "spec": {"containers": containers}}
        body["spec"].setdefault("selector", {"matchLabels": {"app": name}})
    return body


@pytest.fixture(scope="module")
def deployments(dynamic_client: Any, kubectl: Any) -> Any:
    """The apps/v1 Deployment resource, with namespace ssa created."""
    kubectl("create", "namespace", NS)
    return dynamic_client.resources.get(api_version="apps/v1", kind="Deployment")


def ssa(resource: Any, body: dict[str, Any], manager: str, force: bool = False,
        **kwargs: Any) -> dict[str, Any]:
    """Server-side apply through the official client's DynamicClient; the result as a dict."""
    result = resource.server_side_apply(body=body, namespace=NS, field_manager=manager,
                                        force_conflicts=force or None, **kwargs)
    return result.to_dict()


def get(resource: Any, name: str) -> dict[str, Any]:
    """The live object."""
    return resource.get(name=name, namespace=NS).to_dict()


def fields_of(obj: dict[str, Any], manager: str, operation: str = "Apply") -> dict[str, Any]:
    """The fieldsV1 of ``manager``'s entry."""
    entries = [e for e in obj["metadata"].get("managedFields") or []
               if e["manager"] == manager and e["operation"] == operation]
    assert len(entries) == 1, obj["metadata"].get("managedFields")
    assert entries[0]["fieldsType"] == "FieldsV1"
    return entries[0]["fieldsV1"]


def names(obj: dict[str, Any]) -> list[str]:
    """Container names of the pod template."""
    return [c["name"] for c in obj["spec"]["template"]["spec"]["containers"]]


def test_two_managers_conflicts_force_drop_and_sidecar(deployments: Any) -> None:
    main = {"name": "main", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
    alice = deployment("web", [main], replicas=2, annotations={"owner": "alice"})
    created = ssa(deployments, alice, "alice")
    assert created["spec"]["replicas"] == 2
    assert fields_of(created, "alice")["f:spec"]["f:template"]["f:spec"]["f:containers"] == {
        'k:{"name":"main"}': {".": {}, "f:image": {}, "f:name": {}, "f:ports": {
            'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}}}}

    # bob owns other fields of the same Deployment: a label and a sidecar container
    bob = deployment("web", labels={"team": "blue"})
    bob["spec"] = {"template": {"spec": {"containers": [{"name": "envoy", "image": "envoy:1"}]}}}
    both = ssa(deployments, bob, "bob")
    assert names(both) == ["main", "envoy"]
    assert both["metadata"]["labels"] == {"team": "blue"}
    assert fields_of(both, "bob") == {
        "f:metadata": {"f:labels": {"f:team": {}}},
        "f:spec": {"f:template": {"f:spec": {"f:containers": {
            'k:{"name":"envoy"}': {".": {}, "f:image": {}, "f:name": {}}}}}}}
    assert "f:replicas" in fields_of(both, "alice")["f:spec"]

    # a third manager setting a conflicting value gets 409 naming the fields
    carol = deployment("web", replicas=5)
    carol["spec"]["template"] = {"spec": {"containers": [{"name": "envoy", "image": "envoy:2"}]}}
    with pytest.raises(ConflictError) as raised:
        ssa(deployments, carol, "carol")
    status = json.loads(raised.value.body)
    assert status["kind"] == "Status" and status["code"] == 409 and status["reason"] == "Conflict"
    assert status["message"].startswith("Apply failed with 2 conflicts:")
    causes = {(c["reason"], c["field"], c["message"]) for c in status["details"]["causes"]}
    assert causes == {
        ("FieldManagerConflict", ".spec.replicas", 'conflict with "alice"'),
        ("FieldManagerConflict", '.spec.template.spec.containers[name="envoy"].image',
         'conflict with "bob"'),
    }
    unchanged = get(deployments, "web")
    assert unchanged["spec"]["replicas"] == 2
    assert unchanged["metadata"]["resourceVersion"] == both["metadata"]["resourceVersion"]

    # the same value as another manager is shared ownership, no conflict
    shared = ssa(deployments, deployment("web", replicas=2), "dave")
    assert "f:replicas" in fields_of(shared, "alice")["f:spec"]
    assert fields_of(shared, "dave") == {"f:spec": {"f:replicas": {}}}

    # force moves ownership to carol
    forced = ssa(deployments, carol, "carol", force=True)
    assert forced["spec"]["replicas"] == 5
    assert forced["spec"]["template"]["spec"]["containers"][1]["image"] == "envoy:2"
    assert "f:replicas" not in fields_of(forced, "alice")["f:spec"]
    assert "dave" not in [e["manager"] for e in forced["metadata"]["managedFields"]]
    envoy = fields_of(forced, "bob")["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert envoy == {'k:{"name":"envoy"}': {".": {}, "f:name": {}}}

    # alice re-applies listing only the main container and without her annotation:
    # the sidecar (owned by bob and carol) survives, the annotation only she owned is gone
    alice_again = deployment("web", [dict(main, image="nginx:1.28")])
    after = ssa(deployments, alice_again, "alice")
    assert names(after) == ["main", "envoy"]
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert "owner" not in (after["metadata"].get("annotations") or {})
    assert after["spec"]["replicas"] == 5  # owned by carol, not dropped
    live = get(deployments, "web")
    assert names(live) == ["main", "envoy"] and "annotations" not in live["metadata"]


def test_kubectl_server_side_apply_with_and_without_force(deployments: Any, kubectl: Any) -> None:
    main = {"name": "main", "image": "nginx:1"}
    manifest = yaml.safe_dump(deployment("api", [main], replicas=1))
    created = kubectl("apply", "--server-side", "-f", "-", input=manifest)
    assert "serverside-applied" in created.stdout
    live = get(deployments, "api")
    assert [e["manager"] for e in live["metadata"]["managedFields"]] == ["kubectl"]

    # an imperative change by another manager (an Update entry)
    kubectl("patch", "deployment", "api", "-n", NS, "--type=merge",
            "-p", '{"spec":{"replicas":3}}', "--field-manager=hotfix")
    patched = get(deployments, "api")
    assert fields_of(patched, "hotfix", "Update") == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in fields_of(patched, "kubectl")["f:spec"]

    refused = kubectl("apply", "--server-side", "-f", "-", input=manifest, check=False)
    assert refused.returncode != 0
    assert ('Apply failed with 1 conflict: conflict with "hotfix" using apps/v1: .spec.replicas'
            in refused.stderr)
    assert get(deployments, "api")["spec"]["replicas"] == 3

    forced = kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=manifest)
    assert "serverside-applied" in forced.stdout
    live = get(deployments, "api")
    assert live["spec"]["replicas"] == 1
    assert "hotfix" not in [e["manager"] for e in live["metadata"]["managedFields"]]

    # dropping a field that only this manager owns removes it; kube-apiserver then defaults it again
    # (apps/v1 DeploymentSpec.replicas is `+default=1`, zz_generated.defaults.go), owned by no one
    manifest2 = yaml.safe_dump(deployment("api", [main]))
    kubectl("apply", "--server-side", "-f", "-", input=manifest2)
    dropped = get(deployments, "api")
    assert dropped["spec"]["replicas"] == 1, dropped["spec"]
    assert "f:replicas" not in fields_of(dropped, "kubectl")["f:spec"]


def test_dry_run_all_persists_nothing(deployments: Any, kubectl: Any) -> None:
    body = deployment("dry", [{"name": "main", "image": "nginx:1"}], replicas=1)
    preview = ssa(deployments, body, "gitops", dry_run="All")
    assert preview["metadata"]["name"] == "dry" and preview["spec"]["replicas"] == 1
    with pytest.raises(ApiException) as missing:
        get(deployments, "dry")
    assert missing.value.status == 404

    live = ssa(deployments, body, "gitops")
    body2 = deployment("dry", [{"name": "main", "image": "nginx:2"}], replicas=4)
    preview = ssa(deployments, body2, "gitops", dry_run="All")
    assert preview["spec"]["replicas"] == 4
    after = get(deployments, "dry")
    assert after["spec"]["replicas"] == 1
    assert after["metadata"]["resourceVersion"] == live["metadata"]["resourceVersion"]
    assert after["metadata"]["managedFields"] == live["metadata"]["managedFields"]

    # a conflicting dry run reports the conflict and still writes nothing
    with pytest.raises(ConflictError):
        ssa(deployments, deployment("dry", replicas=9), "other", dry_run="All")
    server_dry = kubectl("apply", "--server-side", "--force-conflicts", "--dry-run=server",
                         "-f", "-", input=yaml.safe_dump(body2))
    assert "server dry run" in server_dry.stdout
    assert get(deployments, "dry")["metadata"]["resourceVersion"] == \
        live["metadata"]["resourceVersion"]


def test_patch_types_keep_keyed_lists_and_record_managers(deployments: Any, kubectl: Any) -> None:
    ssa(deployments, deployment("pt", [{"name": "main", "image": "a",
                                        "env": [{"name": "A", "value": "1"}]}]), "gitops")
    strategic = {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "env": [{"name": "B", "value": "2"}]},
        {"name": "side", "image": "s"}]}}}}
    kubectl("patch", "deployment", "pt", "-n", NS, "-p", json.dumps(strategic))
    live = get(deployments, "pt")
    assert names(live) == ["main", "side"]
    assert live["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    side = fields_of(live, "kubectl-patch", "Update")["f:spec"]["f:template"]["f:spec"]
    assert 'k:{"name":"side"}' in side["f:containers"]
    # the applier re-applies listing only its main container: the patched-in sidecar survives
    again = ssa(deployments, deployment("pt", [{"name": "main", "image": "b",
                                                "env": [{"name": "A", "value": "1"}]}]), "gitops")
    assert names(again) == ["main", "side"]
    assert again["spec"]["template"]["spec"]["containers"][0]["image"] == "b"

    kubectl("patch", "deployment", "pt", "-n", NS, "--type=json", "-p", json.dumps([
        {"op": "test", "path": "/spec/template/spec/containers/1/name", "value": "side"},
        {"op": "remove", "path": "/spec/template/spec/containers/1"}]))
    assert names(get(deployments, "pt")) == ["main"]
    failed = kubectl("patch", "deployment", "pt", "-n", NS, "--type=json", "-p", json.dumps([
        {"op": "test", "path": "/spec/template/spec/containers/0/image", "value": "zzz"}]),
        check=False)
    assert failed.returncode != 0 and "test operation failed" in failed.stderr

    kubectl("patch", "deployment", "pt", "-n", NS, "--type=merge",
            "-p", '{"metadata":{"labels":{"x":"y"}}}')
    assert get(deployments, "pt")["metadata"]["labels"] == {"x": "y"}


def test_status_is_applied_only_through_its_subresource(deployments: Any) -> None:
    body = deployment("st", [{"name": "main", "image": "nginx:1"}])
    body["status"] = {"replicas": 42}
    created = ssa(deployments, body, "gitops")
    assert (created.get("status") or {}).get("replicas") != 42
    assert "f:status" not in fields_of(created, "gitops")

    status = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "st", "namespace": NS},
              "status": {"replicas": 1, "conditions": [{"type": "Available", "status": "True"}]}}
    deployments.subresources["status"].server_side_apply(
        body=status, namespace=NS, field_manager="simulator")
    live = get(deployments, "st")
    assert live["status"]["replicas"] == 1
    entry = [e for e in live["metadata"]["managedFields"] if e["manager"] == "simulator"]
    assert len(entry) == 1 and entry[0]["subresource"] == "status"
    assert entry[0]["fieldsV1"] == {"f:status": {"f:conditions": {
        'k:{"type":"Available"}': {".": {}, "f:status": {}, "f:type": {}}}, "f:replicas": {}}}
    assert "f:status" not in fields_of(live, "gitops")
