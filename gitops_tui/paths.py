"""Where gitops-tui keeps its data (the sandbox stores, kubeconfig, logs, settings, git caches), owner-only."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """Return the data directory: $GITOPS_TUI_HOME, else $XDG_DATA_HOME/gitops-tui."""
    home = os.environ.get("GITOPS_TUI_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser() / "gitops-tui"


def sandbox_dir() -> Path:
    """Return the folder holding the sandbox's stores, certificates, pid file and kubeconfig."""
    return data_dir() / "sandbox"


def sandbox_kubeconfig() -> Path:
    """Return the path of the kubeconfig the sandbox writes (contexts management, dev, ...)."""
    return sandbox_dir() / "kubeconfig"


def log_dir() -> Path:
    """Return the folder for diagnostic logs (never written over the console's screen)."""
    return data_dir() / "logs"


#: The umask of every gitops-tui process: what it writes is readable by its owner only (0700 / 0600).
PRIVATE_UMASK = 0o077


def restrict_umask() -> None:
    """Make every file and folder this process (and its children: git, sqlite) creates owner-only."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents with mode 0700 (whatever the umask); return it."""
    path = Path(path)
    missing = []
    for candidate in (path, *path.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        try:
            candidate.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(candidate, 0o700)
    return path


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_CREAT | os.O_APPEND) -> int:
    """Open (creating) ``path`` with mode 0600, its folder 0700, whatever the umask; return the descriptor."""
    private_dir(Path(path).parent)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def make_private(path: Path) -> None:
    """Remove group and other permissions from ``path`` and everything under it (for files a library wrote 0644)."""
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                os.chmod(full, os.lstat(full).st_mode & 0o7700)
    os.chmod(path, os.stat(path).st_mode & 0o7700)
