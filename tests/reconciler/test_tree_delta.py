"""A new commit's tree made from the previous one (reconciler/tree_delta.py) equals the full extraction of that
commit in every name, kind, mode and byte, whatever the commit did to its paths; anything the delta cannot prove
plain (a link, a .gitattributes, an odd name, an earlier tree that is not what its listing says) takes the full
extraction, with its refusals."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_tui.reconciler.errors import ArtifactFailed
from gitops_tui.reconciler.source import Artifact, GitSource
from gitops_tui.reconciler.tree_delta import parse_listing
from tests.gitserver import GIT_ENV, commit, git, make_repo
from tests.world import configmap

FILES = {f"app/cm-{i}.yaml": configmap(f"cm-{i}") for i in range(6)} | {"app/nested/deep.yaml": configmap("deep"),
                                                                        "README.md": "# app\n"}


def snapshot(tree: Path) -> dict[str, tuple[str, int, bytes]]:
    """Every entry under ``tree``: (kind, permission bits, content or link target), by relative path."""
    out = {}
    for current, dirs, files in os.walk(tree):
        for name in dirs + files:
            full = os.path.join(current, name)
            mode = os.lstat(full).st_mode
            if stat.S_ISLNK(mode):
                out[os.path.relpath(full, tree)] = ("link", stat.S_IMODE(mode), os.readlink(full).encode())
            elif stat.S_ISDIR(mode):
                out[os.path.relpath(full, tree)] = ("dir", stat.S_IMODE(mode), b"")
            else:
                out[os.path.relpath(full, tree)] = ("file", stat.S_IMODE(mode), Path(full).read_bytes())
    return out


def shared_files(one: Path, other: Path) -> set[str]:
    """Relative paths whose files are the same inode in both trees (hard-linked by the delta)."""
    inodes = {os.lstat(os.path.join(c, n)).st_ino: os.path.relpath(os.path.join(c, n), one)
              for c, _d, files in os.walk(one) for n in files}
    return {inodes[os.lstat(os.path.join(c, n)).st_ino] for c, _d, files in os.walk(other) for n in files
            if os.lstat(os.path.join(c, n)).st_ino in inodes}


def git_input(repo: Path, text: str, *args: str) -> str:
    """Run git in ``repo`` with ``text`` on its standard input; its output."""
    return subprocess.run(["git", "-C", str(repo), *args], input=text, env={**os.environ, **GIT_ENV},
                          capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def fetch(cache: Path, repo: Path, tmp_path: Path) -> Artifact:
    """Fetch main of ``repo`` with the cache ``cache``."""
    return GitSource(cache, local_roots=[tmp_path]).fetch(f"file://{repo}", {"branch": "main"})


def delta_and_full(tmp_path: Path, change: dict[str, str | None], edit: Callable[[Path], None] | None = None) -> tuple[Artifact, Artifact, Artifact]:
    """(the earlier tree, the new commit's tree made from it, the new commit's tree extracted whole elsewhere)."""
    repo = make_repo(tmp_path / "repo", dict(FILES))
    source = GitSource(tmp_path / "cache", local_roots=[tmp_path])
    base = source.fetch(f"file://{repo}", {"branch": "main"})
    if edit is not None:
        edit(repo)
    commit(repo, change, "change")
    delta = source.fetch(f"file://{repo}", {"branch": "main"})
    assert delta.checked_out and delta.commit == git(repo, "rev-parse", "HEAD")
    return base, delta, fetch(tmp_path / "fresh-cache", repo, tmp_path)


def test_one_changed_file_is_extracted_and_the_rest_linked(tmp_path: Path) -> None:
    base, delta, full = delta_and_full(tmp_path, {"app/cm-2.yaml": configmap("cm-2", "v2")})
    assert snapshot(delta.path) == snapshot(full.path)
    assert (delta.path / "app/cm-2.yaml").read_text() == configmap("cm-2", "v2")
    assert shared_files(base.path, delta.path) == set(FILES) - {"app/cm-2.yaml"}
    assert (base.path / "app/cm-2.yaml").read_text() == configmap("cm-2"), "the earlier tree is untouched"


def test_a_deleted_file_is_gone_and_nothing_else_moved(tmp_path: Path) -> None:
    base, delta, full = delta_and_full(tmp_path, {"app/cm-0.yaml": None, "app/nested/deep.yaml": None})
    assert snapshot(delta.path) == snapshot(full.path)
    assert not (delta.path / "app/cm-0.yaml").exists() and not (delta.path / "app/nested").exists()
    assert (base.path / "app/nested/deep.yaml").exists()
    assert shared_files(base.path, delta.path)


def test_a_renamed_directory(tmp_path: Path) -> None:
    def rename(repo: Path) -> None:
        git(repo, "mv", "app", "apps")

    base, delta, full = delta_and_full(tmp_path, {}, rename)
    assert snapshot(delta.path) == snapshot(full.path)
    assert not (delta.path / "app").exists() and (delta.path / "apps/nested/deep.yaml").is_file()


def test_a_file_that_becomes_a_directory_and_a_directory_that_becomes_a_file(tmp_path: Path) -> None:
    def swap(repo: Path) -> None:
        git(repo, "rm", "-q", "-r", "app/nested", "app/cm-5.yaml")

    base, delta, full = delta_and_full(tmp_path, {"app/nested": configmap("flat"),
                                                  "app/cm-5.yaml/inner.yaml": configmap("inner")}, swap)
    assert snapshot(delta.path) == snapshot(full.path)
    assert (delta.path / "app/nested").is_file() and (delta.path / "app/cm-5.yaml/inner.yaml").is_file()
    assert shared_files(base.path, delta.path) == {f"app/cm-{i}.yaml" for i in range(5)} | {"README.md"}


def test_a_mode_change_alone_is_extracted_with_its_mode(tmp_path: Path) -> None:
    def executable(repo: Path) -> None:
        (repo / "README.md").chmod(0o755)

    base, delta, full = delta_and_full(tmp_path, {}, executable)
    assert snapshot(delta.path) == snapshot(full.path)
    assert stat.S_IMODE((delta.path / "README.md").stat().st_mode) == 0o500
    assert stat.S_IMODE((base.path / "README.md").stat().st_mode) == 0o400
    assert stat.S_IMODE((delta.path / "app").stat().st_mode) == 0o500


def test_a_changed_file_that_becomes_a_link_takes_the_full_extraction(tmp_path: Path) -> None:
    def link(repo: Path) -> None:
        (repo / "app/cm-1.yaml").unlink()
        (repo / "app/cm-1.yaml").symlink_to("cm-0.yaml")

    base, delta, full = delta_and_full(tmp_path, {}, link)
    assert snapshot(delta.path) == snapshot(full.path)
    assert (delta.path / "app/cm-1.yaml").is_symlink()
    assert not shared_files(base.path, delta.path), "a tree holding a link is extracted whole"


def test_a_link_out_of_the_repository_is_still_refused(tmp_path: Path) -> None:
    def escape(repo: Path) -> None:
        (repo / "app/cm-1.yaml").unlink()
        (repo / "app/cm-1.yaml").symlink_to("/etc/passwd")

    with pytest.raises(ArtifactFailed, match="unsafe entry"):
        delta_and_full(tmp_path, {}, escape)


def test_export_attributes_take_the_full_extraction(tmp_path: Path) -> None:
    """``git archive`` honours export-ignore: the delta never guesses what a .gitattributes does."""
    base, delta, full = delta_and_full(tmp_path, {".gitattributes": "app/cm-3.yaml export-ignore\n"})
    assert snapshot(delta.path) == snapshot(full.path)
    assert not (delta.path / "app/cm-3.yaml").exists()
    assert not shared_files(base.path, delta.path)


def test_a_path_with_dot_dot_is_refused_as_before(tmp_path: Path) -> None:
    """A crafted tree naming '..': the delta refuses it and the full extraction's refusal stands."""
    repo = make_repo(tmp_path / "repo", dict(FILES))
    source = GitSource(tmp_path / "cache", local_roots=[tmp_path])
    source.fetch(f"file://{repo}", {"branch": "main"})
    blob = git_input(repo, "evil\n", "hash-object", "-w", "--stdin")
    inner = git_input(repo, f"100644 blob {blob}\tevil.yaml\n", "mktree")
    listing = git(repo, "ls-tree", "HEAD")
    top = git_input(repo, f"{listing}\n040000 tree {inner}\t..\n", "mktree")
    crafted = git(repo, "commit-tree", top, "-p", "HEAD", "-m", "escape")
    git(repo, "update-ref", "refs/heads/main", crafted)
    with pytest.raises(ArtifactFailed, match="cannot check out"):
        source.fetch(f"file://{repo}", {"branch": "main"})
    assert not list((tmp_path / "cache").glob(f"*/trees/{crafted}"))


def test_an_earlier_tree_that_is_not_what_its_listing_says_is_not_used(tmp_path: Path) -> None:
    """Should a file of the earlier tree become a link, the delta notices and extracts the whole tree."""
    def tamper(repo: Path) -> None:
        folder = next((tmp_path / "cache").glob("*/trees/*/app"))
        folder.chmod(0o700)
        (folder / "cm-4.yaml").unlink()
        (folder / "cm-4.yaml").symlink_to("/etc/passwd")

    base, delta, full = delta_and_full(tmp_path, {"app/cm-2.yaml": configmap("cm-2", "v2")}, tamper)
    assert snapshot(delta.path) == snapshot(full.path)
    assert not (delta.path / "app/cm-4.yaml").is_symlink()


@pytest.mark.parametrize("raw", [
    b"120000 blob " + b"1" * 40 + b"\tlink\0",
    b"160000 commit " + b"1" * 40 + b"\tsub\0",
    b"100644 blob " + b"1" * 40 + b"\t../x\0",
    b"100644 blob " + b"1" * 40 + b"\ta//x\0",
    b"100644 blob " + b"1" * 40 + b"\t/abs\0",
    b"100644 blob " + b"1" * 40 + b"\tdeep/.gitattributes\0",
    b"100644 blob " + b"1" * 40 + b"\ta\0" + b"100644 blob " + b"2" * 40 + b"\ta\0",
    b"100644 blob " + b"1" * 40 + b"\ta\0" + b"100644 blob " + b"2" * 40 + b"\ta/b\0",
])
def test_listings_the_delta_refuses(raw: bytes) -> None:
    assert parse_listing(raw) is None


def test_a_plain_listing() -> None:
    raw = b"100644 blob " + b"1" * 40 + b"\tapp/a.yaml\0" + b"100755 blob " + b"2" * 40 + b"\trun.sh\0"
    assert parse_listing(raw) == {b"app/a.yaml": (b"100644", b"1" * 40), b"run.sh": (b"100755", b"2" * 40)}
