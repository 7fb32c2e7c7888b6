"""Whether a local repository's refs may have moved since the last ls-remote, told without a process: a stat stamp.

``ls-remote`` of a ``file://`` URL (or a plain path) starts two processes (git and the git-upload-pack it runs) to
read a few files. What it answers (HEAD, ``refs/heads/*``, ``refs/tags/*``) comes only from files git replaces by
rename when a ref moves (a lock file written, then renamed over the ref: a new inode, a new change time): ``HEAD``,
``packed-refs``, the loose refs under ``refs/heads`` and ``refs/tags``, and ``config`` (``uploadpack.hideRefs``).
The *stamp* of a repository is the list of those files with their inode, size, modification and change times (ns);
when it equals the stamp taken just before the last ls-remote, that answer still holds and no git runs
(reconciler/source.py). The stamp is taken *before* ls-remote runs, so a ref moved while it ran differs from it at
the next check. Only repositories the operator allowed reach here (``--allow-local-repos``, source_urls.py), read
with the reconciler's own rights as git would. Any layout this does not model (a ``.git`` file of a linked
worktree, ``commondir``, the reftable format, a symbolic ref outside heads and tags) has no stamp: ls-remote runs.
"""

from __future__ import annotations

import os
from pathlib import Path

#: One file's identity and times: (path relative to the git directory, inode, size, mtime ns, ctime ns); "-" absent.
Entry = tuple[str, int, int, int, int]
Stamp = tuple[str, tuple[Entry, ...]]
#: The loose ref folders ls-remote's patterns (remote_refs.PATTERNS) read.
_REF_DIRS = ("refs/heads", "refs/tags")
#: Files besides the loose refs whose content ls-remote's answer depends on.
_FILES = ("HEAD", "packed-refs", "config")
#: Sizes of a plain loose ref (an object id and a newline: SHA-1, SHA-256); others are read to check for a symref.
_PLAIN_SIZES = (41, 65)


def git_dir(path: Path) -> Path | None:
    """The git directory ls-remote reads for the local repository ``path`` (its ``.git`` folder, or ``path`` when
    bare); None for a layout this module does not model."""
    for candidate in (path / ".git", path):
        if candidate.is_dir() and (candidate / "HEAD").is_file() and (candidate / "refs").is_dir():
            if (candidate / "commondir").exists() or (candidate / "reftable").exists():
                return None
            return candidate
        if candidate.name == ".git" and candidate.exists():
            return None  # a .git file: a linked worktree or submodule, whose refs live elsewhere
    return None


def _entry(base: Path, relative: str) -> Entry:
    try:
        found = os.stat(base / relative)
    except FileNotFoundError:
        return (relative, -1, -1, -1, -1)
    return (relative, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


def _symref_target(file: Path) -> str | None:
    """The ref a symbolic ref file names (``ref: X``), None for a plain one."""
    content = file.read_text(errors="replace").strip()
    return content[len("ref:"):].strip() if content.startswith("ref:") else None


def _modelled(target: str | None) -> bool:
    """Whether a symbolic ref's target lies in what the stamp covers (a plain ref always does)."""
    return target is None or any(target.startswith(f"{d}/") for d in _REF_DIRS)


def stamp(path: Path) -> Stamp | None:
    """The stamp of the local repository at ``path``; None when it has none (ls-remote must run)."""
    try:
        base = git_dir(path)
        if base is None or not _modelled(_symref_target(base / "HEAD")):
            return None
        entries = [_entry(base, name) for name in _FILES]
        for folder in _REF_DIRS:
            for root, dirs, files in os.walk(base / folder):
                dirs.sort()
                for name in sorted(files):
                    relative = os.path.relpath(os.path.join(root, name), base)
                    entry = _entry(base, relative)
                    if entry[2] not in _PLAIN_SIZES and not _modelled(_symref_target(base / relative)):
                        return None
                    entries.append(entry)
        return str(base.resolve()), tuple(entries)
    except OSError:
        return None
