"""Tests of rendering: plain directories, multi-doc YAML, Lists, JSON, kustomize, and bad revisions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gitops_tui.reconciler import render as render_mod
from gitops_tui.reconciler.errors import (
    ArtifactFailed,
    BuildFailed,
    GitOperationFailed,
    KustomizeNotFound,
    ReconcileError,
    TenancyViolation,
    ValidationFailed,
)
from gitops_tui.reconciler.render import Manifest, render
from gitops_tui.reconciler.source import GitSource
from gitops_tui.reconciler.tenancy import builtin_is_namespaced, enforce
from tests.gitserver import GitHttpServer, commit, git_http_server, make_bare, make_repo  # noqa: F401 - fixture

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


def write(root: Path, files: dict[str, str]) -> Path:
    """Write files under root and return it."""
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    return root


def names(manifests: list[Manifest]) -> list[str]:
    return [m.display for m in manifests]


def test_plain_directory_sorted_multidoc_lists_json(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "deploy/b.yaml": CM.format(name="b") + "---\n---\n" + CM.format(name="b2"),
        "deploy/a.yml": CM.format(name="a"),
        "deploy/sub/c.json": json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "c"}}),
        "deploy/list.yaml": "apiVersion: v1\nkind: List\nitems:\n- " + CM.format(name="l1").replace("\n", "\n  ")
        + "\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: l2}\n",
        "deploy/empty.yaml": "# nothing here\n",
        "deploy/notes.txt": "not yaml: [",
        "deploy/.hidden/x.yaml": "bad: [",
        "other/ignored.yaml": CM.format(name="ignored"),
    })
    manifests = render(root, "./deploy")
    assert names(manifests) == ["ConfigMap/a", "ConfigMap/b", "ConfigMap/b2", "ConfigMap/l1", "Secret/l2", "Service/c"]
    by_name = {m.obj["metadata"]["name"]: m for m in manifests}
    assert by_name["b"].origin == "deploy/b.yaml"
    assert by_name["b2"].origin == "deploy/b.yaml (document 3)"
    assert by_name["c"].origin == "deploy/sub/c.json"
    assert by_name["l2"].file == "deploy/list.yaml"


def test_root_path_and_single_file(tmp_path: Path) -> None:
    root = write(tmp_path, {"a.yaml": CM.format(name="a"), "x/b.yaml": CM.format(name="b")})
    assert names(render(root, "./")) == ["ConfigMap/a", "ConfigMap/b"]
    assert names(render(root, "")) == ["ConfigMap/a", "ConfigMap/b"]
    assert names(render(root, "x/b.yaml")) == ["ConfigMap/b"]


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    root = write(tmp_path, {"deploy/ok.yaml": CM.format(name="ok"), "deploy/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [oops\n"})
    with pytest.raises(ValidationFailed) as caught:
        render(root, "deploy")
    assert caught.value.reason == "ValidationFailed"
    assert "deploy/bad.yaml" in caught.value.message and "line" in caught.value.message
    assert caught.value.origin == "deploy/bad.yaml"


def test_invalid_json_names_file(tmp_path: Path) -> None:
    root = write(tmp_path, {"x.json": '{"apiVersion": "v1",\n "kind": }'})
    with pytest.raises(ValidationFailed, match=r"invalid JSON in x.json line 2"):
        render(root, ".")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("kind: ConfigMap\nmetadata: {name: a}\n", "ConfigMap in app.yaml has no apiVersion"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "has no metadata.name"),
        ("apiVersion: v1\nmetadata: {name: a}\n", "object in app.yaml has no kind"),
        ("- just\n- a list\n", "app.yaml is not a Kubernetes object"),
        (CM.format(name="a") + "---\n" + CM.format(name="a"), "ConfigMap/a is declared twice"),
    ],
)
def test_invalid_objects(tmp_path: Path, content: str, expected: str) -> None:
    root = write(tmp_path, {"app.yaml": content})
    with pytest.raises(ValidationFailed) as caught:
        render(root, ".")
    assert expected in caught.value.message


def test_missing_path(tmp_path: Path) -> None:
    write(tmp_path, {"a.yaml": CM.format(name="a")})
    with pytest.raises(ArtifactFailed) as caught:
        render(tmp_path, "./clusters/prod")
    assert caught.value.reason == "ArtifactFailed" and "'./clusters/prod' not found" in caught.value.message
    with pytest.raises(ArtifactFailed, match="outside the repository"):
        render(tmp_path, "../..")


KUSTOMIZATION = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namePrefix: dev-
commonLabels:
  team: web
resources:
- ../../base
"""


def test_kustomize_build(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "base/kustomization.yaml": "resources:\n- cm.yaml\n",
        "base/cm.yaml": CM.format(name="web"),
        "overlays/dev/kustomization.yaml": KUSTOMIZATION,
    })
    manifests = render(root, "overlays/dev")
    assert names(manifests) == ["ConfigMap/dev-web"]
    assert manifests[0].obj["metadata"]["labels"] == {"team": "web"}
    assert manifests[0].built and manifests[0].origin.startswith("overlays/dev/kustomization.yaml")


def test_nested_kustomization_in_plain_directory(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "apps/a.yaml": CM.format(name="a"),
        "apps/web/kustomization.yaml": "namePrefix: k-\nresources:\n- cm.yaml\n",
        "apps/web/cm.yaml": CM.format(name="web"),
    })
    assert names(render(root, "apps")) == ["ConfigMap/a", "ConfigMap/k-web"]


def test_kustomization_that_does_not_build(tmp_path: Path) -> None:
    root = write(tmp_path, {"app/kustomization.yaml": "resources:\n- missing.yaml\n"})
    with pytest.raises(BuildFailed) as caught:
        render(root, "app")
    error = caught.value
    assert error.reason == "BuildFailed" and "app/kustomization.yaml" in error.message
    assert "missing.yaml" in error.message
    assert str(tmp_path) not in error.message, "cache paths are stripped from kustomize errors"


def test_kustomize_not_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write(tmp_path, {"app/kustomization.yaml": "resources: []\n"})
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(KustomizeNotFound) as caught:
        render(root, "app")
    assert caught.value.reason == "KustomizeNotFound" and "kubectl" in caught.value.message
    assert isinstance(caught.value, BuildFailed)


def test_kustomize_binary_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "kustomize"
    fake.write_text("#!/bin/sh\necho \"$@\" >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    root = write(tmp_path / "repo", {"app/kustomization.yaml": "resources: []\n"})
    assert render_mod.kustomize_command(root / "app")[1] == "build"
    with pytest.raises(BuildFailed, match="build"):
        render(root, "app")


def test_expand_hook_replaces_objects(tmp_path: Path) -> None:
    root = write(tmp_path, {
        "a.yaml": CM.format(name="a"),
        "hr.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web}\n",
    })
    passthrough = render(root, ".")
    assert names(passthrough) == ["ConfigMap/a", "HelmRelease/web"]

    def expand(manifest: Manifest) -> list[Manifest]:
        if manifest.obj["kind"] in render_mod.HELM_RELEASE_KINDS:
            obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "from-chart"}}
            return [manifest, Manifest(obj=obj, file=manifest.file, index=manifest.index)]
        return [manifest]

    assert names(render(root, ".", expand=expand)) == ["ConfigMap/a", "HelmRelease/web", "Service/from-chart"]


def test_kustomization_cannot_reach_outside_the_repository(tmp_path: Path) -> None:
    write(tmp_path, {"elsewhere/kustomization.yaml": "resources:\n- cm.yaml\n", "elsewhere/cm.yaml": CM.format(name="x")})
    root = write(tmp_path / "repo", {
        "app/kustomization.yaml": "resources:\n- ../base\n",
        "base/kustomization.yaml": "resources:\n- ../../elsewhere\n",
    })
    with pytest.raises(BuildFailed) as caught:
        render(root, "app")
    assert "base/kustomization.yaml refers to '../../elsewhere'" in caught.value.message
    assert "outside the repository" in caught.value.message


# -- bad revisions, end to end: real git over HTTP with basic auth, render, tenancy ----------------

GOOD = {"deploy/good.yaml": CM.format(name="good")}
BAD_REVISIONS = [
    ("invalid-yaml", {"deploy/bad.yaml": "kind: ConfigMap\nmetadata:\n  name: [x\n"}, {}, "./deploy", None,
     "ValidationFailed", "invalid YAML in deploy/bad.yaml line"),
    ("other-namespace", {"deploy/x.yaml": CM.format(name="x").replace("name: x", "name: x\n  namespace: kube-system")},
     {}, "./deploy", None, "TenancyViolation", "ConfigMap/x in deploy/x.yaml targets namespace 'kube-system'"),
    ("cluster-scoped", {"deploy/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: evil}\n"}, {},
     "./deploy", None, "TenancyViolation", "Namespace/evil in deploy/ns.yaml is cluster-scoped"),
    ("missing-path", {}, {}, "./nowhere", None, "ArtifactFailed", "path './nowhere' not found"),
    ("missing-branch", {}, {"branch": "nope"}, "./deploy", None, "GitOperationFailed", "branch 'nope' not found"),
    ("wrong-credentials", {}, {}, "./deploy", {"username": b"git", "password": b"not-the-password"},
     "GitOperationFailed", "refused the credentials"),
    ("kustomize-fails", {"deploy/kustomization.yaml": "resources:\n- good.yaml\n- gone.yaml\n"}, {}, "./deploy", None,
     "BuildFailed", "kustomize build of deploy/kustomization.yaml failed"),
]


@pytest.mark.parametrize(("case", "files", "ref", "path", "creds", "reason", "message"), BAD_REVISIONS,
                         ids=[c[0] for c in BAD_REVISIONS])
def test_bad_revision_fails_as_a_whole(
    tmp_path: Path, git_http_server: GitHttpServer, case: str, files: dict, ref: dict, path: str,  # noqa: F811
    creds: dict | None, reason: str, message: str,
) -> None:
    work = make_repo(tmp_path / "work", GOOD)
    commit(work, files, case)
    make_bare(work, git_http_server.root / "repo.git")
    credentials = creds or {"username": b"git", "password": git_http_server.password.encode()}
    objects: list[dict] | None = None
    with pytest.raises(ReconcileError) as caught:
        artifact = GitSource(tmp_path / "cache").fetch(
            git_http_server.url("repo.git"), ref or {"branch": "main"}, credentials, timeout=30)
        objects = enforce(render(artifact.path, path), "demo", builtin_is_namespaced)
    assert objects is None, "nothing of a bad revision may come out"
    assert caught.value.reason == reason
    assert message in caught.value.message
    assert "not-the-password" not in caught.value.message and str(tmp_path) not in caught.value.message
    if isinstance(caught.value, TenancyViolation):
        assert caught.value.object and caught.value.origin.startswith("deploy/")
    if isinstance(caught.value, GitOperationFailed):
        assert "127.0.0.1" in caught.value.message
