"""A Flux Kustomization's kustomize fields (patches, images, components, namePrefix/Suffix, commonMetadata, force,
deletionPolicy, retryInterval) behave as in Flux, and build what kustomize itself builds from the same fields.

kustomize-controller writes these fields into the path's kustomization (or one it generates) and runs kustomize;
each build here is compared object by object with real `kubectl kustomize` of a kustomization written by hand with
the same features. Every name, path and pattern is tenant input: the refusals are tested as an attacker would
write them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_tui.api import names
from gitops_tui.reconciler.errors import BuildFailed, OverLimit, ValidationFailed
from gitops_tui.reconciler.flux.kustomize_build import build
from gitops_tui.reconciler.flux.kustomize_fields import read_fields
from tests.flux_example import example_files
from tests.gitserver import commit
from tests.world import CLUSTERS, World, configmap, deployment

DEPLOYMENTS = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: %(name)s
  labels: {app: %(name)s}
spec:
  selector: {matchLabels: {app: %(name)s}}
  template:
    metadata: {labels: {app: %(name)s}}
    spec:
      containers:
      - name: manager
        image: ghcr.io/fluxcd/%(name)s:v1.0.0
        args: [--log-level=info]
"""


def tree(base: Path, files: dict[str, str]) -> Path:
    """Write ``files`` under ``base``."""
    for path, text in files.items():
        target = base / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return base


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """What real `kubectl kustomize` makes of a directory, objects by (kind, name)."""
    out = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    return sorted((d for d in yaml.safe_load_all(out) if d), key=lambda o: (o["kind"], o["metadata"]["name"]))


def built(root: Path, path: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """What this reconciler builds for a Flux Kustomization ``spec`` of ``path``."""
    objects = [m.obj for m in build(root, path, read_fields(spec))]
    return sorted(objects, key=lambda o: (o["kind"], o["metadata"]["name"]))


#: The fixture's own patch: a regular-expression name selecting three of Flux's controllers.
FIXTURE_KUSTOMIZATION = yaml.safe_load(example_files()["clusters/staging/flux-system/kustomization.yaml"])
REGEX_PATCH = FIXTURE_KUSTOMIZATION["patches"][0]


def controllers() -> dict[str, str]:
    names_ = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")
    return {"base/controllers.yaml": "---\n".join(DEPLOYMENTS % {"name": n} for n in names_)}


def test_patches_images_components_and_affixes_build_as_kustomize_does(tmp_path: Path) -> None:
    files = {**controllers(),
             "base/kustomization.yaml": "resources:\n- controllers.yaml\n- settings.yaml\n",
             "base/settings.yaml": configmap("settings"),
             "components/extra/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
                                                    "resources:\n- extra.yaml\n",
             "components/extra/extra.yaml": configmap("extra")}
    root = tree(tmp_path / "artifact", files)
    strategic = {"patch": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: patched\n"}
    spec = {"patches": [REGEX_PATCH, strategic],
            "images": [{"name": "ghcr.io/fluxcd/helm-controller", "newName": "registry.example/helm-controller",
                        "newTag": "v9.9.9"}],
            "components": ["../components/extra"], "namePrefix": "team-", "nameSuffix": "-v1",
            "targetNamespace": "tenant"}
    # kustomize's own output: the same features written by hand into a copy of the kustomization.
    expected_dir = tree(tmp_path / "by-hand", files)
    (expected_dir / "base/kustomization.yaml").write_text(yaml.safe_dump({
        "resources": ["controllers.yaml", "settings.yaml"], "namespace": "tenant", "namePrefix": "team-",
        "nameSuffix": "-v1", "patches": [REGEX_PATCH, strategic], "components": ["../components/extra"],
        "images": [{"name": "ghcr.io/fluxcd/helm-controller", "newName": "registry.example/helm-controller",
                    "newTag": "v9.9.9"}]}))
    ours, theirs = built(root, "./base", spec), kustomize(expected_dir / "base")
    assert ours == theirs
    by_name = {o["metadata"]["name"]: o for o in ours}
    assert sorted(by_name) == ["team-extra-v1", "team-helm-controller-v1", "team-kustomize-controller-v1",
                               "team-notification-controller-v1", "team-settings-v1", "team-source-controller-v1"]
    args = {n: by_name[f"team-{n}-v1"]["spec"]["template"]["spec"]["containers"][0]["args"]
            for n in ("kustomize-controller", "helm-controller", "source-controller", "notification-controller")}
    assert args["notification-controller"] == ["--log-level=info"], "the regular expression selects three"
    assert all(a == ["--log-level=info", "--concurrent=20", "--requeue-dependency=5s"]
               for n, a in args.items() if n != "notification-controller"), args
    assert by_name["team-helm-controller-v1"]["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "registry.example/helm-controller:v9.9.9"
    assert by_name["team-settings-v1"]["data"] == {"value": "v1", "mode": "patched"}
    assert (root / "base/kustomization.yaml").read_text() == files["base/kustomization.yaml"], "the artifact is intact"


def test_a_folder_without_kustomization_gets_the_one_kustomize_controller_generates(tmp_path: Path) -> None:
    files = {"apps/a.yaml": configmap("a"), "apps/b/b.yaml": configmap("b"), "apps/.hidden.yaml": configmap("hidden"),
             "apps/c/kustomization.yaml": "resources:\n- c.yaml\n", "apps/c/c.yaml": configmap("c")}
    root = tree(tmp_path / "artifact", files)
    spec = {"patches": [{"patch": "- op: add\n  path: /data/extra\n  value: added\n",
                         "target": {"kind": "ConfigMap", "name": "[ab]"}}], "nameSuffix": "-x"}
    by_hand = tree(tmp_path / "by-hand", {**files, "apps/kustomization.yaml": yaml.safe_dump({
        "resources": ["./a.yaml", "./b/b.yaml", "./c"], "nameSuffix": "-x", "patches": spec["patches"]})})
    ours = built(root, "./apps", spec)
    assert ours == kustomize(by_hand / "apps")
    assert [(o["metadata"]["name"], o["data"].get("extra")) for o in ours] == [("a-x", "added"), ("b-x", "added"),
                                                                              ("c-x", None)]


def test_common_metadata_labels_are_kustomize_labels_without_selectors(tmp_path: Path) -> None:
    files = {"app/deploy.yaml": deployment("web"), "app/kustomization.yaml": "resources:\n- deploy.yaml\n"}
    root = tree(tmp_path / "artifact", files)
    from gitops_tui.reconciler.flux.kustomize_fields import set_common_metadata

    fields = read_fields({"commonMetadata": {"labels": {"team": "a", "app": "overridden"},
                                             "annotations": {"owner": "platform"}}, "nameSuffix": "-x"})
    ours = [m.obj for m in build(root, "./app", fields)]
    set_common_metadata(ours, fields)
    by_hand = tree(tmp_path / "by-hand", {**files, "app/kustomization.yaml": yaml.safe_dump({
        "resources": ["deploy.yaml"], "nameSuffix": "-x",
        "labels": [{"pairs": {"team": "a", "app": "overridden"}, "includeSelectors": False}]})})
    theirs = kustomize(by_hand / "app")
    assert ours[0]["metadata"]["labels"] == theirs[0]["metadata"]["labels"] == {"team": "a", "app": "overridden"}
    assert ours[0]["spec"]["selector"] == theirs[0]["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert ours[0]["metadata"]["annotations"] == {"owner": "platform"}
    assert "annotations" not in ours[0]["spec"]["template"]["metadata"], "Flux sets the object's metadata only"


@pytest.mark.parametrize(("spec", "error", "words"), [
    ({"components": ["https://github.com/evil/kustomize//components/x"]}, BuildFailed,
     "spec.components[0]: component path 'https://github.com/evil/kustomize//components/x' must be local and relative"),
    ({"components": ["git::ssh://git@example.com/x.git"]}, BuildFailed, "must be local and relative"),
    ({"components": ["/etc"]}, BuildFailed, "must be local and relative"),
    ({"patches": [{"patch": "x: y", "target": {"name": "(unclosed"}}]}, ValidationFailed,
     "spec.patches[0].target.name: Invalid value: '(unclosed' is not a regular expression"),
    ({"patches": [{"patch": "x: y", "target": {"name": "a" * 2000}}]}, ValidationFailed, "at most 1024 characters"),
    ({"patches": [{"patch": "x: y", "path": "/etc/passwd"}]}, ValidationFailed,
     "spec.patches[0].path: Unsupported value"),
    ({"patches": [{"patch": "x: y"}] * 101}, OverLimit, "spec.patches has 101 entries; at most 100"),
    ({"namePrefix": "p" * 201}, ValidationFailed, "spec.namePrefix: Invalid value: at most 200 characters"),
    ({"images": [{"name": "x", "newTag": "1", "command": "sh"}]}, ValidationFailed, "spec.images[0].command"),
])
def test_tenant_input_in_the_fields_is_refused_by_name(spec: dict[str, Any], error: type, words: str) -> None:
    with pytest.raises(error) as raised:
        read_fields(spec)
    assert words in raised.value.message, raised.value.message


def test_a_component_leaving_the_tree_is_refused(tmp_path: Path) -> None:
    root = tree(tmp_path / "artifact", {"app/cm.yaml": configmap("a")})
    tree(tmp_path, {"outside/kustomization.yaml": "kind: Component\n"})
    with pytest.raises(BuildFailed) as raised:
        build(root, "./app", read_fields({"components": ["../../outside"], "nameSuffix": "-x"}))
    assert raised.value.message == "spec.components[0]: component path '../../outside' leaves the source's tree"


# -- reconciled as a child, on dev, staging and prod -----------------------------------------------------------------

FLUX_KS = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"


def child(name: str, path: str, extra: dict[str, Any]) -> str:
    """A Flux Kustomization of the repository itself with ``extra`` spec fields."""
    spec = {"interval": "10m", "path": path, "prune": True, "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
            **extra}
    return yaml.safe_dump({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                           "metadata": {"name": name, "namespace": "flux-system"}, "spec": spec})


def test_a_child_applies_its_fields_on_every_cluster(world: World) -> None:
    spec = {"patches": [{"patch": "- op: replace\n  path: /spec/replicas\n  value: 3\n",
                         "target": {"kind": "Deployment", "name": "web-.*"}}],
            "images": [{"name": "nginx", "newTag": "1.27"}], "namePrefix": "blue-",
            "commonMetadata": {"labels": {"team": "blue"}, "annotations": {"owner": "platform"}}}
    repo = world.repo("fleet", {"clusters/app.yaml": child("app", "./app", spec),
                                "app/web.yaml": deployment("web-front"), "app/other.yaml": deployment("other"),
                                "app/settings.yaml": configmap("settings")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    world.reconcile("app")
    assert world.condition("app", names.READY)["status"] == "True", world.condition("app", names.READY)
    for cluster in CLUSTERS:
        web = world.get(cluster, "deployments", "blue-web-front")
        assert web["spec"]["replicas"] == 3 and web["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
        assert web["metadata"]["labels"]["team"] == "blue" and web["metadata"]["annotations"]["owner"] == "platform"
        assert web["metadata"]["labels"][names.LABEL_SOURCE] == "app", "the reconciler's labels win over commonMetadata"
        assert world.get(cluster, "deployments", "blue-other")["spec"]["replicas"] == 1
        assert world.get(cluster, "configmaps", "blue-settings") is not None
        assert world.get(cluster, "configmaps", "settings") is None


def test_force_recreates_what_an_immutable_change_would_refuse(world: World) -> None:
    repo = world.repo("fleet", {"clusters/app.yaml": child("app", "./app", {}), "app/web.yaml": deployment("web")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    world.reconcile("app")
    first = world.get("dev", "deployments", "web")["metadata"]["uid"]
    changed = deployment("web").replace("matchLabels: {app: web}", "matchLabels: {app: web, tier: front}").replace(
        "labels: {app: web}", "labels: {app: web, tier: front}")
    commit(repo, {"app/web.yaml": changed})
    world.reconcile("root")
    world.reconcile("app")
    cond = world.condition("app", names.READY)
    assert cond["reason"] == "DryRunFailed" and "field is immutable" in cond["message"], cond
    assert world.get("dev", "deployments", "web")["metadata"]["uid"] == first, "refused: nothing applied"

    commit(repo, {"clusters/app.yaml": child("app", "./app", {"force": True})})
    world.reconcile("root")
    world.reconcile("app")
    assert world.condition("app", names.READY)["status"] == "True", world.condition("app", names.READY)
    for cluster in CLUSTERS:
        web = world.get(cluster, "deployments", "web")
        assert web["spec"]["selector"]["matchLabels"] == {"app": "web", "tier": "front"}
    assert world.get("dev", "deployments", "web")["metadata"]["uid"] != first, "recreated"


@pytest.mark.parametrize(("policy", "prune", "kept"), [("Orphan", True, True), ("Delete", False, False),
                                                      ("MirrorPrune", False, True), ("MirrorPrune", True, False)])
def test_deletion_policy_decides_what_a_removed_child_leaves(world: World, policy: str, prune: bool,
                                                             kept: bool) -> None:
    repo = world.repo("fleet", {"clusters/app.yaml": child("app", "./app", {"deletionPolicy": policy, "prune": prune}),
                                "app/cm.yaml": configmap("app-config")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    world.reconcile("app")
    assert world.get("dev", "configmaps", "app-config") is not None
    commit(repo, {"clusters/app.yaml": None, "clusters/cm.yaml": configmap("root-config")})
    world.reconcile("root")
    world.reconcile("app")
    assert world.source("app").kustomization is None
    for cluster in CLUSTERS:
        assert (world.get(cluster, "configmaps", "app-config") is not None) is kept, (cluster, policy, prune)


def test_wait_for_termination_holds_the_child_until_its_objects_are_gone(world: World) -> None:
    held = configmap("held").replace("metadata:\n", "metadata:\n  finalizers: [example.com/hold]\n")
    repo = world.repo("fleet", {"clusters/app.yaml": child("app", "./app", {"deletionPolicy": "WaitForTermination"}),
                                "app/cm.yaml": held})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    world.reconcile("app")
    commit(repo, {"clusters/app.yaml": None, "clusters/cm.yaml": configmap("root-config")})
    world.reconcile("root")
    world.reconcile("app")
    source = world.source("app").kustomization
    assert source is not None and source["metadata"].get("deletionTimestamp"), "waiting: the finalizer stays"
    rows = {r["name"]: r for r in source["status"]["clusters"]}
    assert rows["dev"]["status"] == "Terminating" and "waiting for ConfigMap" in rows["dev"]["message"], rows["dev"]
    from gitops_tui.kube.client import json_request

    for cluster in CLUSTERS:  # whoever holds the finalizer lets go
        json_request(world.client(cluster), "PATCH", f"/api/v1/namespaces/{world.namespace}/configmaps/held",
                     {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json")
    world.reconcile("app")
    assert world.source("app").kustomization is None


def test_retry_interval_sets_the_retry_of_a_failed_child(world: World) -> None:
    repo = world.repo("fleet", {"clusters/app.yaml": child("app", "./nowhere", {"retryInterval": "2m"}),
                                "clusters/other.yaml": child("other", "./nowhere", {})})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    assert world.reconcile("app").requeue_after == 120.0
    assert world.reconcile("other").requeue_after < 120.0, "without it, the back-off (2, 4, 8 s ...)"
