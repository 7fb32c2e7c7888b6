"""Typed view of a KubeFedCluster (core.kubefed.io/v1beta1, in kube-federation-system)."""

from __future__ import annotations

from typing import Any

from gitops_tui.api import names
from gitops_tui.api.base import ObjectView


class KubeFedCluster(ObjectView):
    """A registered workload cluster: API endpoint and the Secret holding its kubeconfig."""

    @property
    def spec(self) -> dict[str, Any]:
        """spec, or {}."""
        return self.raw.get("spec") or {}

    @property
    def api_endpoint(self) -> str:
        """spec.apiEndpoint."""
        return str(self.spec.get("apiEndpoint") or "")

    @property
    def secret_name(self) -> str:
        """spec.secretRef.name (the Secret with key `kubeconfig`)."""
        return str((self.spec.get("secretRef") or {}).get("name") or "")

    @property
    def ready(self) -> bool | None:
        """True when Ready is True, False when Ready is False or Offline is True, None when unknown."""
        ready = self.condition(names.READY)
        offline = self.condition(names.OFFLINE)
        if offline is not None and offline.is_true:
            return False
        if ready is None or ready.status not in ("True", "False"):
            return None
        return ready.is_true

    @property
    def reason(self) -> str:
        """The reason of the Offline (when true) or Ready condition."""
        return self._reporting_condition_field("reason")

    @property
    def message(self) -> str:
        """The message of the Offline (when true) or Ready condition."""
        return self._reporting_condition_field("message")

    def _reporting_condition_field(self, field: str) -> str:
        """Read a field of the condition that explains readiness."""
        offline = self.condition(names.OFFLINE)
        chosen = offline if offline is not None and offline.is_true else self.condition(names.READY)
        return "" if chosen is None else str(getattr(chosen, field))


def stale_since(raw: dict[str, Any] | None) -> tuple[str, str] | None:
    """(since when, why) a KubeFedCluster stopped answering (its Ready is not True), None while it answers.

    ``since`` is the lastTransitionTime of Offline (when True) or Ready: the time of the last good data.
    """
    view = KubeFedCluster(raw or {})
    ready = view.condition(names.READY)
    if ready is None or ready.is_true:
        return None
    offline = view.condition(names.OFFLINE)
    chosen = offline if offline is not None and offline.is_true else ready
    return (chosen.last_transition_time or ready.last_transition_time, chosen.message or chosen.reason)
