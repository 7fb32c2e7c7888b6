"""The HorizontalPodAutoscaler controller, a client of the server as kube-controller-manager's is.

Every 15 s (--horizontal-pod-autoscaler-sync-period), and whenever the HPA changes or the clock is
moved, it reads the target's `scale` subresource, the pods its selector picks and their usage from
`metrics.k8s.io` (what `rest/pod_metrics.py` serves), computes the replicas as kube's
ReplicaCalculator does (`hpa_replicas.py`), stabilizes and rate-limits them (`hpa_behavior.py`),
updates the scale and writes `status` as `pkg/controller/podautoscaler/horizontal.go` (kubernetes
v1.32) does: currentReplicas, desiredReplicas, currentMetrics, lastScaleTime and the AbleToScale,
ScalingActive and ScalingLimited conditions with kube's reasons and messages. Resource metrics
(cpu, memory) are served; Pods, Object, External and ContainerResource metrics are not.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.hpa_behavior import History, normalize
from gitops_tui.sandbox.controllers.hpa_replicas import (
    MetricError,
    Proposal,
    average_value_replicas,
    utilization_replicas,
)
from gitops_tui.sandbox.controllers.kinds import (
    DEPLOYMENTS,
    HPAS,
    PODS,
    REPLICASETS,
    REPLICATIONCONTROLLERS,
    STATEFULSETS,
)
from gitops_tui.sandbox.controllers.objects import conditions_by_type, meta, spec, status, timestamp
from gitops_tui.sandbox.controllers.rest import ApiException, status_of
from gitops_tui.sandbox.schema.quantity import parse_quantity
from gitops_tui.sandbox.serving.query import labels_match, parse_label_selector
from gitops_tui.util.timestamps import parse_time

SYNC_PERIOD = 15.0
MANAGER = "kube-controller-manager"
_TARGETS = {(r.group, r.kind): r for r in (DEPLOYMENTS, STATEFULSETS, REPLICASETS, REPLICATIONCONTROLLERS)}


def milli_quantity(milli: int) -> str:
    """resource.NewMilliQuantity(milli, DecimalSI).String(): '900m', '2', '3k'."""
    if milli % 1000:
        return f"{milli}m"
    value, suffix = milli // 1000, ""
    for unit in ("k", "M", "G", "T", "P", "E"):
        if value == 0 or value % 1000:
            break
        value, suffix = value // 1000, unit
    return f"{value}{suffix}"


class HorizontalPodAutoscalerController(Controller):
    """Scales Deployments, StatefulSets, ReplicaSets and ReplicationControllers from their pods' usage."""

    name = "horizontalpodautoscaler"

    def setup(self) -> None:
        """A changed HPA is looked at within the sync period, as kube's fixed-interval rate limiter does."""
        self.history: dict[tuple[str, str], History] = {}
        self.on(HPAS, lambda kind, old, new: self.enqueue_obj(new or old, SYNC_PERIOD))

    def start(self) -> None:
        """Look at every HPA once."""
        self.clock_moved()

    def clock_moved(self) -> None:
        """Look at every HPA again (a test moved the clock)."""
        for obj in self.ctx.items(HPAS):
            self.enqueue_obj(obj)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """One pass of reconcileAutoscaler; look again after the sync period."""
        hpa = self.ctx.cache(HPAS, namespace, name)
        if hpa is None:
            self.history.pop((namespace, name), None)
            return None
        now = self.ctx.clock()
        conds: dict[str, tuple[str, str, str]] = {}
        new = self._pass(hpa, namespace, now, conds)
        old_conds = conditions_by_type(hpa)  # kube's setCondition: a condition this pass did not set stays
        new["conditions"] = [self._condition(kind, *conds[kind], old_conds.get(kind), now) if kind in conds
                             else old_conds[kind] for kind in ("AbleToScale", "ScalingActive", "ScalingLimited")
                             if kind in conds or kind in old_conds]
        self.ctx.write_status(HPAS, hpa, new, MANAGER)
        return SYNC_PERIOD

    @staticmethod
    def _condition(kind: str, state: str, reason: str, message: str, old: dict[str, Any] | None,
                   now: Any) -> dict[str, Any]:
        kept = old.get("lastTransitionTime") if old and old.get("status") == state else None
        return {"type": kind, "status": state, "lastTransitionTime": kept or timestamp(now), "reason": reason,
                "message": message}

    def _pass(self, hpa: dict[str, Any], namespace: str, now: Any, conds: dict[str, tuple[str, str, str]]
              ) -> dict[str, Any]:
        hpa_spec, old = spec(hpa), status(hpa)
        new: dict[str, Any] = {"desiredReplicas": int(old.get("desiredReplicas") or 0)}
        for key in ("currentReplicas", "lastScaleTime", "currentMetrics"):
            if old.get(key) is not None:
                new[key] = old[key]
        ref = hpa_spec.get("scaleTargetRef") or {}
        group = str(ref.get("apiVersion") or "").rpartition("/")[0]
        target = _TARGETS.get((group, str(ref.get("kind") or "")))
        if target is None:
            conds["AbleToScale"] = ("False", "FailedGetScale", "the HPA controller was unable to get the target's "
                                    f'current scale: no matches for kind "{ref.get("kind")}" in group "{group}"')
            return new
        try:
            scale = self.ctx.rest.get(target.path(namespace, str(ref.get("name") or ""), "scale"))
        except ApiException as exc:
            if status_of(exc) != 404:
                raise
            conds["AbleToScale"] = ("False", "FailedGetScale", "the HPA controller was unable to get the target's "
                                    f'current scale: {target.plural}{"." + group if group else ""} '
                                    f'"{ref.get("name")}" not found')
            return new
        conds["AbleToScale"] = ("True", "SucceededGetScale", "the HPA controller was able to get the target's "
                                "current scale")
        current = int((scale.get("spec") or {}).get("replicas") or 0)
        minimum, maximum = int(hpa_spec.get("minReplicas") or 1), int(hpa_spec.get("maxReplicas") or 1)
        new["currentReplicas"] = current
        if current == 0 and minimum != 0:
            conds["ScalingActive"] = ("False", "ScalingDisabled",
                                      "scaling is disabled since the replica count of the target is zero")
            new["desiredReplicas"] = 0
            return new
        if current > maximum or current < minimum:
            desired = maximum if current > maximum else minimum
        else:
            computed = self._metrics(hpa, namespace, scale, current, now, conds, new)
            if computed is None:
                return new
            history = self.history.setdefault((namespace, meta(hpa).get("name", "")), History())
            outcome = normalize(hpa_spec, current, computed, now, history)
            desired = outcome.replicas
            conds["AbleToScale"] = ("True", *outcome.able)
            conds["ScalingLimited"] = ("True" if outcome.is_limited else "False", *outcome.limited)
        if desired != current:
            scale.setdefault("spec", {})["replicas"] = desired
            self.ctx.rest.request("PUT", target.path(namespace, str(ref.get("name")), "scale"),
                                  {"fieldManager": MANAGER}, scale)
            conds["AbleToScale"] = ("True", "SucceededRescale",
                                    f"the HPA controller was able to update the target scale to {desired}")
            if isinstance(hpa_spec.get("behavior"), dict):
                self.history.setdefault((namespace, meta(hpa).get("name", "")), History()).record_scale(
                    now, current, desired)
            new["lastScaleTime"] = timestamp(now)
        new["desiredReplicas"] = desired
        return new

    def _metrics(self, hpa: dict[str, Any], namespace: str, scale: dict[str, Any], current: int, now: Any,
                 conds: dict[str, tuple[str, str, str]], new: dict[str, Any]) -> int | None:
        """computeReplicasForMetrics: the highest proposal of the HPA's metrics (None when none works)."""
        selector = parse_label_selector(str((scale.get("status") or {}).get("selector") or ""))
        pods = [p for p in self.ctx.items(PODS, namespace) if labels_match(selector, p)]
        best, statuses, failure = None, [], None
        for metric in spec(hpa).get("metrics") or []:
            kind = metric.get("type")
            if kind != "Resource" or not isinstance(metric.get("resource"), dict):
                failure = (f"FailedGet{kind}Metric", f"the HPA was unable to compute the replica count: the "
                           f"sandbox serves no {kind} metrics (only Resource metrics from metrics.k8s.io)")
                continue
            resource = metric["resource"]
            name, target = str(resource.get("name")), resource.get("target") or {}
            try:
                usage, stamp = self._usage(namespace, str((scale.get("status") or {}).get("selector") or ""), name)
                if target.get("type") == "Utilization":
                    proposal = utilization_replicas(current, int(target.get("averageUtilization") or 0), pods,
                                                    usage, name, now, stamp)
                    described = f"{name} resource utilization (percentage of request)"
                else:
                    value = parse_quantity(target.get("averageValue")) or Decimal(0)
                    proposal = average_value_replicas(current, max(1, int(value * 1000)), pods, usage, name,
                                                      now, stamp)
                    described = f"{name} resource"
            except MetricError as exc:
                what = "utilization" if target.get("type") == "Utilization" else "usage"
                failure = ("FailedGetResourceMetric", "the HPA was unable to compute the replica count: "
                           f"failed to get {name} {what}: {exc}")
                continue
            statuses.append(_metric_status(name, proposal))
            if best is None or proposal.replicas > best[0]:
                best = (proposal.replicas, described)
        if best is None:
            conds["ScalingActive"] = ("False", *(failure or ("FailedGetResourceMetric", "no metrics")))
            new.pop("currentMetrics", None)
            return None
        new["currentMetrics"] = statuses
        conds["ScalingActive"] = ("True", "ValidMetricFound",
                                  f"the HPA was able to successfully calculate a replica count from {best[1]}")
        return best[0]

    def _usage(self, namespace: str, selector: str, resource: str) -> tuple[dict[str, Decimal], Any]:
        """Each pod's usage of ``resource`` from metrics.k8s.io, and the metrics' timestamp."""
        path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"
        try:
            items = self.ctx.rest.get(path, {"labelSelector": selector}).get("items") or []
        except ApiException as exc:
            raise MetricError(f"unable to get metrics for resource {resource}: unable to fetch metrics from "
                              f"resource metrics API: {exc.reason}") from exc
        usage, stamp = {}, None
        for item in items:
            total = Decimal(0)
            for container in item.get("containers") or []:
                total += parse_quantity((container.get("usage") or {}).get(resource, "0")) or Decimal(0)
            usage[(item.get("metadata") or {}).get("name", "")] = total
            stamp = parse_time(item.get("timestamp")) or stamp
        if not usage:
            raise MetricError(f"unable to get metrics for resource {resource}: no metrics returned from "
                              "resource metrics API")
        return usage, stamp


def _metric_status(name: str, proposal: Proposal) -> dict[str, Any]:
    current: dict[str, Any] = {}
    if proposal.utilization is not None:
        current["averageUtilization"] = proposal.utilization
    current["averageValue"] = milli_quantity(proposal.average_milli)
    return {"type": "Resource", "resource": {"name": name, "current": current}}
