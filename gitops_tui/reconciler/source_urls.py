"""Which git URLs a source may use: https, ssh or a git server; a local path only under a directory the operator allowed.

A local path (or ``file://`` URL) is read with the reconciler's own rights and no credentials, so it
is allowed only under a directory given with ``--allow-local-repos`` (default: the sandbox demo
directory) and never inside a reconciler's data directory, where the git caches of every project's
private repositories live. Paths are compared after resolving symlinks and ``..``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from gitops_tui import paths
from gitops_tui.api.git_urls import refusal
from gitops_tui.reconciler.errors import ReconcileError
from gitops_tui.redact import hide_url_password

#: Directories (``os.pathsep``-separated) where local repositories are allowed, when no flag names them.
ALLOW_ENV = "GITOPS_TUI_ALLOW_LOCAL_REPOS"
REMOTE_SCHEMES = ("https", "http", "ssh", "git")
_SCP_LIKE = re.compile(r"^(?:[\w.+-]+@)?[\w.-]+:(?!//)\S+$")


class SourceUrlRefused(ReconcileError):
    """The source's URL is not one the reconciler may fetch (not a git URL, or a local path not allowed)."""

    reason = "URLNotAllowed"


def allowed_local_roots(configured: Iterable[Path | str] | None = None) -> tuple[Path, ...]:
    """The directories local repositories may live under: ``configured``, else $GITOPS_TUI_ALLOW_LOCAL_REPOS,
    else the sandbox demo directory ``<data>/demo``."""
    chosen = [Path(p) for p in configured or ()]
    if not chosen:
        chosen = [Path(p) for p in os.environ.get(ALLOW_ENV, "").split(os.pathsep) if p.strip()]
    if not chosen:
        chosen = [paths.data_dir() / "demo"]
    return tuple(p.expanduser().resolve() for p in chosen)


def forbidden_dirs(*extra: Path | None) -> tuple[Path, ...]:
    """Directories no local source may point into: the default reconciler and sandbox data, plus ``extra``."""
    dirs = [paths.data_dir() / "reconciler", paths.data_dir() / "sandbox", *(p for p in extra if p is not None)]
    return tuple(Path(p).expanduser().resolve() for p in dirs)


def local_path(url: str) -> Path | None:
    """The filesystem path a ``file://`` URL or an absolute path names; None for a remote URL."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path)) if parts.netloc in ("", "localhost") else None
    if url.startswith("/"):
        return Path(url)
    return None


def is_remote(url: str) -> bool:
    """Whether ``url`` names a git server: https://, http://, ssh://, git:// with a host, or scp-like host:path."""
    parts = urlsplit(url)
    if parts.scheme in REMOTE_SCHEMES:
        return bool(parts.hostname)
    return ("://" not in url and "::" not in url and not url.startswith(("/", "."))
            and _SCP_LIKE.match(url) is not None)


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def check_source_url(url: str, roots: Sequence[Path], forbidden: Sequence[Path]) -> None:
    """Raise SourceUrlRefused (naming the URL) unless ``url`` is remote, or local under ``roots`` and outside ``forbidden``."""
    if is_remote(url):
        return
    path = local_path(url)
    if path is None:
        raise SourceUrlRefused(refusal(hide_url_password(url)))
    real = path.resolve()
    if any(_inside(real, directory) for directory in forbidden):
        raise SourceUrlRefused(f"the local repository {url!r} is inside the reconciler's data directory, "
                               "which no source may read")
    if not any(_inside(real, root) for root in roots):
        allowed = ", ".join(str(r) for r in roots)
        raise SourceUrlRefused(f"the local repository {url!r} is outside the directories allowed for local "
                               f"repositories ({allowed}): allow it with --allow-local-repos DIR")
