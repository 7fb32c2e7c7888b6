"""`gitops-tui` with --kubeconfig / --context: clear one-sentence errors for a missing file or context."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _run(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {"GITOPS_TUI_HOME": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "gitops_tui", *args], capture_output=True, text=True,
                          timeout=60, env=env, stdin=subprocess.DEVNULL)


def test_missing_kubeconfig_is_one_sentence(tmp_path: Path) -> None:
    proc = _run("--kubeconfig", str(tmp_path / "nope"), home=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"gitops-tui: kubeconfig {tmp_path / 'nope'} does not exist."
    assert (tmp_path / "logs" / "console.log").exists()


def test_unknown_context_is_one_sentence(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    proc = _run("--kubeconfig", str(config), "--context", "prod-mgmt", home=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "prod-mgmt" in proc.stderr
