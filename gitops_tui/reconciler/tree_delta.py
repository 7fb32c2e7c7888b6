"""A commit's tree made from an earlier one: the files both commits hold alike are hard-linked from the earlier
tree, and only the files the new commit changed are extracted (``git archive`` of just those paths).

Every path is tenant input. The delta is used only when both commits' full listings (``git ls-tree -r``) hold
nothing but regular files (mode 100644 or 100755) under plain relative names (no empty, ``.`` or ``..`` part),
each named once and none also a folder of another, and no ``.gitattributes`` anywhere (``git archive`` reads its
export-ignore and export-subst); the changed files' archive must pass the same plain-archive check as a full
extraction and hold exactly the changed files. Anything else returns False and the caller extracts the whole
tree as before (``source.py``), where the data filter and its refusals apply. Equal to a full extraction in
names, content and modes: tests/reconciler/test_tree_delta.py.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tarfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import git

from gitops_tui.reconciler.git_process import run_git

log = logging.getLogger(__name__)

#: One listing entry: (mode, blob id).
Entry = tuple[bytes, bytes]
Listing = dict[bytes, Entry]
#: File modes a delta handles; a link (120000), a submodule (160000) or an odd mode takes the full extraction.
PLAIN_MODES = frozenset({b"100644", b"100755"})
#: Bytes of changed path names passed to one ``git archive`` (beyond: the full extraction).
MAX_PATH_BYTES = 64 * 1024
#: Listings kept (the previous commit's is the next delta's base).
KEEP_LISTINGS = 16

#: A member check of the archive (source._plain) and the extraction filter (source._plain_filter).
MembersCheck = Callable[[list[tarfile.TarInfo]], bool]
ExtractFilter = Callable[[tarfile.TarInfo, str], tarfile.TarInfo]


def plain_name(path: bytes) -> bool:
    """Whether a listed path is a plain relative name: no empty, ``.`` or ``..`` part, no NUL, no .gitattributes."""
    if not path or path.startswith(b"/") or b"\0" in path:
        return False
    return all(part not in (b"", b".", b"..", b".gitattributes") for part in path.split(b"/"))


def parse_listing(raw: bytes) -> Listing | None:
    """``git ls-tree -r -z`` output as {path: (mode, blob)}; None when any entry is not a plain file or name."""
    out: Listing = {}
    folders: set[bytes] = set()
    for record in raw.split(b"\0"):
        if not record:
            continue
        head, tab, path = record.partition(b"\t")
        fields = head.split(b" ")
        if not tab or len(fields) != 3 or fields[0] not in PLAIN_MODES or fields[1] != b"blob":
            return None
        if not plain_name(path) or path in out:
            return None
        out[path] = (fields[0], fields[2])
        parts = path.split(b"/")
        folders.update(b"/".join(parts[:i]) for i in range(1, len(parts)))
    if folders & out.keys():  # a name that is a file and a folder at once
        return None
    return out


class Listings:
    """The full listing of recent commits of one cache, by (repository, commit)."""

    def __init__(self, keep: int = KEEP_LISTINGS) -> None:
        """Keep the ``keep`` most recently used listings."""
        self.keep = keep
        self._found: OrderedDict[tuple[Path, str], Listing | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, git_dir: Path, commit: str, scratch: Path, env: dict[str, str], timeout: float) -> Listing | None:
        """The listing of ``commit`` (None when it is not all plain); ``scratch`` is a file git may write."""
        key = (git_dir, commit)
        with self._lock:
            if key in self._found:
                self._found.move_to_end(key)
                return self._found[key]
        with open(scratch, "wb") as handle:
            run_git(["ls-tree", "-r", "-z", "--full-tree", commit], cwd=git_dir, env=env, timeout=timeout,
                    stdout=handle)
        found = parse_listing(scratch.read_bytes())
        with self._lock:
            self._found[key] = found
            while len(self._found) > self.keep:
                self._found.popitem(last=False)
        return found


def build(git_dir: Path, listings: Listings, base: tuple[str, Path], commit: str, content: Path, staging: Path,
          *, members_ok: MembersCheck, extract_filter: ExtractFilter, env: dict[str, str], timeout: float) -> bool:
    """Make ``content`` (an empty folder) the tree of ``commit`` from ``base`` = (its commit, its tree folder).

    True when done, every file and folder read-only as source._make_read_only leaves them; False when the delta
    does not apply or anything went wrong: ``content`` is then emptied again for the full extraction.
    """
    try:
        done = _build(git_dir, listings, base, commit, content, staging, members_ok, extract_filter, env, timeout)
    except (OSError, git.GitCommandError, tarfile.TarError) as exc:
        log.debug("delta extraction of %s failed (%s): extracting the whole tree", commit[:12], exc)
        done = False
    if not done:
        _empty(content)
    return done


def _build(git_dir: Path, listings: Listings, base: tuple[str, Path], commit: str, content: Path, staging: Path,
           members_ok: MembersCheck, extract_filter: ExtractFilter, env: dict[str, str], timeout: float) -> bool:
    """build's work; False when the delta does not apply."""
    base_commit, base_tree = base
    new = listings.get(git_dir, commit, staging / "listing-new", env, timeout)
    old = listings.get(git_dir, base_commit, staging / "listing-old", env, timeout) if new else None
    if not new or not old:
        return False
    changed = sorted(path for path, entry in new.items() if old.get(path) != entry)
    if sum(len(p) + 1 for p in changed) > MAX_PATH_BYTES:
        return False
    root, base_root = os.fsencode(content), os.fsencode(base_tree)
    made: set[bytes] = set()
    changed_set = set(changed)
    for path in new:
        folder = path.rpartition(b"/")[0]
        if folder and folder not in made:
            os.makedirs(os.path.join(root, folder), 0o700, exist_ok=True)
            parts = folder.split(b"/")
            made.update(b"/".join(parts[:i]) for i in range(1, len(parts) + 1))
        if path not in changed_set:
            source = os.path.join(base_root, path)
            if not stat.S_ISREG(os.lstat(source).st_mode):  # the earlier tree is not what its listing says
                return False
            os.link(source, os.path.join(root, path), follow_symlinks=False)
    if changed:
        archive = staging / "delta.tar"
        with open(archive, "wb") as handle:
            run_git(["--literal-pathspecs", "archive", "--format=tar", commit, "--", *map(os.fsdecode, changed)],
                    cwd=git_dir, env=env, timeout=timeout, stdout=handle)
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            files = {os.fsencode(m.name) for m in members if m.isreg()}
            if not members_ok(members) or files != changed_set or len(files) != sum(m.isreg() for m in members):
                return False
            tar.extractall(content, filter=extract_filter)
    _seal(root, changed, made)
    return True


def _seal(root: bytes, changed: list[bytes], folders: set[bytes]) -> None:
    """Leave the changed files readable (and executable) by the owner only and every folder 0500, as
    source._make_read_only does; the linked files are the earlier tree's, already so."""
    for path in changed:
        full = os.path.join(root, path)
        os.chmod(full, os.lstat(full).st_mode & (stat.S_IRUSR | stat.S_IXUSR))
    for folder in sorted(folders, key=lambda f: f.count(b"/"), reverse=True):
        os.chmod(os.path.join(root, folder), 0o500)
    os.chmod(root, 0o500)


def _empty(content: Path) -> None:
    """Remove everything under ``content`` (kept itself, empty)."""
    for entry in os.scandir(content):
        if entry.is_dir(follow_symlinks=False):
            for current, dirs, _files in os.walk(entry.path):
                for name in dirs:
                    os.chmod(os.path.join(current, name), 0o700)
            os.chmod(entry.path, 0o700)
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
