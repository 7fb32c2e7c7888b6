"""The console and a reconciler of plain sources never load the optional heavy libraries: Helm's Go library (about
70 MiB resident), the age library and AES-GCM (SOPS), apprise (alerts), croniter (windows).

Each is loaded where it is used: Helm when a HelmRelease renders or installs, SOPS when a source has
``spec.decryption``, apprise when an alert posts, croniter when a window's schedule is read (docs/console.md#memory).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from gitops_tui.api import names
from tests.world import CLUSTERS, ONE_RECONCILE, World, configmap

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Libraries only some sources need; a process that never needed them must not hold them.
OPTIONAL = ("helm_python", "pyrage", "cryptography", "apprise", "croniter")

#: Every module the console, its backend and its embedded reconciler import at their top.
CONSOLE_AND_RECONCILER = """
import json, sys
import gitops_tui.cli.console_cmd, gitops_tui.tui.app, gitops_tui.tui.screens.main
import gitops_tui.backends.live, gitops_tui.backends.watch_health, gitops_tui.backends.workload_events
import gitops_tui.helm.pane_watch, gitops_tui.kube.client
import gitops_tui.reconciler.manager, gitops_tui.reconciler.options, gitops_tui.reconciler.source_controller
import gitops_tui.reconciler.gate, gitops_tui.reconciler.held, gitops_tui.reconciler.desired
print(json.dumps(sorted(m for m in %r if m in sys.modules)))
"""

#: One reconcile of a source in a fresh process (as the console's reconciler runs it), then what it has loaded.
RECONCILE_AND_LIST = ONE_RECONCILE + """
ctx.clusters.close()
import json
print(json.dumps(sorted(m for m in %r if m in sys.modules)))
"""


def _loaded(code: str, *args: str, env: dict[str, str] | None = None) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=180,
                         check=False, cwd=REPO_ROOT, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_console_and_its_reconciler_import_no_optional_library() -> None:
    assert _loaded(CONSOLE_AND_RECONCILER % (OPTIONAL,)) == []


def test_reconciling_plain_sources_loads_no_optional_library(world: World, sandbox: Any) -> None:
    """A first apply (the ownership check included) and a second, no-op one, of a source of plain objects."""
    repo = world.repo("plain", {"app/one.yaml": configmap("one"), "app/two.yaml": configmap("two")})
    world.create("plain", f"file://{repo}", path="./app")
    runner = [str(sandbox.kubeconfig), world.namespace, "plain", str(world.tmp / "runner")]
    assert _loaded(RECONCILE_AND_LIST % (OPTIONAL,), *runner, env=sandbox.env) == []
    assert world.condition("plain", names.READY).get("status") == "True", world.status("plain")
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "two") is not None
    assert _loaded(RECONCILE_AND_LIST % (OPTIONAL,), *runner, env=sandbox.env) == []
