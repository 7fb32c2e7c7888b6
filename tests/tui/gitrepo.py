"""A small real git repository holding one ConfigMap, for the console's end-to-end tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  v: "{value}"
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=30)


def make_repo(path: Path, name: str, value: str = "1") -> Path:
    """Create a repository on branch main with apps/configmap.yaml; return its path."""
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, capture_output=True, timeout=30)
    _git(path, "config", "user.email", "console-test@example.com")
    _git(path, "config", "user.name", "console test")
    commit(path, name, value)
    return path


def commit(path: Path, name: str, value: str) -> None:
    """Write the ConfigMap with data v=value and commit it."""
    (path / "apps").mkdir(exist_ok=True)
    (path / "apps" / "configmap.yaml").write_text(CONFIGMAP.format(name=name, value=value))
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", f"v={value}")
