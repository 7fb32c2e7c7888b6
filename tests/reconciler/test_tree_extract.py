"""A revision's tree: plain files are extracted without the data filter's per-member realpath, yet land owned by
this process, unwritable and where their names say; a tree with a link goes through the data filter as before."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gitops_tui.reconciler.source import GitSource
from tests.gitserver import commit, git, make_repo
from tests.world import configmap


def test_a_plain_tree_is_owned_by_the_reconciler_and_read_only(tmp_path: Path) -> None:
    """An executable and a manifest: same content, this process's uid, no write bit, no set-id bit, exec kept."""
    repo = make_repo(tmp_path / "plain", {"app/cm.yaml": configmap("plain"), "tools/run.sh": "#!/bin/sh\n"})
    (repo / "tools" / "run.sh").chmod(0o6755)
    git(repo, "add", "-A")
    commit(repo, {}, "executable")
    tree = GitSource(tmp_path / "cache", local_roots=[tmp_path]).fetch(f"file://{repo}", {"branch": "main"}).path
    manifest, script = tree / "app" / "cm.yaml", tree / "tools" / "run.sh"
    assert manifest.read_text() == configmap("plain")
    for path in (manifest, script):
        mode = path.stat().st_mode
        assert path.stat().st_uid == os.getuid()
        assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH | stat.S_ISUID | stat.S_ISGID)
    assert script.stat().st_mode & stat.S_IXUSR and not manifest.stat().st_mode & stat.S_IXUSR


def test_a_tree_with_a_link_inside_the_repository_still_extracts(tmp_path: Path) -> None:
    """A link to a file of the same revision: the data filter lets it through, and it reads the file."""
    repo = make_repo(tmp_path / "linked", {"base/cm.yaml": configmap("linked")})
    (repo / "alias.yaml").symlink_to("base/cm.yaml")
    commit(repo, {}, "link")
    tree = GitSource(tmp_path / "cache", local_roots=[tmp_path]).fetch(f"file://{repo}", {"branch": "main"}).path
    assert (tree / "alias.yaml").is_symlink() and (tree / "alias.yaml").read_text() == configmap("linked")
