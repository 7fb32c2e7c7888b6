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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import git

from gitops_tui.api.formats import format_revision
from gitops_tui.kube.outbound import FetchPolicy, FetchRefused
from gitops_tui.paths import private_dir
from gitops_tui.reconciler import refs as refs_mod
from gitops_tui.reconciler.errors import ArtifactFailed, GitOperationFailed
from gitops_tui.reconciler.git_access import RemoteAccess, fingerprint, fingerprint_key
from gitops_tui.reconciler.git_process import run_git
from gitops_tui.reconciler.gitauth import (
    base_environment,
    git_environment,
    remove_stale_identities,
    split_url_credentials,
)
from gitops_tui.reconciler.source_urls import (
    SourceUrlRefused,
    allowed_local_roots,
    check_source_url,
    forbidden_dirs,
    is_remote,
)
from gitops_tui.redact import scrub, scrub_url

log = logging.getLogger(__name__)

_SHA = re.compile(r"^[0-9a-f]{40}$")
#: Seconds writing a commit's tree out of the cache may take.
ARCHIVE_TIMEOUT = 120.0

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
                 data_dir: Path | None = None) -> None:
        """Use `cache_dir` for cached clones and artifact trees; keep `keep_trees` trees per URL.

        Local repositories are fetched only under `local_roots` (default: source_urls.allowed_local_roots())
        and never inside `cache_dir` or the reconciler's `data_dir`.
        """
        self.cache_dir = Path(cache_dir)
        self.keep_trees = keep_trees
        self.local_roots = allowed_local_roots(local_roots)
        self.forbidden = forbidden_dirs(self.cache_dir, data_dir)
        self.identities = self.cache_dir / ".identities"
        self.access = RemoteAccess()
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
    ) -> Artifact:
        """Fetch `ref` of `url` and return the artifact; raises GitOperationFailed, ArtifactFailed or SourceUrlRefused.

        ref is one of {"branch"}, {"tag"}, {"semver"}, {"commit"} (a commit may come with a
        branch); priority commit > semver > tag > branch, as in Flux. No ref means branch master.
        ``allow``: the URL comes from a repository's content (a Flux child's GitRepository): a remote one must
        pass the operator's allow-list, and git connects only to the address it checked.
        """
        plain_url, url_creds = split_url_credentials(url)
        check_source_url(plain_url, self.local_roots, self.forbidden)
        pinned = self._pin(plain_url, allow) if allow is not None and is_remote(plain_url) else None
        creds = {**url_creds, **(credentials or {})}
        ref = {k: v for k, v in (ref or {}).items() if v} or {"branch": "master"}
        shown_url = scrub_url(plain_url)
        print_ = self.fingerprint(creds)
        directory = self.repo_dir(plain_url, creds)
        with _locked(directory, str(directory)):
            with git_environment(plain_url, creds, self.identities, pinned) as env:
                runner = _GitRunner(directory / "git", plain_url, shown_url, env, creds, timeout)
                name, commit, fetched = runner.resolve_and_fetch(ref, self.access.recent(plain_url, print_))
                self.access.note(plain_url, print_)
            tree, checked_out = self._tree(runner.repo, directory, commit)
        revision = format_revision(name, commit)
        log.info("fetched %s %s (downloaded=%s)", shown_url, revision, fetched)
        return Artifact(revision=revision, commit=commit, path=tree, fetched=fetched, checked_out=checked_out)

    @staticmethod
    def _pin(url: str, allow: FetchPolicy) -> tuple[str, int, str]:
        """(host, port, address) git must connect to; SourceUrlRefused (URLNotAllowed) when the allow-list refuses."""
        try:
            target = allow.check(url, "GitRepository URL")
        except FetchRefused as exc:
            raise SourceUrlRefused(exc.message) from None
        return target.host, target.port, target.addresses[0]

    def _tree(self, repo: git.Repo, directory: Path, commit: str) -> tuple[Path, bool]:
        """Return the read-only tree of `commit`, extracting it only when not already there."""
        trees = directory / "trees"
        tree = trees / commit
        if tree.is_dir():
            os.utime(tree)
            return tree, False
        private_dir(trees)
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=trees))
        try:
            archive = staging / "archive.tar"
            with open(archive, "wb") as handle:
                run_git(["archive", "--format=tar", commit], cwd=Path(repo.git_dir), env=base_environment(),
                        timeout=ARCHIVE_TIMEOUT, stdout=handle)
            content = staging / "tree"
            content.mkdir()
            if repo.git.ls_tree(commit):  # a commit that removed every file has nothing to extract
                with tarfile.open(archive) as tar:
                    try:
                        tar.extractall(content, filter="data")
                    except tarfile.FilterError as exc:
                        raise ArtifactFailed(f"revision {commit[:12]} has an unsafe entry: {exc}") from None
            _make_read_only(content)
            os.rename(content, tree)
        except git.GitCommandError as exc:
            raise ArtifactFailed(f"cannot check out commit {commit[:12]}: {scrub(str(exc.stderr)).strip()}") from None
        finally:
            _remove_tree(staging)
        self._prune_trees(trees, keep=tree)
        return tree, True

    def _prune_trees(self, trees: Path, keep: Path) -> None:
        """Delete the least recently used trees beyond `keep_trees` (never `keep`)."""
        entries = [p for p in trees.iterdir() if p.is_dir() and not p.name.startswith(".") and p != keep]
        entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[max(self.keep_trees - 1, 0):]:
            _remove_tree(old)


class _GitRunner:
    """Runs git for one fetch: ls-remote to resolve the ref, fetch only when the commit is missing."""

    def __init__(
        self, git_dir: Path, url: str, shown_url: str, env: dict[str, str],
        creds: dict[str, bytes], timeout: float,
    ) -> None:
        """Open (or create) the bare cache repository at `git_dir`."""
        self.url = url
        self.shown_url = shown_url
        self.env = env
        self.creds = creds
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.git_dir = git_dir
        if (git_dir / "HEAD").exists():
            self.repo = git.Repo(git_dir)
        else:
            self.repo = git.Repo.init(git_dir, bare=True, shared="0600")  # owner-only, whatever the umask

    def _remaining(self) -> float:
        """Seconds left of the timeout (at least a little, so git gets a chance to fail cleanly)."""
        return max(self.deadline - time.monotonic(), 1.0)

    def _git(self, *args: str) -> str:
        """Run a git command in the cache repository with the credentials environment."""
        try:
            return run_git(list(args), cwd=self.git_dir, env=self.env, timeout=self._remaining())
        except git.GitCommandError as exc:
            raise GitOperationFailed(self._describe(exc)) from None

    def _describe(self, exc: git.GitCommandError) -> str:
        """A one-sentence, secret-free message for a failed git command."""
        stderr = scrub(str(exc.stderr or ""), self.creds).strip()
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        lines = [re.sub(r"^(fatal: |error: )", "", re.sub(r"^stderr: ?'", "", line)).rstrip("'").strip() for line in lines]
        # GIT_ASKPASS=/bin/false is how prompts are refused: its own complaint is noise beside git's reason.
        lines = [line for line in lines if line and not line.startswith("unable to read askpass response")]
        detail = "; ".join(lines[-3:]) or f"exit status {exc.status}"
        if "Timeout:" in str(exc.stderr or "") or exc.status in (-9, 137):
            return f"git operation on {self.shown_url} timed out after {self.timeout:g}s"
        auth_markers = ("Authentication failed", "could not read Username", "could not read Password",
                        "returned error: 403", "returned error: 401", "HTTP 401", "HTTP 403",
                        "Permission denied (publickey")
        said = f" (git: {detail})"  # git's own reason stays beside ours (secrets scrubbed above)
        if any(marker in stderr for marker in auth_markers):
            if self.creds:
                return f"authentication to {self.shown_url} failed: the server refused the credentials of the Secret{said}"
            return f"{self.shown_url} requires authentication: set a credentials Secret (secretRef){said}"
        if "Host key verification failed" in stderr:
            return f"ssh host key of {self.shown_url} is not trusted: add it to known_hosts in the Secret{said}"
        return f"git operation on {self.shown_url} failed: {detail}"

    def _ls_remote(self, *patterns: str) -> dict[str, str]:
        """The remote's refs (optionally limited to patterns) as {ref: commit}."""
        return refs_mod.parse_ls_remote(self._git("ls-remote", "--", self.url, *patterns))

    def _has_commit(self, sha: str) -> bool:
        """Whether the cache already holds the commit."""
        try:
            run_git(["cat-file", "-e", f"{sha}^{{commit}}"], cwd=self.git_dir, env=self.env, timeout=self._remaining())
            return True
        except git.GitCommandError:
            return False

    def _fetch(self, *refspecs: str) -> None:
        """Fetch only the given refspecs from the remote."""
        self._git("fetch", "--no-tags", "--no-write-fetch-head", "--quiet", "--", self.url, *refspecs)

    def resolve_and_fetch(self, ref: dict[str, str], proved: bool = False) -> tuple[str | None, str, bool]:
        """Resolve the ref to (name for the revision, commit sha, whether objects were fetched).

        ``proved``: these credentials read the repository recently; else a commit found in the cache is served
        only after an ls-remote shows they still can (a branch, tag or semver ref always asks the remote).
        """
        if ref.get("commit"):
            return self._commit(ref["commit"].strip().lower(), ref.get("branch"), proved)
        if ref.get("semver"):
            tags = self._ls_remote("refs/tags/*")
            names = [r[len("refs/tags/"):] for r in tags]
            try:
                tag = refs_mod.best_tag(names, ref["semver"])
            except ValueError as exc:
                raise GitOperationFailed(f"invalid semver constraint {ref['semver']!r}: {exc}") from None
            if tag is None:
                raise GitOperationFailed(
                    f"no tag in {self.shown_url} matches semver constraint {ref['semver']!r}"
                )
            return self._named(f"refs/tags/{tag}", tag, tags[f"refs/tags/{tag}"])
        if ref.get("tag"):
            full = f"refs/tags/{ref['tag']}"
            found = self._ls_remote(full, f"{full}^{{}}")
            if full not in found:
                raise GitOperationFailed(f"tag {ref['tag']!r} not found in {self.shown_url}")
            return self._named(full, ref["tag"], found[full])
        branch = ref.get("branch") or "master"
        full = f"refs/heads/{branch}"
        found = self._ls_remote(full)
        if full not in found:
            raise GitOperationFailed(f"branch {branch!r} not found in {self.shown_url}")
        return self._named(full, branch, found[full])

    def _peel(self, rev: str) -> str:
        """The commit a revision (commit, annotated tag, ref) points at."""
        return run_git(["rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=self.git_dir, env=self.env,
                       timeout=self._remaining())

    def _named(self, full_ref: str, name: str, sha: str) -> tuple[str, str, bool]:
        """Fetch a branch or tag ref when its commit is not cached yet."""
        if self._has_commit(sha):
            return name, self._peel(sha), False
        self._fetch(f"+{full_ref}:{full_ref}")
        if not self._has_commit(sha):
            # The ref moved between ls-remote and fetch: use what was fetched.
            return name, self._peel(full_ref), True
        return name, self._peel(sha), True

    def _commit(self, sha: str, branch: str | None, proved: bool = False) -> tuple[str | None, str, bool]:
        """Fetch a specific commit (by id; else the branch, or all heads and tags, and look for it)."""
        if not _SHA.match(sha):
            raise GitOperationFailed(f"commit {sha!r} is not a full 40-character SHA-1")
        if self._has_commit(sha):
            if not proved:
                self._ls_remote("HEAD")  # the credentials must still open the repository
            return branch, sha, False
        try:
            self._fetch(sha)
        except GitOperationFailed:
            refspecs = [f"+refs/heads/{branch}:refs/heads/{branch}"] if branch else [
                "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*",
            ]
            self._fetch(*refspecs)
        if not self._has_commit(sha):
            where = f"branch {branch!r} of " if branch else ""
            raise GitOperationFailed(f"commit {sha[:12]} not found in {where}{self.shown_url}")
        return branch, sha, True
