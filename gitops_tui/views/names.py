"""The management API names the views read, taken from their single definitions (DESIGN.md section 4)."""

from __future__ import annotations

from gitops_tui.api.names import ANNOTATION_EVENT_CLUSTER as CLUSTER_ANNOTATION
from gitops_tui.api.names import ANNOTATION_EVENT_REVISION as REVISION_ANNOTATION
from gitops_tui.api.names import ANNOTATION_REQUESTED_AT as REQUESTED_AT
from gitops_tui.api.names import ANNOTATION_SUSPEND_REASON as SUSPEND_REASON
from gitops_tui.api.names import ANNOTATION_SUSPENDED_AT as SUSPENDED_AT
from gitops_tui.api.names import ANNOTATION_SUSPENDED_BY as SUSPENDED_BY
from gitops_tui.api.names import LEASE_NAME
from gitops_tui.api.names import SYSTEM_NAMESPACE as LEASE_NAMESPACE

#: Event annotations naming the workload cluster and the revision (the short keys are accepted too).
EVENT_CLUSTER_KEYS = (CLUSTER_ANNOTATION, "cluster")
EVENT_REVISION_KEYS = (REVISION_ANNOTATION, "revision")

__all__ = [
    "EVENT_CLUSTER_KEYS", "EVENT_REVISION_KEYS", "LEASE_NAME", "LEASE_NAMESPACE",
    "REQUESTED_AT", "SUSPENDED_AT", "SUSPENDED_BY", "SUSPEND_REASON",
]
