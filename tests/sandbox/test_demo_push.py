"""The demo repository accepts `git push`: a bare remote (the source's URL) with a working clone to edit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import git

from gitops_tui.sandbox.demo_repo import demo_repo_path, demo_work_path, make_demo_repo


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_the_demo_clone_pushes_to_the_sources_remote(tmp_path: Path) -> None:
    bare = make_demo_repo(tmp_path)
    assert bare == demo_repo_path(tmp_path) and git.Repo(bare).bare
    work = demo_work_path(tmp_path)
    first = git.Repo(bare).commit("main").hexsha
    assert _git(work, "rev-parse", "HEAD") == first
    text = (work / "apps" / "deployment.yaml").read_text()
    (work / "apps" / "deployment.yaml").write_text(text.replace("replicas: 2", "replicas: 3"))
    _git(work, "commit", "-qam", "three replicas")
    pushed = subprocess.run(["git", "push"], cwd=work, capture_output=True, text=True)
    assert pushed.returncode == 0, pushed.stderr
    assert git.Repo(bare).commit("main").hexsha == _git(work, "rev-parse", "HEAD") != first
    assert make_demo_repo(tmp_path) == bare and git.Repo(bare).commit("main").hexsha != first, "kept on the next up"


def test_an_old_demo_checkout_accepts_pushes_too(tmp_path: Path) -> None:
    """A sandbox made before the bare remote keeps its checkout; a push to its main updates it."""
    old = demo_repo_path(tmp_path)
    old.mkdir(parents=True)
    _git(old, "init", "-q", "-b", "main")
    (old / "a.txt").write_text("a\n")
    _git(old, "add", "a.txt")
    _git(old, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a")
    assert make_demo_repo(tmp_path) == old
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(old), str(clone))
    (clone / "a.txt").write_text("b\n")
    _git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "b")
    pushed = subprocess.run(["git", "push", "-q", "origin", "main"], cwd=clone, capture_output=True, text=True)
    assert pushed.returncode == 0, pushed.stderr
    assert (old / "a.txt").read_text() == "b\n"
