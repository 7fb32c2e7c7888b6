"""References are names, checked and typed (issue 18, attacks A and K), reproduced as an attacker would try them.

The attacker can only push to its own project's repository (project alpha), or write its own project's
sources as a member. Project beta has its own Secret and its own private repository; the stored kubeconfig of
each workload cluster lives in kube-federation-system. Before the fix, a reference name with ``..`` was pasted
into a request path and read beta's Secret, the kubeconfig, or sent beta's git credentials away; a dependsOn on
another namespace told whether beta's release existed and was ready.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.kube.client import json_request
from gitops_tui.kube.outbound import FetchPolicy
from tests.gitserver import commit
from tests.listener import CountingListener
from tests.world import CLUSTERS, World, configmap

KS = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"


def kustomization(name: str, path: str, spec: dict[str, Any] | None = None, source: str = "flux-system") -> str:
    """A Flux Kustomization (namespace flux-system, as Flux's bootstrap writes them)."""
    body = {"interval": "5m", "path": path, "prune": True, "sourceRef": {"kind": "GitRepository", "name": source},
            **(spec or {})}
    return yaml.safe_dump({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                           "metadata": {"name": name, "namespace": "flux-system"}, "spec": body}, sort_keys=False)


def put_secret(world: World, name: str, data: dict[str, str]) -> None:
    """A core Secret in the project's namespace on the management cluster (as the project's members keep them)."""
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": world.namespace},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}
    json_request(world.api, "POST", f"/api/v1/namespaces/{world.namespace}/secrets", body)


def ready(world: World, name: str) -> dict[str, Any]:
    """The Ready condition of a source."""
    return world.condition(name, names.READY)


def nothing_leaked(world: World, secret_value: str, *sources: str) -> None:
    """No cluster holds the ConfigMap ``leak``; the value is in no condition or Event of the sources."""
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "leak") is None, cluster
    for name in sources:
        assert secret_value not in str(world.status(name)), name
        assert all(secret_value not in str(e.get("message")) for e in world.events(name)), name


def assert_one_sentence(cond: dict[str, Any]) -> None:
    """A refusal the operator can read: one line, naming the field and what is wrong."""
    assert cond["status"] == "False", cond
    assert "\n" not in cond["message"] and len(cond["message"]) < 700, cond["message"]


@pytest.mark.parametrize("target", ["beta", "kubeconfig"])
def test_substitute_from_cannot_read_another_namespace(world: World, beta: World, target: str) -> None:
    """``postBuild.substituteFrom`` naming beta's Secret, or the stored kubeconfig of dev, through ``..``."""
    loot = f"beta-hunter2-{uuid.uuid4().hex[:8]}"
    put_secret(beta, "beta-db", {"password": loot})
    name = (f"../../{beta.namespace}/secrets/beta-db" if target == "beta"
            else f"../../{names.FEDERATION_NAMESPACE}/secrets/dev-kubeconfig")
    spec = {"postBuild": {"substituteFrom": [{"kind": "Secret", "name": name}]}}
    repo = world.repo("flux", {"clusters/apps.yaml": kustomization("apps", "./apps", spec),
                               "apps/leak.yaml": configmap("leak", "${password}${kubeconfig}")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    if world.source("apps").kustomization is not None:  # the attack's next step, had the revision been taken
        world.reconcile("apps")
    nothing_leaked(world, loot, "root")

    cond = ready(world, "root")
    assert cond["reason"] == "ValidationFailed", cond
    assert cond["message"].startswith(
        f'Kustomization/apps in clusters/apps.yaml: spec.postBuild.substituteFrom[0].name: Invalid value: "{name}": '
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters"), cond["message"]
    assert_one_sentence(cond)
    assert world.source("apps").kustomization is None, "a refused revision makes no child"
    assert world.writes.count() == 0, "nothing is applied"
    nothing_leaked(world, loot, "root")


def test_a_member_writing_the_childs_reference_by_hand_is_refused_too(world: World, beta: World) -> None:
    """The child's FederatedKustomization is a member's write: its substituteFrom is checked where it is used."""
    loot = f"beta-hunter2-{uuid.uuid4().hex[:8]}"
    put_secret(beta, "beta-db", {"password": loot})
    spec = {"postBuild": {"substituteFrom": [{"kind": "Secret", "name": "vars", "optional": True}]}}
    repo = world.repo("flux", {"clusters/apps.yaml": kustomization("apps", "./apps", spec),
                               "apps/leak.yaml": configmap("leak", "x${password}")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    assert world.source("apps").kustomization is not None
    world.patch_spec(names.KIND_FEDERATED_KUSTOMIZATION, "apps", {"postBuild": {"substituteFrom": [
        {"kind": "Secret", "name": f"../../{beta.namespace}/secrets/beta-db"}]}})
    world.reconcile("apps")
    cond = ready(world, "apps")
    assert cond["reason"] == "ValidationFailed" and "spec.postBuild.substituteFrom[0].name: Invalid value" in cond[
        "message"], cond
    assert_one_sentence(cond)
    nothing_leaked(world, loot, "apps")


def test_secret_ref_cannot_send_another_projects_git_credentials_away(world: World, beta: World) -> None:
    """A tenant's GitRepository with beta's git credentials (through ``..``) and a URL of the attacker's choosing."""
    password = f"beta-git-{uuid.uuid4().hex[:8]}"
    put_secret(beta, "beta-git", {"username": "git", "password": password})
    listener = CountingListener().start()
    try:
        # Even with the attacker's URL allowed by the operator, the reference alone is refused.
        world.ctx.fetch_policy = FetchPolicy([listener.url("/*")])
        declared = yaml.safe_dump({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "loot", "namespace": "flux-system"},
            "spec": {"interval": "1m", "url": listener.url("/x.git"), "ref": {"branch": "main"},
                     "secretRef": {"name": f"../../{beta.namespace}/secrets/beta-git"}}})
        repo = world.repo("flux", {"clusters/loot.yaml": declared,
                                   "clusters/grab.yaml": kustomization("grab", "./deploy", source="loot")})
        world.create("root", f"file://{repo}", path="./clusters")
        world.reconcile("root")
        if world.source("grab").kustomization is not None:  # the attack's next step, had the revision been taken
            world.reconcile("grab")
        assert listener.accepted == 0, listener.received
        cond = ready(world, "root")
        assert cond["reason"] == "ValidationFailed", cond
        assert cond["message"].startswith("GitRepository/loot in clusters/loot.yaml: spec.secretRef.name: Invalid value"), cond
        assert_one_sentence(cond)
        assert world.source("grab").repository is None

        # Written by a member straight on the management cluster: refused before any connection.
        world.create("direct", listener.url("/x.git"), path="./deploy")
        world.patch_spec(names.KIND_FEDERATED_GIT_REPOSITORY, "direct",
                         {"secretRef": {"name": f"../../{beta.namespace}/secrets/beta-git"}})
        world.reconcile("direct")
        cond = ready(world, "direct")
        assert cond["reason"] == "ValidationFailed" and "spec.secretRef.name: Invalid value" in cond["message"], cond
        assert listener.accepted == 0, "no connection was opened, so no credential left"
        assert password not in str(world.status("root")) + str(world.status("direct"))
    finally:
        listener.stop()


def test_values_from_cannot_read_another_namespace(world: World, beta: World) -> None:
    """``valuesFrom`` naming beta's Secret through ``..`` (it would have reached the chart's values)."""
    loot = f"beta-hunter2-{uuid.uuid4().hex[:8]}"
    put_secret(beta, "beta-db", {"password": loot})
    release = yaml.safe_dump({
        "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "shop"},
        "spec": {"interval": "5m", "chart": {"spec": {"chart": "./charts/web",
                                                      "sourceRef": {"kind": "GitRepository", "name": "apps"}}},
                 "valuesFrom": [{"kind": "Secret", "name": f"../../{beta.namespace}/secrets/beta-db",
                                 "valuesKey": "password", "targetPath": "greeting"}]}})
    repo = world.repo("apps", {"deploy/shop.yaml": release, "deploy/leak.yaml": configmap("leak")})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    cond = ready(world, "apps")
    assert cond["reason"] == "ValidationFailed", cond
    assert cond["message"].startswith("HelmRelease/shop in deploy/shop.yaml: spec.valuesFrom[0].name: Invalid value"), cond
    assert_one_sentence(cond)
    assert world.writes.count() == 0
    nothing_leaked(world, loot, "apps")


def _beta_release(beta: World, name: str, ready_status: str) -> None:
    """A HelmRelease of beta on every cluster, with a Ready condition (what an oracle would have reported)."""
    from gitops_tui.kube.client import dynamic_client
    from gitops_tui.reconciler.helm_step import ensure_crds

    for cluster in CLUSTERS:
        client = beta.client(cluster)
        ensure_crds(dynamic_client(client), [{"kind": "HelmRelease"}])
        path = f"/apis/helm.toolkit.fluxcd.io/v2/namespaces/{beta.namespace}/helmreleases"
        body = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                "metadata": {"name": name, "namespace": beta.namespace},
                "spec": {"interval": "5m", "chart": {"spec": {"chart": "x", "sourceRef": {"kind": "HelmRepository",
                                                                                          "name": "x"}}}}}
        try:
            json_request(client, "POST", path, body)
        except ApiException as exc:
            if exc.status != 409:
                raise
        json_request(client, "PATCH", f"{path}/{name}/status", {"status": {"conditions": [
            {"type": "Ready", "status": ready_status, "reason": "InstallSucceeded", "message": "ok",
             "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}, content_type="application/merge-patch+json")


def test_depends_on_another_namespace_is_refused_the_same_whatever_is_there(world: World, beta: World) -> None:
    """Attack K: the answer to ``dependsOn: beta/x`` must not tell whether x exists or is ready."""
    _beta_release(beta, "ready-one", "True")
    _beta_release(beta, "failing-one", "False")
    messages = {}
    for target in ("ready-one", "failing-one", "absent-one"):
        release = yaml.safe_dump({
            "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "probe"},
            "spec": {"interval": "5m", "chart": {"spec": {"chart": "./charts/web",
                                                          "sourceRef": {"kind": "GitRepository", "name": "apps"}}},
                     "dependsOn": [{"name": target, "namespace": beta.namespace}]}})
        repo = world.repo(f"probe-{target}", {"deploy/probe.yaml": release})
        world.create(f"probe-{target}", f"file://{repo}", path="./deploy")
        world.reconcile(f"probe-{target}")
        cond = ready(world, f"probe-{target}")
        assert cond["reason"] == "AccessDenied", cond
        assert_one_sentence(cond)
        messages[target] = cond["message"].replace(target, "X")
    assert len(set(messages.values())) == 1, messages
    assert messages["absent-one"] == (
        f"HelmRelease/probe in deploy/probe.yaml: spec.dependsOn[0].namespace: can't access "
        f"'HelmRelease/{beta.namespace}/X', cross-namespace references have been blocked")
    assert world.writes.count() == 0


def test_a_kustomization_depends_on_or_source_in_another_namespace_is_refused(world: World, beta: World) -> None:
    """Flux's lockdown words for a Kustomization's dependsOn and sourceRef across namespaces."""
    repo = world.repo("flux", {"clusters/apps.yaml": kustomization(
        "apps", "./apps", {"dependsOn": [{"name": "infra", "namespace": beta.namespace}]}), "apps/cm.yaml": configmap("a")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    cond = ready(world, "root")
    assert cond["reason"] == "AccessDenied" and cond["message"] == (
        f"Kustomization/apps in clusters/apps.yaml: spec.dependsOn[0].namespace: can't access "
        f"'Kustomization/{beta.namespace}/infra', cross-namespace references have been blocked"), cond
    commit(repo, {"clusters/apps.yaml": kustomization("apps", "./apps").replace(
        "name: flux-system\n", f"name: flux-system\n    namespace: {beta.namespace}\n")})
    world.reconcile("root")
    cond = ready(world, "root")
    assert cond["reason"] == "AccessDenied" and (
        f"spec.sourceRef.namespace: can't access 'GitRepository/{beta.namespace}/flux-system'" in cond["message"]), cond
    assert world.source("apps").kustomization is None
