"""Git source: fetch a ref (branch, tag, semver, commit) into a cache and check out an artifact tree.

The cache holds one bare repository per URL **and credentials** (a keyed fingerprint of the credentials'
content, never the content): a source is served only what its own credentials fetched, so a commit another
project's private fetch left on disk is not a way into that repository (docs/security.md#git-caches).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import stat
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import git

from gitops_tui.api.formats import format_revision
from gitops_tui.kube.outbound import FetchPolicy, FetchRefused
from gitops_tui.paths import private_dir
from gitops_tui.reconciler import local_refs, metrics, tree_delta
from gitops_tui.reconciler.errors import ArtifactFailed, GitOperationFailed
from gitops_tui.reconciler.git_access import RemoteAccess, fingerprint, fingerprint_key
from gitops_tui.reconciler.git_objects import EMPTY_TREE, ObjectReaders
from gitops_tui.reconciler.git_process import run_git
from gitops_tui.reconciler.git_runner import GitRunner
from gitops_tui.reconciler.gitauth import (
    base_environment,
    git_environment,
    remove_stale_identities,
    split_url_credentials,
)
from gitops_tui.reconciler.remote_refs import RemoteRefs, RepoKey, tracks
from gitops_tui.reconciler.source_urls import (
    SourceUrlRefused,
    allowed_local_roots,
    check_source_url,
    forbidden_dirs,
    is_remote,
    local_path,
)
from gitops_tui.redact import scrub, scrub_url

log = logging.getLogger(__name__)

#: A source, as (namespace, name).
Owner = tuple[str, str]
#: Seconds writing a commit's tree out of the cache may take.
ARCHIVE_TIMEOUT = 120.0

_COMMIT = re.compile(r"^[0-9a-f]{40}$")

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class Artifact:
    """A fetched revision: "main@sha1:<sha>", the commit, and a read-only tree of exactly that commit.

    `fetched` is True when objects were downloaded, `checked_out` when the tree was (re)made.
    """

    revision: str
    commit: str
    path: Path
    fetched: bool = False
    checked_out: bool = False
    #: An ExternalArtifact built from the tree (flux/artifact_generator.py): its ``latest@sha256:...`` and name.
    digest: str = ""
    external: str = ""


def _url_lock(key: str) -> threading.Lock:
    """The in-process lock serialising work on one cached repository."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


@contextmanager
def _locked(directory: Path, key: str) -> Iterator[None]:
    """Hold the thread lock and an flock on `directory/lock` (several processes may share the cache)."""
    with _url_lock(key):
        private_dir(directory)
        with os.fdopen(os.open(directory / "lock", os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _make_writable(path: Path) -> None:
    """Give the owner write permission on every directory under `path` so it can be removed."""
    for root, dirs, _files in os.walk(path):
        os.chmod(root, 0o700)
        for name in dirs:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                os.chmod(full, 0o700)


def _remove_tree(path: Path) -> None:
    """Remove a (read-only) artifact tree."""
    if path.exists():
        _make_writable(path)
        shutil.rmtree(path, ignore_errors=True)


def _plain(members: list[tarfile.TarInfo]) -> bool:
    """Whether an archive holds only files and directories under relative names without '..': no link anywhere, so
    every member lands where its name says, and the data filter's realpath per member (most of the time a tree of
    hundreds of files takes) has nothing left to catch. Any link, device or odd name: the data filter, as before."""
    for member in members:
        name = member.name
        if not (member.isreg() or member.isdir()) or name.startswith("/") or ".." in name.split("/") or "\0" in name:
            return False
    return True


def _plain_filter(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo:
    """A member of a _plain archive, owned by this process, without set-id or sticky bits or write for others."""
    # None keeps this process as owner, as tarfile.data_filter itself passes (typeshed types them int, str)
    return member.replace(uid=None, gid=None, uname=None, gname=None,  # type: ignore[arg-type]
                          mode=member.mode & 0o755, deep=False)


def _make_read_only(path: Path) -> None:
    """Leave every file and directory under `path` readable by the owner only, and writable by nobody."""
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                os.chmod(full, os.stat(full).st_mode & (stat.S_IRUSR | stat.S_IXUSR))
        for name in dirs:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                os.chmod(full, 0o500)
    os.chmod(path, 0o500)


class GitSource:
    """Fetches git revisions into `cache_dir`, one bare repository per URL and credentials, reusing what it has."""

    def __init__(self, cache_dir: Path, *, keep_trees: int = 4, local_roots: Sequence[Path] | None = None,
                 data_dir: Path | None = None, on_moved: Callable[[list[Owner]], None] | None = None) -> None:
        """Use `cache_dir` for cached clones and artifact trees; keep `keep_trees` trees per URL.

        Local repositories are fetched only under `local_roots` (default: source_urls.allowed_local_roots())
        and never inside `cache_dir` or the reconciler's `data_dir`. ``on_moved(owners)``: an ls-remote saw the
        refs of these sources move (the owners named at their last fetch, on the same URL and credentials).
        """
        self.cache_dir = Path(cache_dir)
        self.keep_trees = keep_trees
        self.local_roots = allowed_local_roots(local_roots)
        self.forbidden = forbidden_dirs(self.cache_dir, data_dir)
        self.identities = self.cache_dir / ".identities"
        self.access = RemoteAccess()
        self.remote = RemoteRefs()
        self.on_moved = on_moved
        self.readers = ObjectReaders()
        self.listings = tree_delta.Listings()
        self._users: dict[RepoKey, dict[Owner, dict[str, str]]] = {}  # who fetched each repository, and which ref
        self._users_lock = threading.Lock()
        self._known: dict[tuple[Path, str], str] = {}  # (repository, ref target) -> the commit it names, cached
        self._key = fingerprint_key(self.cache_dir)
        if remove_stale_identities(self.identities):
            log.info("removed ssh identities left by a reconciler that was killed mid-fetch")

    def fingerprint(self, credentials: dict[str, bytes] | None) -> str:
        """A keyed fingerprint of the credentials' content ("" for none); see git_access.fingerprint."""
        return fingerprint(self._key, credentials)

    def repo_dir(self, url: str, credentials: dict[str, bytes] | None = None) -> Path:
        """The cache directory of one URL fetched with ``credentials`` (user:password@ of the URL included)."""
        plain, url_creds = split_url_credentials(url)
        key = self.fingerprint({**url_creds, **(credentials or {})})
        return self.cache_dir / hashlib.sha256(f"{plain}\0{key}".encode()).hexdigest()[:24]

    def fetch(
        self,
        url: str,
        ref: dict[str, str] | None,
        credentials: dict[str, bytes] | None = None,
        timeout: float = 60.0,
        allow: FetchPolicy | None = None,
        *,
        max_age: float = 0.0,
        since: float | None = None,
        owner: Owner | None = None,
    ) -> Artifact:
        """Fetch `ref` of `url` and return the artifact; raises GitOperationFailed, ArtifactFailed or SourceUrlRefused.

        ref is one of {"branch"}, {"tag"}, {"semver"}, {"commit"} (a commit may come with a
        branch); priority commit > semver > tag > branch, as in Flux. No ref means branch master.
        ``allow``: the URL comes from a repository's content (a Flux child's GitRepository): a remote one must
        pass the operator's allow-list, and git connects only to the address it checked.
        ``max_age``: the ref may be read from an ls-remote answer of these credentials this many seconds old
        (another source's: one check per repository per interval); ``since``: an answer from no earlier than this
        monotonic time (a webhook delivery). A ref that did not move, with its tree made, runs no git at all.
        ``owner`` (namespace, name): the source fetching; the other owners of this URL and credentials whose ref
        an ls-remote of this fetch sees move are handed to ``on_moved``.
        """
        plain_url, url_creds = split_url_credentials(url)
        check_source_url(plain_url, self.local_roots, self.forbidden)
        pinned = self._pin(plain_url, allow) if allow is not None and is_remote(plain_url) else None
        local = None if is_remote(plain_url) else local_path(plain_url)  # allowed: checked just above
        creds = {**url_creds, **(credentials or {})}
        ref = {k: v for k, v in (ref or {}).items() if v} or {"branch": "master"}
        shown_url = scrub_url(plain_url)
        print_ = self.fingerprint(creds)
        directory = self.repo_dir(plain_url, creds)
        key = (plain_url, print_)
        self._note_user(key, owner, ref)
        with _locked(directory, str(directory)):
            with git_environment(plain_url, creds, self.identities, pinned) as env, metrics.git_fetch() as outcome:
                runner = GitRunner(directory / "git", plain_url, shown_url, env, creds, timeout,
                                   self.readers.get(directory / "git", base_environment()), self._known)

                def listing(force: bool) -> Mapping[str, str]:
                    found = None if force else self.remote.fresh(key, max_age, since)
                    if found is not None:
                        return found.refs
                    asked = time.monotonic()
                    stamp = None if force or local is None else local_refs.stamp(local)
                    if stamp is not None and (renewed := self.remote.renew(key, stamp, asked)) is not None:
                        return renewed.refs  # the local repository's ref files did not change: no git
                    try:
                        refs = runner.ls_remote()
                    except GitOperationFailed:
                        self.remote.forget(key)
                        raise
                    self.access.note(plain_url, print_, asked)
                    self._wake(key, self.remote.record(key, refs, asked, stamp), owner)
                    return refs

                name, commit, fetched = runner.resolve_and_fetch(ref, listing, self.access.recent(plain_url, print_))
                if fetched:
                    self.access.note(plain_url, print_)
                outcome["result"] = "fetched" if fetched else "unchanged"
            tree, checked_out = self._tree(runner, directory, commit)
        revision = format_revision(name, commit)
        if fetched or checked_out:
            log.info("fetched %s %s (downloaded=%s)", shown_url, revision, fetched)
        return Artifact(revision=revision, commit=commit, path=tree, fetched=fetched, checked_out=checked_out)

    def peek(self, url: str, ref: dict[str, str], credentials: dict[str, bytes] | None, max_age: float) -> str | None:
        """The commit a branch or tag names in an answer of its repository and credentials at most ``max_age``
        seconds old, without git, lock or environment (a settled source's interval, once another source of the
        repository renewed the answer); None when there is no such answer or the ref is another kind (fetch then)."""
        ref = {k: v for k, v in ref.items() if v} or {"branch": "master"}
        if ref.get("commit") or ref.get("semver"):
            return None
        plain_url, url_creds = split_url_credentials(url)
        found = self.remote.fresh((plain_url, self.fingerprint({**url_creds, **(credentials or {})})), max_age)
        if found is None:
            return None
        full = f"refs/tags/{ref['tag']}" if ref.get("tag") else f"refs/heads/{ref.get('branch') or 'master'}"
        return found.refs.get(full)

    def _note_user(self, key: RepoKey, owner: Owner | None, ref: dict[str, str]) -> None:
        """Remember that ``owner`` fetches ``ref`` of the repository ``key`` (and no other repository now)."""
        if owner is None:
            return
        with self._users_lock:
            for users in self._users.values():
                users.pop(owner, None)
            self._users.setdefault(key, {})[owner] = dict(ref)

    def _wake(self, key: RepoKey, moved: set[str], owner: Owner | None) -> None:
        """Hand the other sources of ``key`` that track a moved ref to ``on_moved``."""
        if not moved or self.on_moved is None:
            return
        with self._users_lock:
            woken = [o for o, ref in (self._users.get(key) or {}).items() if o != owner and tracks(ref, moved)]
        if woken:
            log.info("%d ref(s) of %s moved: waking %d source(s)", len(moved), scrub_url(key[0]), len(woken))
            self.on_moved(woken)

    def users(self, url: str, credentials: dict[str, bytes] | None = None) -> list[Owner]:
        """The sources that last fetched ``url`` with ``credentials`` (for tests)."""
        plain, url_creds = split_url_credentials(url)
        with self._users_lock:
            return sorted(self._users.get((plain, self.fingerprint({**url_creds, **(credentials or {})}))) or {})

    @staticmethod
    def _pin(url: str, allow: FetchPolicy) -> tuple[str, int, str]:
        """(host, port, address) git must connect to; SourceUrlRefused (URLNotAllowed) when the allow-list refuses."""
        try:
            target = allow.check(url, "GitRepository URL")
        except FetchRefused as exc:
            raise SourceUrlRefused(exc.message) from None
        return target.host, target.port, target.addresses[0]

    def _tree(self, runner: GitRunner, directory: Path, commit: str) -> tuple[Path, bool]:
        """Return the read-only tree of `commit`, extracting it only when not already there."""
        trees = directory / "trees"
        tree = trees / commit
        if tree.is_dir():
            os.utime(tree)
            return tree, False
        private_dir(trees)
        base = self._latest_tree(trees)
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=trees))
        try:
            content = staging / "tree"
            content.mkdir()
            if base is None or not tree_delta.build(  # else only the files this commit changed were extracted
                    runner.git_dir, self.listings, base, commit, content, staging, members_ok=_plain,
                    extract_filter=_plain_filter, env=base_environment(), timeout=ARCHIVE_TIMEOUT):
                self._extract_whole(runner, commit, staging, content)
            os.rename(content, tree)
        except git.GitCommandError as exc:
            raise ArtifactFailed(f"cannot check out commit {commit[:12]}: {scrub(str(exc.stderr)).strip()}") from None
        finally:
            _remove_tree(staging)
        self._prune_trees(trees, keep=tree)
        return tree, True

    @staticmethod
    def _extract_whole(runner: GitRunner, commit: str, staging: Path, content: Path) -> None:
        """Extract the whole tree of ``commit`` into ``content`` (``git archive``, then tar) and make it read-only."""
        archive = staging / "archive.tar"
        with open(archive, "wb") as handle:
            run_git(["archive", "--format=tar", commit], cwd=runner.git_dir, env=base_environment(),
                    timeout=ARCHIVE_TIMEOUT, stdout=handle)
        if runner.objects.resolve(commit, "tree") != EMPTY_TREE:  # a commit that removed every file: nothing
            with tarfile.open(archive) as tar:
                try:
                    tar.extractall(content, filter=_plain_filter if _plain(tar.getmembers()) else "data")
                except tarfile.FilterError as exc:
                    raise ArtifactFailed(f"revision {commit[:12]} has an unsafe entry: {exc}") from None
        _make_read_only(content)

    @staticmethod
    def _latest_tree(trees: Path) -> tuple[str, Path] | None:
        """(commit, folder) of the most recently used tree, the base of a delta extraction (tree_delta.py)."""
        found = [(p.stat().st_mtime, p.name, p) for p in trees.iterdir() if _COMMIT.match(p.name) and p.is_dir()]
        return max(found)[1:] if found else None

    def _prune_trees(self, trees: Path, keep: Path) -> None:
        """Delete the least recently used trees beyond `keep_trees` (never `keep`)."""
        entries = [p for p in trees.iterdir() if p.is_dir() and not p.name.startswith(".") and p != keep]
        entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[max(self.keep_trees - 1, 0):]:
            _remove_tree(old)
