"""Annotation keys and other management API names the views read (DESIGN.md section 4)."""

from __future__ import annotations

SUSPENDED_BY = "gitops-tui.io/suspended-by"
SUSPEND_REASON = "gitops-tui.io/suspend-reason"
SUSPENDED_AT = "gitops-tui.io/suspended-at"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
#: Event annotations naming the workload cluster and the revision.
EVENT_CLUSTER_KEYS = ("gitops-tui.io/cluster", "cluster")
EVENT_REVISION_KEYS = ("gitops-tui.io/revision", "revision")
LEASE_NAME = "gitops-tui-reconciler"
LEASE_NAMESPACE = "gitops-tui-system"
