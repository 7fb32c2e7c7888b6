"""`gitops-tui --allow-local-repos DIR <verb>` works, and adds DIR to the default instead of replacing it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from gitops_tui.reconciler.source_urls import ALLOW_ENV
from tests.gitserver import make_repo
from tests.world import configmap


def test_allow_local_repos_before_a_verb_adds_to_the_demo_default(sandbox: Any, tmp_path: Path) -> None:
    env = {k: v for k, v in sandbox.env.items() if k != ALLOW_ENV}  # the default: the sandbox demo directory
    project = f"lr-{uuid.uuid4().hex[:6]}"
    mine = make_repo(tmp_path / "mine" / "app.git", {"cm.yaml": configmap("a")})
    demo = make_repo(sandbox.home / "demo" / f"{project}.git", {"cm.yaml": configmap("b")})

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "gitops_tui", *args], capture_output=True, text=True, env=env,
                              timeout=120, check=False)

    assert cli("create", "project", project, "--clusters", "dev").returncode == 0
    refused = cli("create", "source", "no", "-p", project, "--url", str(mine))
    assert refused.returncode == 1 and "outside the directories allowed" in refused.stderr, refused.stderr

    allowed = cli("--allow-local-repos", str(tmp_path / "mine"), "create", "source", "mine", "-p", project,
                  "--url", str(mine))
    assert allowed.returncode == 0, allowed.stderr
    assert "UnboundLocalError" not in allowed.stderr and "Traceback" not in allowed.stderr
    still = cli("--allow-local-repos", str(tmp_path / "mine"), "create", "source", "demo", "-p", project,
                "--url", str(demo))
    assert still.returncode == 0, f"the demo directory stays allowed beside DIR: {still.stderr}"
    listed = cli("get", "sources", "-p", project).stdout
    assert "mine" in listed and "demo" in listed

