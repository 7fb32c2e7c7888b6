"""Typed view of a FederatedSecret (types.kubefed.io/v1beta1): keys and placement, never values."""

from __future__ import annotations

from typing import Any

from gitops_tui.api.base import PlacedView
from gitops_tui.api.status import ClusterStatus, cluster_statuses


class FederatedSecret(PlacedView):
    """A Secret propagated to each placed cluster. Values are never exposed by this view."""

    @property
    def template(self) -> dict[str, Any]:
        """spec.template, or {}."""
        return (self.raw.get("spec") or {}).get("template") or {}

    @property
    def type(self) -> str:
        """The Secret type (default "Opaque")."""
        return str(self.template.get("type") or "Opaque")

    @property
    def keys(self) -> list[str]:
        """The sorted data keys (from data and stringData); never the values."""
        keys = set((self.template.get("data") or {}).keys())
        keys |= set((self.template.get("stringData") or {}).keys())
        return sorted(keys)

    @property
    def clusters(self) -> list[ClusterStatus]:
        """The per-cluster status entries."""
        return cluster_statuses(self.status)
