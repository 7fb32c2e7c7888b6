"""Tests of the management API: names, CRD manifests, typed views and pure helpers."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml

from gitops_tui.api import builders, names
from gitops_tui.api.cluster import KubeFedCluster
from gitops_tui.api.conditions import find_condition, set_condition
from gitops_tui.api.crds import crd_manifests
from gitops_tui.api.formats import (
    ObjectRef,
    format_duration,
    format_inventory_id,
    format_revision,
    parse_duration,
    parse_inventory_id,
    parse_revision,
    short_revision,
)
from gitops_tui.api.journal_crd import KIND_JOURNAL_ENTRY
from gitops_tui.api.placement import placed_clusters, selector_matches
from gitops_tui.api.project import Project
from gitops_tui.api.secret import FederatedSecret
from gitops_tui.api.source import GitOpsSource, pair_sources
from gitops_tui.api.status import ClusterStatus, set_cluster_status

SHA = "0123456789abcdef0123456789abcdef01234567"


def _walk_schema(node: dict[str, Any], path: str) -> None:
    """Assert the structural-schema rules we rely on: every node typed, no mixed properties."""
    assert "type" in node, f"{path} has no type"
    assert not ("properties" in node and "additionalProperties" in node), path
    for key, child in (node.get("properties") or {}).items():
        _walk_schema(child, f"{path}.{key}")
    if isinstance(node.get("additionalProperties"), dict):
        _walk_schema(node["additionalProperties"], f"{path}.*")
    if "items" in node:
        _walk_schema(node["items"], f"{path}[]")


def test_crds_are_structural_with_status_and_columns() -> None:
    crds = crd_manifests()
    by_kind = {c["spec"]["names"]["kind"]: c for c in crds}
    journal = by_kind.pop(KIND_JOURNAL_ENTRY)  # no status: one record each, written once
    assert journal["metadata"]["name"] == "journalentries.gitops-tui.io" and journal["spec"]["scope"] == "Namespaced"
    alert = by_kind.pop(names.KIND_ALERT)  # no status, as Flux's Alert v1beta3: deliveries are told as Events
    assert alert["spec"]["scope"] == "Namespaced" and "subresources" not in alert["spec"]["versions"][0]
    assert set(by_kind) | {names.KIND_ALERT} == set(names.RESOURCES)
    for kind, crd in by_kind.items():
        group, version, plural = names.RESOURCES[kind]
        assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
        assert crd["metadata"]["name"] == f"{plural}.{group}"
        assert crd["spec"]["group"] == group
        (served,) = crd["spec"]["versions"]
        assert served["name"] == version and served["served"] and served["storage"]
        assert served["subresources"] == {"status": {}}
        columns = [c["name"] for c in served["additionalPrinterColumns"]]
        assert columns[-1] == "Age"
        _walk_schema(served["schema"]["openAPIV3Schema"], kind)
    assert by_kind["Project"]["spec"]["scope"] == "Cluster"
    assert by_kind["FederatedKustomization"]["spec"]["scope"] == "Namespaced"
    assert "fks" in by_kind["FederatedKustomization"]["spec"]["names"]["shortNames"]
    assert "fgr" in by_kind["FederatedGitRepository"]["spec"]["names"]["shortNames"]
    assert "kfc" in by_kind["KubeFedCluster"]["spec"]["names"]["shortNames"]
    ks_columns = [c["name"] for c in by_kind["FederatedKustomization"]["spec"]["versions"][0]["additionalPrinterColumns"]]
    assert {"Ready", "Suspended", "Revision"} <= set(ks_columns)
    # Status has the documented shape fields.
    status = by_kind["FederatedKustomization"]["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    assert {"observedGeneration", "conditions", "clusters"} <= set(status["properties"])
    # Manifests serialise to YAML (for `kubectl apply -f`) and are fresh copies.
    assert list(yaml.safe_load_all(yaml.safe_dump_all(crds))) == crds
    crds[0]["spec"]["group"] = "mutated"
    assert crd_manifests()[0]["spec"]["group"] == names.PROJECT_GROUP


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1m30s", 90.0), ("10m", 600.0), ("1h", 3600.0), ("500ms", 0.5), ("45", 45.0), ("2h1m1s", 7261.0), (30, 30.0)],
)
def test_parse_duration(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_parse_duration_rejects_garbage_unless_defaulted() -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration("5 minutes")
    assert parse_duration("5 minutes", default=60) == 60
    assert parse_duration(None, default=60) == 60
    assert format_duration(90) == "1m30s" and format_duration(3600) == "1h" and format_duration(0) == "0s"


def test_revisions() -> None:
    assert format_revision("main", SHA) == f"main@sha1:{SHA}"
    assert format_revision(None, SHA) == f"sha1:{SHA}"
    assert parse_revision(f"v1.2.0@sha1:{SHA}") == ("v1.2.0", SHA)
    assert parse_revision(f"sha1:{SHA}") == ("", SHA)
    assert parse_revision(f"main/{SHA}") == ("main", SHA)
    assert short_revision(f"main@sha1:{SHA}") == "main@0123456"


def test_inventory_ids_round_trip() -> None:
    assert format_inventory_id("demo", "podinfo", "apps", "Deployment") == "demo_podinfo_apps_Deployment"
    ref = parse_inventory_id("demo_podinfo__Service", "v1")
    assert ref == ObjectRef("demo", "podinfo", "", "Service", "v1")
    assert ref.api_version == "v1"
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "demo"}}
    entry = ObjectRef.from_object(obj).to_entry()
    assert entry == {"id": "demo_web_apps_Deployment", "v": "v1"}
    assert ObjectRef.from_entry(entry).api_version == "apps/v1"
    with pytest.raises(ValueError):
        parse_inventory_id("not-an-id")


def test_set_condition_keeps_transition_time_when_status_unchanged() -> None:
    conditions = set_condition([], names.READY, True, "Succeeded", "ok", now="2024-01-01T00:00:00Z")
    again = set_condition(conditions, names.READY, "True", "Succeeded", "still ok", now="2024-01-02T00:00:00Z")
    ready = find_condition(again, names.READY)
    assert ready is not None
    assert ready["lastTransitionTime"] == "2024-01-01T00:00:00Z"
    assert ready["lastUpdateTime"] == "2024-01-02T00:00:00Z"
    assert ready["message"] == "still ok"
    flipped = set_condition(again, names.READY, False, "BuildFailed", "bad", now="2024-01-03T00:00:00Z")
    assert find_condition(flipped, names.READY)["lastTransitionTime"] == "2024-01-03T00:00:00Z"
    assert find_condition(conditions, names.READY)["message"] == "ok", "input must not be mutated"
    both = set_condition(flipped, names.PROPAGATION, True, "Applied", "", observed_generation=3)
    assert [c["type"] for c in both] == [names.READY, names.PROPAGATION]
    assert both[1]["observedGeneration"] == 3


def _cluster(name: str, **labels: str) -> dict[str, Any]:
    return builders.new_kubefed_cluster(name, f"https://127.0.0.1/{name}", f"{name}-kubeconfig", labels=labels)


CLUSTERS = [_cluster("dev", env="dev"), _cluster("staging", env="staging"), _cluster("prod", env="prod", tier="1")]


def test_placement_by_names_and_selectors() -> None:
    # Issue 19: the placement's own order (a project's, here), not the alphabet.
    assert placed_clusters({"clusters": [{"name": "prod"}, {"name": "dev"}, {"name": "ghost"}]}, CLUSTERS) == ["prod", "dev"]
    assert placed_clusters({"clusters": [{"name": "ghost"}]}, CLUSTERS, include_unknown=True) == ["ghost"]
    assert placed_clusters({"clusters": []}, CLUSTERS) == []
    assert placed_clusters({"clusterSelector": {}}, CLUSTERS) == ["dev", "prod", "staging"]
    assert placed_clusters({"clusterSelector": {"matchLabels": {"env": "prod"}}}, CLUSTERS) == ["prod"]
    expr = {"matchExpressions": [{"key": "env", "operator": "In", "values": ["dev", "staging"]}]}
    assert placed_clusters({"clusterSelector": expr}, CLUSTERS) == ["dev", "staging"]
    notin = {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}
    assert placed_clusters({"clusterSelector": notin}, CLUSTERS) == ["dev", "staging"]
    # Names win over the selector (KubeFed).
    both = {"clusters": [{"name": "dev"}], "clusterSelector": {"matchLabels": {"env": "prod"}}}
    assert placed_clusters(both, CLUSTERS) == ["dev"]
    assert not selector_matches({"matchExpressions": [{"key": "a", "operator": "Bogus"}]}, {"a": "b"})


def test_placement_defaults_to_and_is_bounded_by_the_project() -> None:
    project = {"clusters": [{"name": "dev"}, {"name": "staging"}]}
    assert placed_clusters({}, CLUSTERS, project) == ["dev", "staging"]
    assert placed_clusters(None, CLUSTERS, project) == ["dev", "staging"]
    assert placed_clusters({"clusters": [{"name": "dev"}, {"name": "prod"}]}, CLUSTERS, project) == ["dev"]
    ordered = {"clusters": [{"name": "prod"}, {"name": "dev"}, {"name": "staging"}]}
    assert placed_clusters({"clusters": [{"name": "dev"}, {"name": "prod"}]}, CLUSTERS, ordered) == ["prod", "dev"], \
        "a source's clusters in its project's placement order"


def test_project_view() -> None:
    project = Project(builders.new_project("demo", ["dev", "prod"], display_name="Demo"))
    assert (project.name, project.namespace, project.display_name) == ("demo", "demo", "Demo")
    assert project.placement_clusters == ["dev", "prod"]
    assert project.cluster_selector is None
    bare = Project({"metadata": {"name": "x"}, "spec": {"placement": {"clusterSelector": {"matchLabels": {"a": "b"}}}}})
    assert bare.display_name == "x" and bare.cluster_selector == {"matchLabels": {"a": "b"}}


def test_kubefed_cluster_view_readiness() -> None:
    raw = _cluster("dev")
    view = KubeFedCluster(raw)
    assert (view.api_endpoint, view.secret_name, view.ready) == ("https://127.0.0.1/dev", "dev-kubeconfig", None)
    raw["status"] = {"conditions": set_condition([], names.READY, True, names.REASON_CLUSTER_READY, "/healthz responded ok")}
    assert KubeFedCluster(raw).ready is True
    raw["status"]["conditions"] = set_condition(
        raw["status"]["conditions"], names.OFFLINE, True, names.REASON_CLUSTER_NOT_REACHABLE, "connection refused"
    )
    view = KubeFedCluster(raw)
    assert view.ready is False and view.reason == names.REASON_CLUSTER_NOT_REACHABLE
    assert view.message == "connection refused"


def test_federated_secret_view_never_shows_values() -> None:
    raw = builders.new_federated_secret("git-auth", "demo", {"username": b"bob", "password": b"hunter2"}, clusters=["dev"])
    view = FederatedSecret(raw)
    assert view.keys == ["password", "username"]
    assert view.type == "Opaque" and view.placement_clusters == ["dev"]
    assert names.FINALIZER_PRUNE in view.finalizers
    assert base64.b64decode(raw["spec"]["template"]["data"]["password"]) == b"hunter2"
    assert "hunter2" not in repr(view) and "aHVudGVyMg" not in repr(view)


def test_gitops_source_view() -> None:
    repo, ks = builders.new_source(
        "podinfo", "demo", "https://example.com/podinfo.git", ref={"tag": "v1.2.0"},
        path="./deploy", secret_ref="git-auth", interval="1m30s", clusters=["dev"],
    )
    ks["metadata"]["annotations"] = builders.suspend_patch("alice", "incident 42", at="2024-01-01T00:00:00Z")["metadata"]["annotations"]
    ks["spec"]["template"]["spec"]["suspend"] = True
    ks["metadata"]["generation"] = 3
    repo["status"] = {"artifact": {"revision": f"v1.2.0@sha1:{SHA}", "lastUpdateTime": "2024-01-01T00:00:00Z"}}
    entry = ClusterStatus("dev", "", "Applied", f"v1.2.0@sha1:{SHA}", f"v1.2.0@sha1:{SHA}",
                          [{"id": "demo_podinfo_apps_Deployment", "v": "v1"}], "2024-01-01T00:00:00Z")
    ks["status"] = {
        "observedGeneration": 3,
        "conditions": set_condition([], names.PROPAGATION, True, "Applied", "applied to 1 cluster"),
        "clusters": set_cluster_status(set_cluster_status([], ClusterStatus("zeta", "BuildFailed")), entry),
    }
    source = GitOpsSource(repo, ks)
    assert (source.name, source.namespace, source.url) == ("podinfo", "demo", "https://example.com/podinfo.git")
    assert source.ref == {"tag": "v1.2.0"} and source.ref_display == "tag v1.2.0"
    assert (source.secret_ref, source.provider, source.path) == ("git-auth", "github", "./deploy")
    assert source.interval == 90.0 and source.timeout == 90.0 and source.prune is True
    assert source.suspend and source.suspended_by == "alice" and source.suspend_reason == "incident 42"
    assert source.suspended_at == "2024-01-01T00:00:00Z"
    assert source.target_clusters == ["dev"]
    assert source.artifact_revision == f"v1.2.0@sha1:{SHA}"
    assert source.observed_generation == source.generation == 3
    assert source.condition(names.PROPAGATION).is_true
    assert [c.name for c in source.clusters] == ["dev", "zeta"]
    dev = source.cluster("dev")
    assert dev == entry and dev.inventory_refs[0].kind == "Deployment"
    assert source.resolve_clusters(CLUSTERS) == ["dev"]


def test_resume_patch_clears_annotations_and_requests_reconcile() -> None:
    patch = builders.resume_patch(at="2024-01-01T00:00:00Z")
    annotations = patch["metadata"]["annotations"]
    assert all(annotations[key] is None for key in names.SUSPEND_ANNOTATIONS)
    assert annotations[names.ANNOTATION_REQUESTED_AT] == "2024-01-01T00:00:00Z"
    assert patch["spec"]["template"]["spec"]["suspend"] is False


def test_pair_sources_keeps_unpaired() -> None:
    repo_a, ks_a = builders.new_source("a", "demo", "file:///a")
    repo_b, _ = builders.new_source("b", "demo", "file:///b")
    sources = pair_sources([repo_b, repo_a], [ks_a])
    assert [(s.name, s.complete) for s in sources] == [("a", True), ("b", False)]
    assert sources[1].path == "./" and sources[1].interval == 60.0 and sources[1].ref == {"branch": "main"}
