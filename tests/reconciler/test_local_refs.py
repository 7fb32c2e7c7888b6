"""A local repository's ref check without a process (reconciler/local_refs.py): an unchanged stamp renews the last
ls-remote answer; every way a ref can move (a commit, a packed ref, a symbolic HEAD, a deleted branch, a new tag, a
ref moved while ls-remote ran) changes the stamp, so the answer served always equals what `git ls-remote` says."""

from __future__ import annotations

from pathlib import Path

from gitops_tui.reconciler import local_refs
from gitops_tui.reconciler.errors import GitOperationFailed
from gitops_tui.reconciler.refs import parse_ls_remote
from gitops_tui.reconciler.remote_refs import PATTERNS, RemoteRefs
from gitops_tui.reconciler.source import GitSource
from tests.gitserver import commit, git, make_bare, make_repo, push, tag
from tests.world import configmap


def _ls_remote(repo: Path) -> dict[str, str]:
    """What real git answers for the repository (the reference)."""
    return parse_ls_remote(git(repo, "ls-remote", "--", f"file://{repo}", *PATTERNS))


def _listing(source: GitSource, repo: Path) -> dict[str, str]:
    """The refs the reconciler serves for the repository now (an answer at most 0 s old: checked every call)."""
    url = f"file://{repo}"
    try:
        source.fetch(url, {"branch": "main"}, max_age=1e-9, owner=("ns", "a"))
    except GitOperationFailed:
        pass  # main deleted: the answer was recorded before the branch was looked for
    found = source.remote.last((url, source.fingerprint({})))
    assert found is not None
    return dict(found.refs)


def test_an_unchanged_local_repository_runs_no_git(tmp_path: Path) -> None:
    """Three checks of a repository nobody touched: one ls-remote, then two renewals from the stamp alone."""
    repo = make_repo(tmp_path / "repo", {"cm.yaml": configmap("a")})
    source = GitSource(tmp_path / "cache", local_roots=[tmp_path])
    answers = [_listing(source, repo) for _ in range(3)]
    assert answers == [_ls_remote(repo)] * 3
    assert (source.remote.asked, source.remote.renewed) == (1, 2)


def test_every_way_a_ref_moves_is_seen_and_the_answer_equals_ls_remote(tmp_path: Path) -> None:
    """A commit, a new branch, a packed ref, an annotated tag, a symbolic HEAD moved, a deleted branch (loose and
    packed): each makes the next check run ls-remote, and what is served equals git's own answer."""
    repo = make_repo(tmp_path / "repo", {"cm.yaml": configmap("a")})
    source = GitSource(tmp_path / "cache", local_roots=[tmp_path])
    assert _listing(source, repo) == _ls_remote(repo)
    moves = [
        lambda: commit(repo, {"cm.yaml": configmap("a", "v2")}),
        lambda: git(repo, "branch", "other"),
        lambda: git(repo, "pack-refs", "--all"),
        lambda: tag(repo, "v1.0.0", annotated=True),
        lambda: git(repo, "symbolic-ref", "HEAD", "refs/heads/other"),
        lambda: git(repo, "branch", "-D", "main"),  # packed: packed-refs is rewritten
        lambda: git(repo, "branch", "third"),
        lambda: git(repo, "branch", "-D", "third"),  # loose: the file goes
        lambda: git(repo, "pack-refs", "--all"),
        lambda: git(repo, "tag", "-d", "v1.0.0"),  # packed: only packed-refs changes
    ]
    for number, move in enumerate(moves, start=1):
        asked = source.remote.asked
        move()
        assert _listing(source, repo) == _ls_remote(repo), f"move {number}"
        assert source.remote.asked == asked + 1, f"move {number} was not seen"
        assert _listing(source, repo) == _ls_remote(repo)
        assert source.remote.asked == asked + 1, f"after move {number} nothing changed, yet git ran"


def test_a_bare_repository_is_stamped_too(tmp_path: Path) -> None:
    """A bare repository (what a server would hold) renews the same way, and a push to it is seen."""
    work = make_repo(tmp_path / "work", {"cm.yaml": configmap("a")})
    bare = make_bare(work, tmp_path / "bare.git")
    source = GitSource(tmp_path / "cache", local_roots=[tmp_path])
    assert _listing(source, bare) == _ls_remote(bare)
    assert _listing(source, bare) == _ls_remote(bare)
    assert (source.remote.asked, source.remote.renewed) == (1, 1)
    commit(work, {"cm.yaml": configmap("a", "v2")})
    push(work, bare, "main")
    assert _listing(source, bare) == _ls_remote(bare)
    assert source.remote.asked == 2


def test_a_ref_moved_while_ls_remote_ran_is_seen_at_the_next_check(tmp_path: Path) -> None:
    """The stamp kept with an answer is the one taken before ls-remote started: a commit landing between the two
    leaves a stamp that no longer matches, so the next check asks git again instead of keeping a stale answer."""
    repo = make_repo(tmp_path / "repo", {"cm.yaml": configmap("a")})
    remote, key = RemoteRefs(), (f"file://{repo}", "")
    before = local_refs.stamp(repo)
    assert before is not None
    answer = _ls_remote(repo)
    commit(repo, {"cm.yaml": configmap("a", "v2")})  # lands after the stamp, as if during ls-remote
    remote.record(key, answer, remote.clock(), before)
    now = local_refs.stamp(repo)
    assert now is not None and now != before
    assert remote.renew(key, now, remote.clock()) is None
    assert remote.renew(key, before, remote.clock()) is not None  # the same stamp would have renewed


def test_layouts_it_does_not_model_always_run_ls_remote(tmp_path: Path) -> None:
    """A linked worktree (a .git file), a HEAD naming a ref outside heads and tags, a folder that is no repository:
    no stamp, so ls-remote runs every time."""
    repo = make_repo(tmp_path / "repo", {"cm.yaml": configmap("a")})
    git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "linked"))
    assert local_refs.stamp(tmp_path / "linked") is None
    assert local_refs.stamp(tmp_path) is None
    assert local_refs.stamp(repo) is not None
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    git(repo, "symbolic-ref", "HEAD", "refs/remotes/origin/main")
    assert local_refs.stamp(repo) is None
    source = GitSource(tmp_path / "cache", local_roots=[tmp_path])
    url = f"file://{tmp_path / 'linked'}"
    for _ in range(2):
        source.fetch(url, {"branch": "side"}, max_age=1e-9)
    assert (source.remote.asked, source.remote.renewed) == (2, 0)
