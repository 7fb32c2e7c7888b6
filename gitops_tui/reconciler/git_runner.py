"""Git for one fetch of a cached repository: the ref resolved from the shared ls-remote answer, objects fetched only
when the commit is missing, object reads through the repository's batch reader (git_objects.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import git

from gitops_tui.reconciler import refs as refs_mod
from gitops_tui.reconciler.errors import GitOperationFailed
from gitops_tui.reconciler.git_objects import ObjectReader
from gitops_tui.reconciler.git_process import run_git
from gitops_tui.reconciler.remote_refs import PATTERNS
from gitops_tui.redact import scrub

_SHA = re.compile(r"^[0-9a-f]{40}$")
#: ``listing(force)``: the repository's refs, from the shared answer unless ``force`` (then ls-remote runs).
Listing = Callable[[bool], Mapping[str, str]]


class GitRunner:
    """Runs git for one fetch: resolve the ref, fetch only when the commit is missing."""

    def __init__(
        self, git_dir: Path, url: str, shown_url: str, env: dict[str, str],
        creds: dict[str, bytes], timeout: float, objects: ObjectReader, known: dict[tuple[Path, str], str],
    ) -> None:
        """Use the bare cache repository at ``git_dir`` (made when missing); ``known`` remembers resolved commits."""
        self.url = url
        self.shown_url = shown_url
        self.env = env
        self.creds = creds
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.git_dir = git_dir
        self.objects = objects
        self.known = known
        if not (git_dir / "HEAD").exists():
            git.Repo.init(git_dir, bare=True, shared="0600").close()  # owner-only, whatever the umask

    def _remaining(self) -> float:
        """Seconds left of the timeout (at least a little, so git gets a chance to fail cleanly)."""
        return max(self.deadline - time.monotonic(), 1.0)

    def _git(self, *args: str) -> str:
        """Run a git command in the cache repository with the credentials environment."""
        try:
            return run_git(list(args), cwd=self.git_dir, env=self.env, timeout=self._remaining())
        except git.GitCommandError as exc:
            raise GitOperationFailed(self.describe(exc)) from None

    def describe(self, exc: git.GitCommandError) -> str:
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

    def ls_remote(self) -> dict[str, str]:
        """The remote's HEAD, branches and tags as {ref: commit} (annotated tags peeled): one ls-remote."""
        return refs_mod.parse_ls_remote(self._git("ls-remote", "--", self.url, *PATTERNS))

    def commit_of(self, revision: str) -> str | None:
        """The commit ``revision`` (a commit or annotated tag id) names in the cache, None when not there."""
        found = self.known.get((self.git_dir, revision))
        if found is None:
            found = self.objects.resolve(revision)
            if found is not None:
                self.known[(self.git_dir, revision)] = found
        return found

    def _fetch(self, *refspecs: str) -> None:
        """Fetch only the given refspecs from the remote."""
        self._git("fetch", "--no-tags", "--no-write-fetch-head", "--quiet", "--", self.url, *refspecs)

    def resolve_and_fetch(self, ref: dict[str, str], listing: Listing,
                          proved: bool = False) -> tuple[str | None, str, bool]:
        """Resolve the ref to (name for the revision, commit sha, whether objects were fetched).

        ``listing`` gives the remote's refs (the shared answer). ``proved``: these credentials read the repository
        recently; else a commit found in the cache is served only after an ls-remote shows they still can.
        """
        if ref.get("commit"):
            return self._commit(ref["commit"].strip().lower(), ref.get("branch"), listing, proved)
        refs = listing(False)
        if ref.get("semver"):
            names = [r[len("refs/tags/"):] for r in refs if r.startswith("refs/tags/")]
            try:
                tag = refs_mod.best_tag(names, ref["semver"])
            except ValueError as exc:
                raise GitOperationFailed(f"invalid semver constraint {ref['semver']!r}: {exc}") from None
            if tag is None:
                raise GitOperationFailed(f"no tag in {self.shown_url} matches semver constraint {ref['semver']!r}")
            return self._named(f"refs/tags/{tag}", tag, refs[f"refs/tags/{tag}"])
        if ref.get("tag"):
            full = f"refs/tags/{ref['tag']}"
            if full not in refs:
                raise GitOperationFailed(f"tag {ref['tag']!r} not found in {self.shown_url}")
            return self._named(full, ref["tag"], refs[full])
        branch = ref.get("branch") or "master"
        full = f"refs/heads/{branch}"
        if full not in refs:
            raise GitOperationFailed(f"branch {branch!r} not found in {self.shown_url}")
        return self._named(full, branch, refs[full])

    def _named(self, full_ref: str, name: str, sha: str) -> tuple[str, str, bool]:
        """A branch or tag at ``sha``: nothing to run when that commit is cached; else fetch the ref."""
        commit = self.commit_of(sha)
        if commit is not None:
            return name, commit, False
        self._fetch(f"+{full_ref}:{full_ref}")
        commit = self.commit_of(sha)
        if commit is None:  # the ref moved between ls-remote and fetch: use what was fetched
            commit = self.objects.resolve(full_ref)
            if commit is None:
                raise GitOperationFailed(f"{full_ref} of {self.shown_url} was not fetched")
        return name, commit, True

    def _commit(self, sha: str, branch: str | None, listing: Listing,
                proved: bool = False) -> tuple[str | None, str, bool]:
        """Fetch a specific commit (by id; else the branch, or all heads and tags, and look for it)."""
        if not _SHA.match(sha):
            raise GitOperationFailed(f"commit {sha!r} is not a full 40-character SHA-1")
        if self.commit_of(sha) is not None:
            if not proved:
                listing(True)  # the credentials must still open the repository
            return branch, sha, False
        try:
            self._fetch(sha)
        except GitOperationFailed:
            refspecs = [f"+refs/heads/{branch}:refs/heads/{branch}"] if branch else [
                "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*",
            ]
            self._fetch(*refspecs)
        if self.commit_of(sha) is None:
            where = f"branch {branch!r} of " if branch else ""
            raise GitOperationFailed(f"commit {sha[:12]} not found in {where}{self.shown_url}")
        return branch, sha, True
