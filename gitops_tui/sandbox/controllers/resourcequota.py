"""The resource quota controller: status.hard from the spec and status.used counted from the namespace."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gitops_tui.sandbox.controllers import kinds
from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.objects import deleting, meta, pod_active, spec

_SUFFIXES: dict[str, int | Decimal] = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
             "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("0.001"), "k": 10 ** 3, "M": 10 ** 6,
             "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18}
#: Object counts a quota may limit, by the informer that counts them.
_COUNTED = {"pods": kinds.PODS, "services": kinds.SERVICES, "configmaps": kinds.CONFIGMAPS,
            "secrets": kinds.SECRETS, "persistentvolumeclaims": kinds.PVCS,
            "replicationcontrollers": kinds.REPLICATIONCONTROLLERS, "resourcequotas": kinds.RESOURCEQUOTAS}
_COUNTED.update({f"count/{res.plural}" + (f".{res.group}" if res.group else ""): res for res in kinds.WATCHED
                 if res.namespaced})


def parse_quantity(text: Any) -> Decimal:
    """A Kubernetes quantity ("500m", "1Gi", "2") as a number (0 when unreadable)."""
    value = str(text or "0").strip()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if value.endswith(suffix) and value[: -len(suffix)]:
            try:
                return Decimal(value[: -len(suffix)]) * Decimal(_SUFFIXES[suffix])
            except ArithmeticError:
                return Decimal(0)
    try:
        return Decimal(value)
    except ArithmeticError:
        return Decimal(0)


def format_quantity(value: Decimal, memory: bool) -> str:
    """A number written as the API server canonicalizes it: "1500m", "2", "64Mi"."""
    if memory and value and value == value.to_integral_value():
        for suffix in ("Gi", "Mi", "Ki"):
            if value % _SUFFIXES[suffix] == 0:
                return f"{int(value / _SUFFIXES[suffix])}{suffix}"
    if value == value.to_integral_value():
        return str(int(value))
    return f"{int(value * 1000)}m"


def _pod_sum(pods: list[dict[str, Any]], section: str, resource: str) -> Decimal:
    total = Decimal(0)
    for pod in pods:
        for container in spec(pod).get("containers") or []:
            total += parse_quantity(((container.get("resources") or {}).get(section) or {}).get(resource))
    return total


def used(resource: str, ctx: Any, namespace: str) -> str | None:
    """How much of one quota resource the namespace uses (None for a resource this controller cannot count)."""
    if resource in _COUNTED and _COUNTED[resource].key in ctx.informers:
        items = ctx.items(_COUNTED[resource], namespace)
        if _COUNTED[resource] is kinds.PODS:
            items = [p for p in items if pod_active(p)]
        return str(len(items))
    section, _, name = resource.rpartition(".")
    if resource in ("cpu", "memory"):
        section, name = "requests", resource
    if section in ("requests", "limits") and name in ("cpu", "memory"):
        pods = [p for p in ctx.items(kinds.PODS, namespace) if pod_active(p)]
        return format_quantity(_pod_sum(pods, section, name), name == "memory")
    return None


class ResourceQuotaController(Controller):
    """Keeps each ResourceQuota's status.hard and status.used current."""

    name = "resourcequota"

    def setup(self) -> None:
        """Reconcile the quotas of a namespace when a quota or anything it counts changes there."""
        self.on(kinds.RESOURCEQUOTAS, lambda kind, old, new: self.enqueue_obj(new))

        def counted_changed(kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
            for quota in self.ctx.items(kinds.RESOURCEQUOTAS, meta(new or old).get("namespace") or ""):
                self.enqueue_obj(quota, 0.05)

        for res in {r.key: r for r in _COUNTED.values()}.values():
            if res.key in self.ctx.informers and res is not kinds.RESOURCEQUOTAS:
                self.on(res, counted_changed)

    def start(self) -> None:
        """Look at every quota once."""
        for obj in self.ctx.items(kinds.RESOURCEQUOTAS):
            self.enqueue_obj(obj)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Write one quota's status."""
        quota = self.ctx.cache(kinds.RESOURCEQUOTAS, namespace, name)
        if quota is None or deleting(quota):
            return None
        hard = dict(spec(quota).get("hard") or {})
        counts = {r: used(r, self.ctx, namespace) for r in hard}
        self.ctx.write_status(kinds.RESOURCEQUOTAS, quota,
                              {"hard": hard, "used": {r: v for r, v in counts.items() if v is not None}})
        return None
