"""A reconciler without HelmReleases never loads Helm: helm_python is a Go runtime of about 80 MiB resident (the fleet
benchmark's memory, docs/performance.md), needed only to render, install or read a release."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_plain_source_path_leaves_helm_unloaded() -> None:
    """What every source's reconcile runs whatever its revision holds (the claims and inventory refs of its releases,
    none here) loads neither the installer nor helm_python; asking for a release's claims does."""
    code = (
        "import json, sys\n"
        "from gitops_tui.reconciler import gate, helm_step, source_controller\n"
        "claims, refs = helm_step.release_claims([]), helm_step.release_refs(iter(()))\n"
        "plain = sorted(m for m in ('helm_python', 'gitops_tui.helm.installer') if m in sys.modules)\n"
        "from gitops_tui.helm import installer\n"
        "print(json.dumps({'claims': claims, 'refs': list(refs), 'plain': plain,\n"
        "                  'after': 'helm_python' in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                         cwd=REPO_ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"claims": [], "refs": [], "plain": [], "after": True}
