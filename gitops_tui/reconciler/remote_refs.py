"""One git check per repository per interval: the ls-remote answers shared by every source of a URL and credentials.

An answer lists the repository's HEAD, branches and tags (``ls-remote URL HEAD refs/heads/* refs/tags/*``) and is
kept by (URL, credentials fingerprint), the key of the git cache itself (docs/security.md#git-caches): a source is
served only an answer its own credentials obtained. A source asks for an answer no older than its interval; the
first to ask after that runs ls-remote (the others wait on the cache's lock and take its answer), so sources on one
URL cost one ls-remote per interval between them. A webhook delivery or a spec change asks for an answer newer
than itself. When an answer shows refs that moved since the previous one, every other source of the repository
(URL and credentials) tracking one of them is woken (reconciler/source.py, ``on_moved``), so they follow the commit
together instead of each at its own next interval. A local repository's answer carries the stamp of its ref files
(local_refs.py): when the stamp has not changed, the answer is renewed without running ls-remote.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gitops_tui.reconciler.local_refs import Stamp

#: (plain URL, keyed credentials fingerprint), the git cache's own key.
RepoKey = tuple[str, str]
#: What ls-remote lists: HEAD, every branch and every tag (peeled), never pull requests or other namespaces.
PATTERNS = ("HEAD", "refs/heads/*", "refs/tags/*")


@dataclass(frozen=True)
class Answer:
    """One ls-remote answer: the refs as {ref: commit}, when the ls-remote started (monotonic seconds), and for a
    local repository the stamp of its ref files taken before it started (local_refs.py)."""

    refs: Mapping[str, str]
    asked: float
    stamp: Stamp | None = None


class RemoteRefs:
    """The last ls-remote answer of each repository (URL and credentials) of this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Keep no answer yet."""
        self.clock = clock
        self._answers: dict[RepoKey, Answer] = {}
        self._lock = threading.Lock()
        self.asked = 0
        """How many ls-remote this process ran (for tests and benchmarks)."""
        self.renewed = 0
        """How many answers of local repositories were renewed by an unchanged stamp, without git (for tests)."""

    def fresh(self, key: RepoKey, max_age: float, since: float | None = None) -> Answer | None:
        """The last answer when its ls-remote started less than ``max_age`` seconds ago (and not before ``since``)."""
        with self._lock:
            found = self._answers.get(key)
        if found is None or self.clock() - found.asked >= max_age or (since is not None and found.asked < since):
            return None
        return found

    def last(self, key: RepoKey) -> Answer | None:
        """The last answer, however old."""
        with self._lock:
            return self._answers.get(key)

    def renew(self, key: RepoKey, stamp: Stamp, asked: float) -> Answer | None:
        """The last answer, kept again as asked at ``asked``, when it carries ``stamp`` (the local repository's ref
        files did not change since it was asked: the same answer); None otherwise (ls-remote must run)."""
        with self._lock:
            found = self._answers.get(key)
            if found is None or found.stamp != stamp:
                return None
            if found.asked < asked:
                found = self._answers[key] = Answer(found.refs, asked, stamp)
            self.renewed += 1
            return found

    def record(self, key: RepoKey, refs: Mapping[str, str], asked: float, stamp: Stamp | None = None) -> set[str]:
        """Keep a new answer (ls-remote started at ``asked``, a local repository's ``stamp`` taken before); return
        the refs that moved since the previous one."""
        with self._lock:
            previous = self._answers.get(key)
            if previous is not None and previous.asked > asked:
                return set()  # a later answer is already kept
            self._answers[key] = Answer(dict(refs), asked, stamp)
            self.asked += 1
        if previous is None:
            return set()
        return {ref for ref in set(refs) | set(previous.refs) if refs.get(ref) != previous.refs.get(ref)}

    def forget(self, key: RepoKey) -> None:
        """Drop a repository's answer (its credentials were refused: the next source asks the remote itself)."""
        with self._lock:
            self._answers.pop(key, None)


def tracks(ref: dict[str, str], moved: set[str]) -> bool:
    """Whether a source with ``ref`` (branch, tag, semver or commit) follows one of the ``moved`` refs."""
    if ref.get("commit"):
        return False  # a commit never moves
    if ref.get("semver"):
        return any(r.startswith("refs/tags/") for r in moved)
    if ref.get("tag"):
        return f"refs/tags/{ref['tag']}" in moved
    return f"refs/heads/{ref.get('branch') or 'master'}" in moved
