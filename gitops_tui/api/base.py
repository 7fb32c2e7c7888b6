"""The common base of the typed views: metadata, annotations, conditions and suspension."""

from __future__ import annotations

from typing import Any

from gitops_tui.api import names
from gitops_tui.api.conditions import Condition, find_condition


class ObjectView:
    """A read-only typed view over one raw object dict read from the management cluster."""

    def __init__(self, raw: dict[str, Any]) -> None:
        """Wrap `raw` (not copied; views never modify it)."""
        self.raw = raw or {}

    @property
    def metadata(self) -> dict[str, Any]:
        """metadata, or {}."""
        return self.raw.get("metadata") or {}

    @property
    def name(self) -> str:
        """metadata.name."""
        return str(self.metadata.get("name", ""))

    @property
    def namespace(self) -> str:
        """metadata.namespace ("" for cluster-scoped objects)."""
        return str(self.metadata.get("namespace") or "")

    @property
    def labels(self) -> dict[str, str]:
        """metadata.labels."""
        return dict(self.metadata.get("labels") or {})

    @property
    def annotations(self) -> dict[str, str]:
        """metadata.annotations."""
        return dict(self.metadata.get("annotations") or {})

    @property
    def generation(self) -> int:
        """metadata.generation (0 when unset)."""
        return int(self.metadata.get("generation") or 0)

    @property
    def resource_version(self) -> str:
        """metadata.resourceVersion."""
        return str(self.metadata.get("resourceVersion") or "")

    @property
    def creation_timestamp(self) -> str:
        """metadata.creationTimestamp."""
        return str(self.metadata.get("creationTimestamp") or "")

    @property
    def deleting(self) -> bool:
        """Whether metadata.deletionTimestamp is set."""
        return bool(self.metadata.get("deletionTimestamp"))

    @property
    def finalizers(self) -> list[str]:
        """metadata.finalizers."""
        return list(self.metadata.get("finalizers") or [])

    @property
    def status(self) -> dict[str, Any]:
        """status, or {}."""
        return self.raw.get("status") or {}

    @property
    def observed_generation(self) -> int:
        """status.observedGeneration (0 when unset)."""
        return int(self.status.get("observedGeneration") or 0)

    @property
    def conditions(self) -> list[Condition]:
        """status.conditions as typed Conditions."""
        return [Condition.from_dict(c) for c in self.status.get("conditions") or []]

    def condition(self, type_: str) -> Condition | None:
        """The condition of the given type, or None."""
        raw = find_condition(self.status.get("conditions"), type_)
        return None if raw is None else Condition.from_dict(raw)

    @property
    def orphan(self) -> bool:
        """Whether the kubefed.io/orphan annotation is "true" (keep applied objects on delete)."""
        return self.annotations.get(names.ANNOTATION_ORPHAN, "").lower() == "true"

    @property
    def requested_at(self) -> str:
        """The reconcile.fluxcd.io/requestedAt annotation ("" when unset)."""
        return self.annotations.get(names.ANNOTATION_REQUESTED_AT, "")

    @property
    def suspended_by(self) -> str:
        """The gitops-tui.io/suspended-by annotation."""
        return self.annotations.get(names.ANNOTATION_SUSPENDED_BY, "")

    @property
    def suspend_reason(self) -> str:
        """The gitops-tui.io/suspend-reason annotation."""
        return self.annotations.get(names.ANNOTATION_SUSPEND_REASON, "")

    @property
    def suspended_at(self) -> str:
        """The gitops-tui.io/suspended-at annotation."""
        return self.annotations.get(names.ANNOTATION_SUSPENDED_AT, "")

    def __repr__(self) -> str:
        """A short debugging form."""
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{type(self).__name__}({where}{self.name})"


def placement_of(raw: dict[str, Any]) -> dict[str, Any]:
    """spec.placement of a federated object (or Project), {} when unset."""
    return dict((raw.get("spec") or {}).get("placement") or {})


def placement_cluster_names(placement: dict[str, Any]) -> list[str]:
    """The cluster names listed in a placement's `clusters` (in order)."""
    return [str(c.get("name", "")) for c in placement.get("clusters") or [] if c.get("name")]


class PlacedView(ObjectView):
    """A view of an object with its own spec.placement (a Project or a FederatedSecret)."""

    @property
    def placement(self) -> dict[str, Any]:
        """spec.placement ({} when unset; for a FederatedSecret the project's placement then applies)."""
        return placement_of(self.raw)

    @property
    def placement_clusters(self) -> list[str]:
        """The cluster names listed in spec.placement.clusters."""
        return placement_cluster_names(self.placement)
