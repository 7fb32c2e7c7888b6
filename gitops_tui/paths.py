"""Where gitops-tui keeps its data: the sandbox stores, kubeconfig, logs and settings."""

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
