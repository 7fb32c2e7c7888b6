"""Per-cluster overrides against the sandbox: a JSON 6902 patch and Helm values on one cluster, shown by diff and tree; a
patch that does not apply refuses that cluster only; a member's override is untrusted input that escapes no wall."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from gitops_tui import journal
from gitops_tui.actions import overrides as actions
from gitops_tui.actions.sources import SourceActionError, diff_source
from gitops_tui.actions.state import read_source
from gitops_tui.api import names
from gitops_tui.backends.tree import read_tree
from gitops_tui.kube.client import json_request
from tests.gitserver import commit
from tests.helm.charts import write_chart
from tests.world import CLUSTERS, World, configmap, deployment

REPLICAS_3 = [{"op": "replace", "path": "/spec/replicas", "value": 3}]


def _fk_path(world: World, name: str) -> str:
    return f"/apis/{names.TYPES_GROUP}/{names.TYPES_VERSION}/namespaces/{world.namespace}/federatedkustomizations/{name}"


def _member_overrides(world: World, name: str, items: list[dict[str, Any]]) -> None:
    """A project member writes spec.overrides with kubectl (field manager kubectl-patch): no operator's record."""
    json_request(world.api, "PATCH", _fk_path(world, name), {"spec": {"overrides": items}},
                 content_type="application/merge-patch+json", query={"fieldManager": "kubectl-patch"})


def _replicas(world: World) -> tuple[int, ...]:
    return tuple(world.get(c, "deployments", "web")["spec"]["replicas"] for c in CLUSTERS)


def _web(world: World, name: str = "ovr") -> Any:
    repo = world.repo(name, {"web.yaml": deployment("web"), "cm.yaml": configmap("cfg", "v1")})
    world.create(name, f"file://{repo}")
    world.reconcile(name)
    assert _replicas(world) == (1, 1, 1)
    return repo


def test_a_json_patch_on_prod_only_shown_by_diff_and_tree(world: World) -> None:
    _web(world)
    done = actions.set_override(world.api, world.project, "ovr", "prod", target="Deployment/web", patch=REPLICAS_3,
                                reason="prod needs three", actor="alice")
    assert done.verified and done.paths == ["/spec/replicas"]
    world.reconcile("ovr")
    assert _replicas(world) == (1, 1, 3), "only prod is patched"
    world.reconcile("ovr")
    assert _replicas(world) == (1, 1, 3), "the override is no drift: it is not reverted"

    state = read_source(world.api, world.project, "ovr").state
    (item,) = state.overrides
    assert (item.cluster, item.target, item.verified, item.by, item.reason) == (
        "prod", "Deployment/web", True, "alice", "prod needs three")
    report = diff_source(world.api, world.project, "ovr", world.tmp / "diff")
    assert not report.drifted and not report.failed
    assert report.overridden == {"prod": {f"Deployment {world.namespace}/web": ["/spec/replicas"]}}
    tree = read_tree(world.api, world.project, "ovr", world.tmp / "tree")
    by_cluster = {c.name: {o.name: o for o in c.objects} for c in tree.clusters}
    assert by_cluster["prod"]["web"].overridden == ["/spec/replicas"] and by_cluster["prod"]["web"].drift == ""
    assert by_cluster["dev"]["web"].overridden == []
    entry = [e for e in journal.list_entries(world.api, project=world.project) if e.action == "override"][-1]
    assert entry.actor == "alice" and entry.clusters == ["prod"] and entry.identity.get("verified") is True
    assert entry.objects == ["Deployment/web: /spec/replicas"] and entry.reason == "prod needs three"

    gone = actions.remove_override(world.api, world.project, "ovr", "prod", reason="back to one", actor="alice")
    assert gone == ["prod/Deployment/web"]
    world.reconcile("ovr")
    assert _replicas(world) == (1, 1, 1)


def test_a_patch_that_does_not_apply_refuses_prod_only_and_names_the_path(world: World) -> None:
    repo = _web(world, "bad")
    actions.set_override(world.api, world.project, "bad", "prod", target="ConfigMap/cfg",
                         patch=[{"op": "replace", "path": "/data/colour", "value": "red"}], reason="typo", actor="bob")
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.reconcile("bad")
    values = tuple(world.get(c, "configmaps", "cfg")["data"]["value"] for c in CLUSTERS)
    assert values == ("v2", "v2", "v1"), "dev and staging go on; nothing of the revision is applied on prod"
    entries = {e["name"]: e for e in world.status("bad")["clusters"]}
    assert entries["prod"]["status"] == "OverrideFailed"
    assert "ConfigMap" in entries["prod"]["message"] and "/data/colour" in entries["prod"]["message"]
    assert "the path does not exist" in entries["prod"]["message"]
    assert entries["dev"]["status"] == "" and entries["staging"]["status"] == ""
    ready = world.condition("bad", "Ready")
    assert ready["status"] == "False" and "prod" in ready["message"] and "dev:" not in ready["message"]
    assert any(e["reason"] == "OverrideFailed" for e in world.events("bad"))
    report = diff_source(world.api, world.project, "bad", world.tmp / "diff")
    assert [c.cluster for c in report.clusters if c.error] == ["prod"]


def test_an_operators_bad_override_is_refused_before_it_is_recorded(world: World) -> None:
    _web(world, "walls")
    for patch, words in (([{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}], "may not change"),
                         ([{"op": "replace", "path": "/kind", "value": "ClusterRole"}], "may not change"),
                         ([{"op": "remove", "path": "/metadata/labels/gitops-tui.io~1project"}], "may not change"),
                         ([{"op": "jump", "path": "/spec"}], "is not a JSON patch operation")):
        with pytest.raises(SourceActionError) as refused:
            actions.set_override(world.api, world.project, "walls", "prod", target="Deployment/web", patch=patch,
                                 reason="x")
        assert words in str(refused.value)
    with pytest.raises(SourceActionError, match="is not one of the clusters"):
        actions.set_override(world.api, world.project, "walls", "moon", target="Deployment/web", patch=REPLICAS_3,
                             reason="x")
    with pytest.raises(SourceActionError, match="a reason is required"):
        actions.set_override(world.api, world.project, "walls", "prod", target="Deployment/web", patch=REPLICAS_3,
                             reason="")
    assert not world.source("walls").kustomization["spec"].get("overrides"), "nothing was recorded"


def test_a_members_override_is_applied_as_untrusted_input_and_escapes_no_wall(world: World) -> None:
    _web(world, "member")
    _member_overrides(world, "member", [
        {"clusterName": "staging", "target": {"kind": "Deployment", "name": "web"}, "by": "mallory",
         "clusterOverrides": [{"op": "replace", "path": "/spec/replicas", "value": 2}]},
        {"clusterName": "prod", "target": {"kind": "ConfigMap", "name": "cfg"},
         "clusterOverrides": [{"op": "replace", "path": "/metadata/namespace", "value": "kube-system"}]},
        {"clusterName": "dev", "target": {"kind": "ConfigMap", "name": "cfg"},
         "clusterOverrides": [{"op": "add", "path": "/data/big", "value": "x" * (1024 * 1024 + 10)}]},
    ])
    world.reconcile("member")
    entries = {e["name"]: e for e in world.status("member")["clusters"]}
    assert _replicas(world)[1] == 2, "a member's own override is applied (as the project, inside the walls)"
    assert entries["prod"]["status"] == "OverrideFailed" and "may not change" in entries["prod"]["message"]
    assert world.get("prod", "configmaps", "cfg") is not None
    assert entries["dev"]["status"] == "LimitExceeded" and "1 MiB" in entries["dev"]["message"]
    assert "big" not in (world.get("dev", "configmaps", "cfg") or {}).get("data", {})
    assert entries["staging"]["status"] == ""

    state = read_source(world.api, world.project, "member").state
    assert [(o.cluster, o.verified, o.by) for o in state.overrides] == [("staging", False, "mallory"),
                                                                       ("dev", False, "")]
    world.reconcile("member")
    found = [e for e in journal.list_entries(world.api, project=world.project)
             if e.action == "override" and e.source == "member"]
    assert len(found) == 2, "each member override is journaled once"
    assert all(e.identity.get("verified") is False and e.identity.get("user") == "kubectl-patch" for e in found)
    assert {e.actor for e in found} == {"mallory", "kubectl-patch"}


def _chart_repo(world: World) -> Any:
    repo = world.repo("charts", {"deploy/release.yaml": yaml.safe_dump({
        "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "shop"},
        "spec": {"interval": "5m", "releaseName": "shop", "values": {"greeting": "hello"},
                 "chart": {"spec": {"chart": "./charts/web", "sourceRef": {"kind": "GitRepository",
                                                                           "name": "charts"}}}}})})
    write_chart(repo / "charts", version="0.1.0", app_version="1.0.0")
    commit(repo, {}, "chart")
    return repo


def test_helm_values_for_one_clusters_releases(world: World, tmp_path: Any) -> None:
    repo = _chart_repo(world)
    world.create("charts", f"file://{repo}", path="./deploy")
    world.reconcile("charts")
    assert [world.get(c, "deployments", "shop-web")["spec"]["replicas"] for c in CLUSTERS] == [1, 1, 1]
    values = tmp_path / "prod-values.yaml"
    values.write_text("replicaCount: 4\ngreeting: bonjour\n")
    done = actions.set_override(world.api, world.project, "charts", "prod", values=actions.read_values(str(values)),
                                reason="prod capacity", actor="carol")
    assert done.target == "HelmRelease/*" and done.paths == ["/spec/values"]
    world.reconcile("charts")
    assert [world.get(c, "deployments", "shop-web")["spec"]["replicas"] for c in CLUSTERS] == [1, 1, 4]
    assert world.get("prod", "configmaps", "shop-greeting")["data"] == {"greeting": "bonjour"}
    assert world.get("dev", "configmaps", "shop-greeting")["data"] == {"greeting": "hello"}
    tree = read_tree(world.api, world.project, "charts", world.tmp / "tree")
    prod = next(c for c in tree.clusters if c.name == "prod")
    assert any(o.kind == "HelmRelease" and o.overridden == ["/spec/values"] for o in prod.objects)
    report = diff_source(world.api, world.project, "charts", world.tmp / "diff")
    assert report.overridden == {"prod": {f"HelmRelease {world.namespace}/shop": ["/spec/values"]}}

    # A member's override pointing dev's release at another namespace's source escapes no reference check.
    items = world.source("charts").kustomization["spec"]["overrides"]
    _member_overrides(world, "charts", [*items, {
        "clusterName": "dev", "target": {"kind": "HelmRelease", "name": "shop"},
        "clusterOverrides": [{"op": "add", "path": "/spec/chart/spec/sourceRef/namespace", "value": "other-team"}]}])
    world.reconcile("charts")
    entries = {e["name"]: e for e in world.status("charts")["clusters"]}
    assert entries["dev"]["status"] == "AccessDenied" and "other-team" in entries["dev"]["message"]
    assert entries["prod"]["status"] == "" and entries["staging"]["status"] == ""
