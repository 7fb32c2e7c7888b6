"""ArtifactGenerator copy operations with source-watcher's semantics (its documented examples), and their bounds.

The cases follow fluxcd/source-watcher's documentation of copy operations (``cp``-like: a file to a path or into a
folder, a glob into a folder, a folder as a subfolder, ``dir/**`` stripping ``dir/``, exclude patterns, later
operations overwriting, ``Merge`` of YAML); then what an attacker would write: paths out of the source, links out
of it, an artifact larger than the limits, kinds that are not served.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_tui.api import names
from gitops_tui.reconciler.errors import ArtifactFailed, BuildFailed, OverLimit, ValidationFailed
from gitops_tui.reconciler.flux import artifact_copy
from gitops_tui.reconciler.flux.artifact_copy import Budget, apply, parse_operation
from gitops_tui.reconciler.flux.artifact_generator import generate
from tests.world import World, configmap


def tree(base: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (base / path).parent.mkdir(parents=True, exist_ok=True)
        (base / path).write_text(text)
    return base


def files_of(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def copy(tmp_path: Path, source: dict[str, str], *ops: dict[str, Any]) -> dict[str, str]:
    """Run ``ops`` from a source holding ``source`` into a fresh artifact; the artifact's files."""
    src = tree(tmp_path / "source", source)
    staging = tmp_path / "artifact"
    staging.mkdir()
    budget = Budget(where="test")
    for index, op in enumerate(ops):
        apply(parse_operation(op, f"copy[{index}]"), {"source": src}, staging, budget)
    return files_of(staging)


SOURCE = {"config.yaml": "a: 1\n", "configs/file1.yaml": "f: 1\n", "configs/file2.yaml": "f: 2\n",
          "configs/README.md": "docs\n", "configs/subdir/file3.yaml": "f: 3\n",
          "configs/testdata/fixture.yaml": "t: 1\n"}


@pytest.mark.parametrize(("op", "expected"), [
    ({"from": "@source/config.yaml", "to": "@artifact/apps/app.yaml"}, {"apps/app.yaml": "a: 1\n"}),
    ({"from": "@source/config.yaml", "to": "@artifact/apps/"}, {"apps/config.yaml": "a: 1\n"}),
    ({"from": "@source/configs/*.yaml", "to": "@artifact/apps/"}, {"apps/file1.yaml": "f: 1\n",
                                                                  "apps/file2.yaml": "f: 2\n"}),
    ({"from": "@source/configs/", "to": "@artifact/apps/"}, {
        "apps/configs/README.md": "docs\n", "apps/configs/file1.yaml": "f: 1\n", "apps/configs/file2.yaml": "f: 2\n",
        "apps/configs/subdir/file3.yaml": "f: 3\n", "apps/configs/testdata/fixture.yaml": "t: 1\n"}),
    ({"from": "@source/configs/**", "to": "@artifact/apps/", "exclude": ["*.md", "**/testdata/**"]}, {
        "apps/file1.yaml": "f: 1\n", "apps/file2.yaml": "f: 2\n", "apps/subdir/file3.yaml": "f: 3\n"}),
])
def test_copy_operations_are_cp_like(tmp_path: Path, op: dict[str, Any], expected: dict[str, str]) -> None:
    assert copy(tmp_path, SOURCE, op) == expected


def test_later_operations_overwrite_and_merge_merges_yaml(tmp_path: Path) -> None:
    source = {"chart/values.yaml": "image: {tag: v1, repo: x}\nlist: [1, 2]\n", "prod.yaml": "image: {tag: v2}\n"
              "list: [3]\n", "other/values.yaml": "replaced: true\n"}
    merged = copy(tmp_path, source, {"from": "@source/chart/", "to": "@artifact/"},
                  {"from": "@source/prod.yaml", "to": "@artifact/chart/values.yaml", "strategy": "Merge"})
    assert yaml.safe_load(merged["chart/values.yaml"]) == {"image": {"tag": "v2", "repo": "x"}, "list": [3]}
    overwritten = copy(tmp_path / "2", source, {"from": "@source/chart/", "to": "@artifact/"},
                       {"from": "@source/other/values.yaml", "to": "@artifact/chart/values.yaml"})
    assert overwritten["chart/values.yaml"] == "replaced: true\n"


@pytest.mark.parametrize(("op", "error", "words"), [
    ({"from": "@source/nothing/*.yaml", "to": "@artifact/"}, BuildFailed,
     "no files match pattern 'nothing/*.yaml' in source 'source'"),
    ({"from": "@source/missing.yaml", "to": "@artifact/"}, BuildFailed, "source 'missing.yaml' does not exist"),
    ({"from": "@other/config.yaml", "to": "@artifact/"}, BuildFailed, "source alias 'other' not found"),
    ({"from": "@source/../../etc/passwd", "to": "@artifact/"}, ValidationFailed, "must stay inside the source"),
    ({"from": "@source/config.yaml", "to": "@artifact/../../x"}, ValidationFailed, "must stay inside the source"),
    ({"from": "@source//etc/passwd", "to": "@artifact/"}, ValidationFailed, "must stay inside the source"),
    ({"from": "source/config.yaml", "to": "@artifact/"}, ValidationFailed, "the format is '@alias/pattern'"),
    ({"from": "@source/config.yaml", "to": "/tmp/x"}, ValidationFailed, "the format is '@artifact/path'"),
    ({"from": "@source/x.tgz", "to": "@artifact/", "strategy": "Extract"}, ValidationFailed,
     "Extract (tarballs) is not supported"),
    ({"from": "@source/*.yaml", "to": "@artifact/", "exclude": ["x"] * 101}, ValidationFailed, "at most 100"),
])
def test_bad_copy_operations_are_refused_in_one_sentence(tmp_path: Path, op: dict[str, Any], error: type,
                                                         words: str) -> None:
    with pytest.raises(error) as raised:
        copy(tmp_path, SOURCE, op)
    assert words in raised.value.message and "\n" not in raised.value.message, raised.value.message


def test_a_link_out_of_the_source_is_refused(tmp_path: Path) -> None:
    secret = tree(tmp_path / "secrets", {"key": "the other project's secret\n"})
    src = tree(tmp_path / "source", {"app/cm.yaml": "a: 1\n"})
    os.symlink(secret / "key", src / "app" / "key.yaml")
    staging = tmp_path / "artifact"
    staging.mkdir()
    with pytest.raises(ArtifactFailed) as raised:
        apply(parse_operation({"from": "@source/app/**", "to": "@artifact/"}, "copy[0]"), {"source": src}, staging,
              Budget(where="ArtifactGenerator/x artifact y"))
    assert raised.value.message == ("ArtifactGenerator/x artifact y: app/key.yaml is a symbolic link leaving the "
                                    "source's tree")
    assert "secret" not in "".join(files_of(staging).values())


def test_an_artifact_beyond_the_limits_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifact_copy, "MAX_FILES", 3)
    with pytest.raises(OverLimit) as raised:
        copy(tmp_path, SOURCE, {"from": "@source/configs/**", "to": "@artifact/"})
    assert raised.value.message == "test: the artifact would hold more than 3 files or 64 MiB"


def test_the_artifact_is_named_by_its_content(tmp_path: Path) -> None:
    recipe = {"generator": "gen", "name": "apps", "sources": {"repo": {"self": True}},
              "copy": [{"from": "@repo/apps/**", "to": "@artifact/"}]}
    first = tree(tmp_path / "c1", {"apps/a.yaml": "a: 1\n", "infra/b.yaml": "b: 1\n"})
    second = tree(tmp_path / "c2", {"apps/a.yaml": "a: 1\n", "infra/b.yaml": "b: 2\n"})
    third = tree(tmp_path / "c3", {"apps/a.yaml": "a: 2\n", "infra/b.yaml": "b: 2\n"})
    cache = tmp_path / "artifacts"
    one, two, three = (generate(recipe, tree_, lambda spec: tmp_path, cache) for tree_ in (first, second, third))
    assert one == two, "a commit outside the artifact's folders gives the same artifact (rendered once)"
    assert one[1].startswith("latest@sha256:") and len(one[1]) == len("latest@sha256:") + 64
    assert three[1] != one[1] and files_of(three[0]) == {"a.yaml": "a: 2\n"}


# -- the generator as a parent declares it ---------------------------------------------------------------------------

def generator(sources: list[dict[str, Any]], copies: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({"apiVersion": "source.extensions.fluxcd.io/v1beta1", "kind": "ArtifactGenerator",
                           "metadata": {"name": "gen", "namespace": "flux-system"},
                           "spec": {"sources": sources, "artifacts": [{"name": "apps", "copy": copies}]}})


def external(name: str, path: str) -> str:
    return yaml.safe_dump({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                           "metadata": {"name": name, "namespace": "flux-system"},
                           "spec": {"interval": "10m", "path": path, "prune": True,
                                    "sourceRef": {"kind": "ExternalArtifact", "name": "apps"}}})


MONOREPO = [{"alias": "monorepo", "kind": "GitRepository", "name": "flux-system"}]


@pytest.mark.parametrize(("generator_text", "words"), [
    (generator([{"alias": "oci", "kind": "OCIRepository", "name": "charts"}], [{"from": "@oci/**", "to": "@artifact/"}]),
     "ArtifactGenerator/gen in clusters/gen.yaml: spec.sources[0].kind: OCIRepository sources of an ArtifactGenerator "
     "are not supported; use a GitRepository"),
    (generator(MONOREPO, [{"from": "@monorepo/../../../etc/**", "to": "@artifact/"}]),
     "ArtifactGenerator/gen in clusters/gen.yaml: artifact apps copy[0].from: Invalid value: '../../../etc/**' must "
     "stay inside the source (no '..', no absolute path)"),
    (generator(MONOREPO, [{"from": "@elsewhere/**", "to": "@artifact/"}]),
     "copy[0].from: source alias 'elsewhere' is not one of spec.sources"),
    (generator([{"alias": "x", "kind": "GitRepository", "name": "../../etc"}], [{"from": "@x/**", "to": "@artifact/"}]),
     "spec.sources[0].name: Invalid value: \"../../etc\": a lowercase RFC 1123 subdomain"),
    ("", "spec.sourceRef names ExternalArtifact 'apps', which no ArtifactGenerator of this revision makes"),
])
def test_a_generator_an_attacker_writes_refuses_the_parents_revision(world: World, generator_text: str,
                                                                     words: str) -> None:
    files = {"clusters/app.yaml": external("app", "./"), "apps/cm.yaml": configmap("app"),
             "clusters/cm.yaml": configmap("root-config")}
    if generator_text:
        files["clusters/gen.yaml"] = generator_text
    repo = world.repo("fleet", files)
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    cond = world.condition("root", names.READY)
    assert cond["status"] == "False" and words in cond["message"], cond
    assert world.source("app").kustomization is None and world.get("dev", "configmaps", "root-config") is None


def test_a_child_reads_its_external_artifact(world: World) -> None:
    files = {"clusters/gen.yaml": generator(MONOREPO, [{"from": "@monorepo/apps/**", "to": "@artifact/app/"}]),
             "clusters/app.yaml": external("app", "./app"), "apps/cm.yaml": configmap("from-artifact"),
             "other/cm.yaml": configmap("not-copied")}
    repo = world.repo("fleet", files)
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    world.reconcile("app")
    assert world.condition("app", names.READY)["status"] == "True", world.condition("app", names.READY)
    assert world.get("dev", "configmaps", "from-artifact") is not None
    assert world.get("dev", "configmaps", "not-copied") is None
    head = world.head(repo)
    assert all(row["lastAppliedRevision"].endswith(head) for row in world.status("app")["clusters"]), \
        "the child runs its parent's commit (its artifact's origin revision)"
