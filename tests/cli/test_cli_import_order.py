"""Each `get` resource module imports get_cmd, which imports them all back (importlib): any may be imported first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gitops_tui.cli.get_cmd import EXTENSION_MODULES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", EXTENSION_MODULES)
def test_a_resource_module_imported_first_registers_every_resource(module: str) -> None:
    """A fresh interpreter imports ``module`` before get_cmd and then lists every `get` resource (sources, alerts, ...)."""
    code = f"import {module}\nfrom gitops_tui.cli.get_cmd import RESOURCES\nprint(' '.join(sorted(RESOURCES)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert set(done.stdout.split()) >= {"alerts", "clusters", "events", "helmreleases", "projects", "reconcilers",
                                        "secrets", "sources"}
