"""What a Flux layout may not do, each refused with one sentence naming it; what it may leave behind (prune: false)."""

from __future__ import annotations

from typing import Any

from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from tests.gitserver import commit
from tests.world import CLUSTERS, World, configmap

KS = ("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n"
      "  namespace: flux-system\nspec:\n  interval: 5m\n  path: {path}\n  prune: {prune}\n"
      "  sourceRef:\n    kind: {kind}\n    name: flux-system\n{extra}")


def ks(name: str, path: str, *, prune: str = "true", kind: str = "GitRepository", extra: str = "") -> str:
    """A Flux Kustomization manifest."""
    return KS.format(name=name, path=path, prune=prune, kind=kind, extra=extra)


def make_platform(world: World) -> None:
    """Make the world's project a platform project."""
    world.make_platform()


def ready(world: World, name: str) -> dict[str, Any]:
    """The Ready condition of a source."""
    return world.condition(name, names.READY)


def test_unsupported_kustomization_fields_and_sources_are_refused_by_name(world: World) -> None:
    repo = world.repo("flux", {"clusters/a.yaml": ks("a", "./apps", extra="  kubeConfig:\n    secretRef:\n      name: remote\n"),
                               "apps/cm.yaml": configmap("one")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    cond = ready(world, "root")
    assert cond["status"] == "False" and cond["reason"] == "ValidationFailed"
    assert cond["message"] == "Kustomization/a in clusters/a.yaml: spec.kubeConfig is not supported (docs/flux.md)"
    assert world.source("a").kustomization is None, "no child of a refused revision"

    commit(repo, {"clusters/a.yaml": ks("a", "./apps", kind="OCIRepository")})
    world.reconcile("root")
    assert "spec.sourceRef.kind OCIRepository is not supported" in ready(world, "root")["message"]

    commit(repo, {"clusters/a.yaml": "apiVersion: source.toolkit.fluxcd.io/v1\nkind: Bucket\nmetadata:\n"
                                     "  name: charts\nspec:\n  bucketName: x\n  endpoint: minio.example\n"})
    world.reconcile("root")
    assert ready(world, "root")["message"].startswith(
        "Bucket/charts in clusters/a.yaml: Bucket sources are not supported")


def test_platform_project_may_not_take_another_projects_namespace(world: World, sandbox: Any) -> None:
    make_platform(world)
    other = World(sandbox, world.tmp / "other", world.ctx.clusters)
    try:
        repo = world.repo("flux", {"infra/ns.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {other.namespace}\n"})
        world.create("infra", f"file://{repo}", path="./infra")
        world.reconcile("infra")
        cond = ready(world, "infra")
        assert cond["reason"] == "TenancyViolation", cond
        assert cond["message"] == (f"Namespace/{other.namespace} in infra/ns.yaml targets namespace "
                                   f"{other.namespace!r}, which belongs to another project")
        commit(repo, {"infra/ns.yaml": None,
                      "infra/cm.yaml": configmap("x").replace("metadata:\n", f"metadata:\n  namespace: {other.namespace}\n")})
        world.reconcile("infra")
        assert ready(world, "infra")["reason"] == "TenancyViolation"
        commit(repo, {"infra/cm.yaml": None, "infra/sys.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n"
                                                               "  name: gitops-tui-system\n"})
        world.reconcile("infra")
        assert "system namespace" in ready(world, "infra")["message"]
    finally:
        other.close()


def test_missing_substitute_from_fails_the_child_unless_optional(world: World) -> None:
    extra = "  postBuild:\n    substituteFrom:\n    - kind: ConfigMap\n      name: vars\n"
    repo = world.repo("flux", {"clusters/a.yaml": ks("a", "./apps", extra=extra),
                               "apps/cm.yaml": configmap("greeting", "${who:=world}")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    world.reconcile("a")
    cond = ready(world, "a")
    assert cond["reason"] == "BuildFailed" and "substituteFrom ConfigMap/vars not found" in cond["message"], cond
    assert world.get("dev", "configmaps", "greeting") is None
    commit(repo, {"clusters/a.yaml": ks("a", "./apps", extra=extra + "      optional: true\n")})
    world.reconcile("root")
    world.reconcile("a")
    assert ready(world, "a")["status"] == "True"
    assert world.get("dev", "configmaps", "greeting")["data"] == {"value": "world"}
    commit(repo, {"clusters/vars.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars\ndata:\n"
                                        "  who: team\n"})
    world.reconcile("root")
    world.reconcile("a")
    assert world.get("dev", "configmaps", "greeting")["data"] == {"value": "team"}


def test_child_without_prune_leaves_its_objects_when_removed_from_git(world: World) -> None:
    repo = world.repo("flux", {"clusters/keep.yaml": ks("keep", "./keep", prune="false"),
                               "clusters/drop.yaml": ks("drop", "./drop"),
                               "clusters/vars.yaml": configmap("vars"),
                               "keep/cm.yaml": configmap("kept"), "drop/cm.yaml": configmap("dropped")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    for child in ("keep", "drop"):
        world.reconcile(child)
        assert ready(world, child)["status"] == "True"
    commit(repo, {"clusters/keep.yaml": None, "clusters/drop.yaml": None})
    world.reconcile("root")
    assert any(e["reason"] == "ChildRemoved" for e in world.events("root"))
    for child in ("keep", "drop"):
        try:
            world.reconcile(child)
        except ApiException:
            pass
        assert world.source(child).kustomization is None
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "kept") is not None, "prune: false orphans, as Flux"
        assert world.get(cluster, "configmaps", "dropped") is None


def test_deleting_the_parent_deletes_its_children_and_their_objects(world: World) -> None:
    from gitops_tui.actions.sources import delete_source
    from tests.waiting import wait_until

    repo = world.repo("flux", {"clusters/a.yaml": ks("a", "./apps"), "apps/cm.yaml": configmap("child-object")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    world.reconcile("a")
    assert world.get("dev", "configmaps", "child-object") is not None
    delete_source(world.api, world.project, "root")
    world.reconcile("root")

    def child_going() -> bool:
        child = world.source("a").kustomization
        return child is None or bool(child["metadata"].get("deletionTimestamp"))

    wait_until(child_going, timeout=30, message="the child source deleted with its parent (ownerReference)")
    world.reconcile("a")  # its finalizer prunes
    assert world.source("a").kustomization is None
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "child-object") is None


def test_a_declared_git_repository_is_the_childs_source(world: World) -> None:
    other = world.repo("other", {"deploy/cm.yaml": configmap("from-other")})
    declared = ("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: other\n"
                f"  namespace: flux-system\nspec:\n  interval: 1m\n  url: file://{other}\n  ref:\n    branch: main\n")
    child = ks("b", "./deploy").replace("name: flux-system\n", "name: other\n")
    repo = world.repo("flux", {"clusters/repo.yaml": declared, "clusters/b.yaml": child,
                               "clusters/missing.yaml": ks("c", "./deploy")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    assert world.source("b").url == f"file://{other}" and world.source("b").ref == {"branch": "main"}
    assert world.source("c").ref == {"commit": world.head(repo)}, "flux-system: the parent's repository, its commit"
    world.reconcile("b")
    assert world.get("dev", "configmaps", "from-other") is not None

    commit(repo, {"clusters/b.yaml": child.replace("name: other\n", "name: nowhere\n")})
    world.reconcile("root")
    assert ready(world, "root")["message"].startswith(
        "Kustomization/b in clusters/b.yaml: spec.sourceRef names GitRepository 'nowhere', which the revision does not "
        "declare")


def test_a_child_never_takes_over_an_operators_source(world: World) -> None:
    mine = world.repo("mine", {"deploy/cm.yaml": configmap("operator-owned")})
    world.create("a", f"file://{mine}", path="./deploy")
    repo = world.repo("flux", {"clusters/a.yaml": ks("a", "./apps"), "apps/cm.yaml": configmap("child-object")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    cond = ready(world, "root")
    assert cond["status"] == "False" and cond["reason"] == "ValidationFailed", cond
    assert ("would be source a, which already exists and is a source of its own, not a child of this source"
            in cond["message"])
    assert world.source("a").url == f"file://{mine}" and world.source("a").path == "./deploy"
