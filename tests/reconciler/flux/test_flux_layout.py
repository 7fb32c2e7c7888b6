"""A repository in Flux's layout (clusters/staging -> infrastructure, apps) deploys in a platform project, as Flux would.

Real git, real `kubectl kustomize`, real Helm (a chart repository over local HTTP), the sandbox's dev, staging, prod.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_tui.api import names
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.flux.children import LABEL_PARENT
from gitops_tui.reconciler.source_controller import reconcile_source
from tests.gitserver import commit
from tests.helm.test_helm_reconcile import allow_charts, chart_repository, publish  # noqa: F401 - the fixture
from tests.world import CLUSTERS, World, get_or_none

FLUX_KS = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"


def kustomization(name: str, path: str, depends: list[str] = (), extra: str = "") -> str:
    """A Flux Kustomization in namespace flux-system whose source is the repository itself."""
    deps = "".join(f"\n    - name: {d}" for d in depends)
    return (f"{FLUX_KS}metadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n"
            f"  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  path: {path}\n  prune: true\n"
            + (f"  dependsOn:{deps}\n" if depends else "") + extra)


def flux_repository(url: str, tag: str) -> dict[str, str]:
    """Files of a repository in fluxcd/flux2-kustomize-helm-example's layout (namespaces suffixed with ``tag``)."""
    files = {
        "clusters/staging/infrastructure.yaml": kustomization("infra-controllers", "./infrastructure/controllers")
        + "---\n" + kustomization("infra-configs", "./infrastructure/configs", ["infra-controllers"]),
        "clusters/staging/apps.yaml": kustomization(
            "apps", "./apps/staging", ["infra-configs"],
            "  postBuild:\n    substitute:\n      cluster_region: eu-west-1\n"
            "    substituteFrom:\n    - kind: ConfigMap\n      name: cluster-vars\n"),
        "clusters/staging/cluster-vars.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n"
                                              "data:\n  cluster_env: staging\n  replicas: \"2\"\n",
        "infrastructure/controllers/kustomization.yaml": "resources:\n- namespace.yaml\n- crd.yaml\n- controller.yaml\n",
        "infrastructure/controllers/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ingress\n",
        "infrastructure/controllers/crd.yaml": WIDGET_CRD,
        "infrastructure/controllers/controller.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                                      "  name: controller\n  namespace: ingress\ndata:\n  mode: active\n",
        "infrastructure/configs/kustomization.yaml": "resources:\n- role.yaml\n",
        "infrastructure/configs/role.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
                                            "metadata:\n  name: widget-reader\nrules:\n- apiGroups: [example.com]\n"
                                            "  resources: [widgets]\n  verbs: [get, list]\n",
        "apps/base/podinfo/kustomization.yaml": "resources:\n- namespace.yaml\n- repository.yaml\n- release.yaml\n"
                                                "- settings.yaml\n",
        "apps/base/podinfo/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: podinfo\n",
        "apps/base/podinfo/repository.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
                                             f"metadata:\n  name: podinfo\n  namespace: podinfo\nspec:\n  interval: 5m\n"
                                             f"  url: {url}\n",
        "apps/base/podinfo/release.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n"
                                          "  name: podinfo\n  namespace: podinfo\nspec:\n  interval: 50m\n"
                                          "  chart:\n    spec:\n      chart: cache\n      version: 1.2.0\n"
                                          "      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n"
                                          "  values:\n    greeting: base\n",
        "apps/base/podinfo/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                                           "  namespace: podinfo\ndata:\n  env: ${cluster_env}\n"
                                           "  tier: ${tier:=gold}\n  region: ${cluster_region}\n"
                                           "  missing: x${undefined}x\n  literal: $${cluster_env}\n---\n"
                                           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\n"
                                           "  namespace: podinfo\n  annotations:\n"
                                           "    kustomize.toolkit.fluxcd.io/substitute: disabled\n"
                                           "data:\n  env: ${cluster_env}\n",
        "apps/staging/kustomization.yaml": "resources:\n- ../base/podinfo\npatches:\n- path: podinfo-values.yaml\n"
                                           "  target:\n    kind: HelmRelease\n    name: podinfo\n",
        "apps/staging/podinfo-values.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n"
                                            "  name: podinfo\n  namespace: podinfo\nspec:\n  values:\n"
                                            "    greeting: hello-${cluster_env}\n    replicaCount: ${replicas}\n",
    }
    return {tagged(path, tag): tagged(text, tag) for path, text in files.items()}


def tagged(text: str, tag: str) -> str:
    """The text with the cluster-wide names (namespaces, ClusterRole, CRD group) made unique to one test's project."""
    for word in ("ingress", "podinfo", "widget-reader", "example.com"):
        text = text.replace(word, f"{tag}-{word}")
    return text


WIDGET_CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
"""

CHILDREN = ["apps", "infra-configs", "infra-controllers"]


def make_platform(world: World) -> None:
    """Turn the world's project into a platform project (as `create project --platform` makes it)."""
    world.make_platform()


def live(world: World, cluster: str, path: str) -> dict[str, Any] | None:
    """A live object by its API path (None when absent)."""
    return get_or_none(world.client(cluster), path)


def ready(world: World, name: str) -> dict[str, Any]:
    """The Ready condition of a source ({} when absent)."""
    return world.condition(name, names.READY)


def settle(world: World, names_: list[str], rounds: int = 6) -> list[tuple[str, str]]:
    """Reconcile the children (dependents first) until all are Ready; return the (child, reason) seen on the way."""
    seen: list[tuple[str, str]] = []
    for _ in range(rounds):
        for name in names_:
            reconcile_source(world.ctx, world.namespace, name)
            seen.append((name, ready(world, name).get("reason", "")))
        if all(ready(world, n).get("status") == "True" for n in names_):
            break
    return seen


def built(repo: Path, path: str) -> list[dict[str, Any]]:
    """What real `kubectl kustomize` makes of a directory of the repository."""
    out = subprocess.run(["kubectl", "kustomize", str(repo / path)], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture
def flux_repo(world: World, chart_repository: tuple[str, Path]) -> Path:  # noqa: F811 - the imported fixture
    """The Flux-layout repository, with the `cache` chart 1.2.0 served by a local chart repository."""
    url, served = chart_repository
    allow_charts(world, url)  # the chart repository is on loopback: the operator allows it explicitly
    publish(url, served, "1.2.0", world.tmp)
    return world.repo("fleet", flux_repository(url, world.project))


def test_flux_layout_deploys_in_dependency_order_as_flux_would(world: World, flux_repo: Path) -> None:
    """The issue's whole scenario on three clusters (about 25 s: it is the point): order, result, diff, prune."""
    make_platform(world)
    world.create("staging", f"file://{flux_repo}", path="./clusters/staging")
    world.reconcile("staging")
    assert ready(world, "staging").get("status") == "True", ready(world, "staging")
    listed = json_request(world.api, "GET", f"/apis/{names.TYPES_GROUP}/{names.TYPES_VERSION}/namespaces/"
                                            f"{world.namespace}/federatedkustomizations",
                          query={"labelSelector": f"{LABEL_PARENT}=staging"})
    assert sorted(i["metadata"]["name"] for i in listed["items"]) == CHILDREN

    seen = settle(world, CHILDREN)
    assert ("apps", "DependencyNotReady") in seen, seen
    assert "dependency infra-configs is not ready" in [
        e["message"] for e in world.events("apps") if e["reason"] == "DependencyNotReady"][0]
    for child in CHILDREN:
        assert ready(world, child).get("status") == "True", (child, ready(world, child))
    t = world.project
    order = [r.object_id for r in world.writes.records if r.cluster == "dev" and r.verb == "apply"]
    first = {obj: next(i for i, o in enumerate(order) if obj in o) for obj in
             (f"_{t}-ingress__Namespace", f"_{t}-widget-reader_", f"{t}-podinfo_settings_")}
    assert first[f"_{t}-ingress__Namespace"] < first[f"{t}-podinfo_settings_"], "infrastructure before apps"
    assert first[f"_{t}-widget-reader_"] < first[f"{t}-podinfo_settings_"], "configs (dependsOn) before apps"

    # Object by object, what `kubectl kustomize` plus Flux's rules give, on every cluster.
    head = world.head(flux_repo)
    for cluster in CLUSTERS:
        for path in ("infrastructure/controllers", "infrastructure/configs"):
            for obj in built(flux_repo, tagged(path, t)):
                meta = obj["metadata"]
                found = live(world, cluster, _path(obj))
                assert found is not None, (cluster, obj["kind"], meta["name"])
                for field in ("data", "rules", "spec"):
                    if field in obj and obj["kind"] != "CustomResourceDefinition":
                        assert found[field] == obj[field], (cluster, meta["name"], field)
        settings = live(world, cluster, f"/api/v1/namespaces/{t}-podinfo/configmaps/settings")
        assert settings["data"] == {"env": "staging", "tier": "gold", "region": "eu-west-1", "missing": "xx",
                                    "literal": "${cluster_env}"}
        assert live(world, cluster, f"/api/v1/namespaces/{t}-podinfo/configmaps/raw")["data"] == {"env": "${cluster_env}"}
        assert live(world, cluster, f"/api/v1/namespaces/{t}-podinfo/configmaps/{t}-podinfo-greeting")["data"] == {
            "greeting": "hello-staging"}
        web = live(world, cluster, f"/apis/apps/v1/namespaces/{t}-podinfo/deployments/{t}-podinfo-web")
        assert web["spec"]["replicas"] == 2, "a substituted number is a number, as in Flux"
        assert live(world, cluster, f"/api/v1/namespaces/{world.namespace}/configmaps/cluster-vars") is not None
        rows = {r["name"]: r for r in world.status("apps")["clusters"]}
        assert rows[cluster]["lastAppliedRevision"].endswith(head)

    from gitops_tui.actions.sources import diff_source

    for child in CHILDREN:  # `diff source` sees a child as the reconciler does: substituted, in its platform project
        report = diff_source(world.api, world.project, child, data_dir=world.tmp.parent / f"{world.project}-diff")
        assert not report.failed and not report.drifted, (child, report)

    # A child removed from git is pruned: its objects leave every cluster, its siblings stay.
    commit(flux_repo, {"clusters/staging/apps.yaml": None})
    world.reconcile("staging")
    world.reconcile("apps")  # the finalizer prunes
    assert world.source("apps").kustomization is None
    for cluster in CLUSTERS:
        assert live(world, cluster, f"/api/v1/namespaces/{t}-podinfo/configmaps/settings") is None
        assert live(world, cluster, f"/apis/apps/v1/namespaces/{t}-podinfo/deployments/{t}-podinfo-web") is None
        assert live(world, cluster, f"/api/v1/namespaces/{t}-ingress/configmaps/controller") is not None


def _path(obj: dict[str, Any]) -> str:
    """The API path of a built object (the kinds of the test repository)."""
    meta = obj["metadata"]
    plural = {"Namespace": "namespaces", "ConfigMap": "configmaps", "ClusterRole": "clusterroles",
              "CustomResourceDefinition": "customresourcedefinitions"}[obj["kind"]]
    group, _, version = obj["apiVersion"].rpartition("/")
    base = f"/apis/{group}/{version}" if group else f"/api/{version}"
    namespace = f"/namespaces/{meta['namespace']}" if meta.get("namespace") else ""
    return f"{base}{namespace}/{plural}/{meta['name']}"


def test_ordinary_project_refuses_the_first_cluster_scoped_object(world: World, flux_repo: Path) -> None:
    world.create("staging", f"file://{flux_repo}", path="./clusters/staging")
    world.reconcile("staging")
    world.reconcile("infra-controllers")
    cond = ready(world, "infra-controllers")
    assert cond.get("status") == "False" and cond.get("reason") == "TenancyViolation", cond
    assert cond["message"].startswith(f"Namespace/{world.project}-ingress in infrastructure/controllers"), cond["message"]
    assert "is cluster-scoped" in cond["message"]
    for cluster in CLUSTERS:
        assert live(world, cluster, f"/api/v1/namespaces/{world.project}-ingress") is None


def test_a_broken_child_is_ready_false_while_its_siblings_apply(world: World, flux_repo: Path) -> None:
    make_platform(world)
    commit(flux_repo, {"clusters/staging/broken.yaml": kustomization("broken", "./nowhere")})
    world.create("staging", f"file://{flux_repo}", path="./clusters/staging")
    world.reconcile("staging")
    settle(world, ["broken", "infra-controllers", "infra-configs"], rounds=3)
    broken = ready(world, "broken")
    assert broken.get("status") == "False" and "'./nowhere' not found" in broken.get("message", ""), broken
    assert ready(world, "infra-configs").get("status") == "True"
    for cluster in CLUSTERS:
        assert live(world, cluster, f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{world.project}-widget-reader") is not None


def test_suspending_the_parent_holds_its_children(world: World, flux_repo: Path) -> None:
    make_platform(world)
    world.create("staging", f"file://{flux_repo}", path="./clusters/staging")
    world.reconcile("staging")
    world.patch_spec(names.KIND_FEDERATED_KUSTOMIZATION, "staging", {"suspend": True})
    world.reconcile("infra-controllers")
    assert world.writes.count() == 0 or all(r.object_id.find("ingress") < 0 for r in world.writes.records)
    assert ready(world, "infra-controllers") == {}
    for cluster in CLUSTERS:
        assert live(world, cluster, f"/api/v1/namespaces/{world.project}-ingress") is None


def test_children_listed_under_their_source(world: World, flux_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import datetime

    from gitops_tui.cli import main
    from gitops_tui.views import rows
    from gitops_tui.views.state import ManagementState

    make_platform(world)
    world.create("staging", f"file://{flux_repo}", path="./clusters/staging")
    world.create("other", f"file://{flux_repo}", path="./apps/staging")
    world.reconcile("staging")
    assert main(["get", "sources", "-p", world.project, "-o", "json"]) == 0
    items = json.loads(capsys.readouterr().out)["items"]
    assert [(i["name"], i["parent"], i["depth"]) for i in items] == [
        ("other", "", 0), ("staging", "", 0), ("apps", "staging", 1),
        ("infra-configs", "staging", 1), ("infra-controllers", "staging", 1)]
    assert main(["get", "sources", "-p", world.project]) == 0
    table = capsys.readouterr().out
    names_column = [line.split(None, 1)[1].split("  ")[0] for line in table.strip().splitlines()[1:]]
    assert names_column == ["other", "staging", "└ apps", "└ infra-configs",
                            "└ infra-controllers"], table

    group = f"/apis/{names.TYPES_GROUP}/{names.TYPES_VERSION}/namespaces/{world.namespace}"
    state = ManagementState({
        "gitrepositories": json_request(world.api, "GET", f"{group}/federatedgitrepositories")["items"],
        "kustomizations": json_request(world.api, "GET", f"{group}/federatedkustomizations")["items"],
        "projects": [json_request(world.api, "GET", f"/apis/{names.PROJECT_GROUP}/v1alpha1/projects/{world.project}")],
    })
    shown = [r.cells[0].split(" ", 1)[1] for r in rows.sources_table(state, datetime.now(UTC)).rows]
    assert shown == ["other", "staging", "└ apps", "└ infra-configs", "└ infra-controllers"]
    assert rows.projects_table(state, datetime.now(UTC)).rows[0].cells[0] == f"{world.project} (platform)"
