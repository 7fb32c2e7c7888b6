"""Typed view of a Project (gitops-tui.io/v1alpha1, cluster-scoped)."""

from __future__ import annotations

from typing import Any

from gitops_tui.api import names
from gitops_tui.api.base import PlacedView

#: Flux child sources a project may hold when spec.limits.maxFluxChildren does not say.
DEFAULT_MAX_FLUX_CHILDREN = 100


class Project(PlacedView):
    """A project: a namespace on the management cluster and on each placed workload cluster."""

    @property
    def spec(self) -> dict[str, Any]:
        """spec, or {}."""
        return self.raw.get("spec") or {}

    @property
    def namespace(self) -> str:
        """The project namespace: spec.namespace, defaulting to the project name."""
        return str(self.spec.get("namespace") or self.name)

    @property
    def display_name(self) -> str:
        """spec.displayName, defaulting to the project name."""
        return str(self.spec.get("displayName") or self.name)

    @property
    def platform(self) -> bool:
        """spec.platform: a platform project may apply Namespaces, cluster-scoped objects and unowned namespaces."""
        return self.spec.get("platform") is True

    @property
    def max_flux_children(self) -> int:
        """spec.limits.maxFluxChildren: the Flux child sources the project may hold (default 100; docs/flux.md)."""
        value = (self.spec.get("limits") or {}).get("maxFluxChildren")
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        return DEFAULT_MAX_FLUX_CHILDREN

    @property
    def service_account_name(self) -> str:
        """spec.serviceAccountName: the ServiceAccount the operator made and bound for this project, or ""."""
        return str(self.spec.get("serviceAccountName") or "")

    @property
    def applier(self) -> str:
        """The ServiceAccount (in the project namespace) the project's objects are applied as on workload clusters:
        spec.serviceAccountName, else the one the reconciler makes and binds to ``admin`` there."""
        return self.service_account_name or names.DEFAULT_SERVICE_ACCOUNT

    @property
    def cluster_selector(self) -> dict[str, Any] | None:
        """spec.placement.clusterSelector, or None."""
        selector = self.placement.get("clusterSelector")
        return None if selector is None else dict(selector)
