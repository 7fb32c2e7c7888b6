"""Whether a reconciler is running (a live holder of the reconciler lease), told on stderr when none is."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

from gitops_tui.cli.common import run_action


def reconciler_check(api: Any) -> int:
    """Say so on stderr and return 1 when no reconciler holds a live lease (nothing would happen), else 0."""
    if reconciler_running(api):
        return 0
    sys.stderr.write("gitops-tui: no reconciler is running (no live holder of the reconciler lease), so nothing "
                     "is applied until `gitops-tui run` or a console starts\n")
    return 1


def reconciler_running(api: Any, now: datetime | None = None) -> bool:
    """True when a reconciler lease in gitops-tui-system has a holder whose renewal has not expired."""
    from gitops_tui.api import names
    from gitops_tui.kube.client import json_request
    from gitops_tui.kube.watch import resource_path
    from gitops_tui.views.timefmt import parse_time

    now = now or datetime.now(UTC)
    listed = run_action(json_request, api, "GET",
                        resource_path("coordination.k8s.io/v1", "leases", names.SYSTEM_NAMESPACE))
    for lease in listed.get("items") or []:
        if not str((lease.get("metadata") or {}).get("name", "")).startswith(names.LEASE_NAME):
            continue
        spec = lease.get("spec") or {}
        renewed = parse_time(spec.get("renewTime") or spec.get("acquireTime"))
        duration = float(spec.get("leaseDurationSeconds") or 15)
        if spec.get("holderIdentity") and renewed is not None and (now - renewed).total_seconds() <= duration:
            return True
    return False
