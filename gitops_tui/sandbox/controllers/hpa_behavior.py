"""From a proposed replica count to the one the HPA sets: stabilization and rate limits (pure).

`pkg/controller/podautoscaler/horizontal.go` (kubernetes v1.32): without `spec.behavior`, the
highest recommendation of the last 5 minutes (--horizontal-pod-autoscaler-downscale-stabilization)
wins and a scale-up is limited to max(2 x current, 4); with `spec.behavior`, the lowest recent
recommendation within the scale-up window and the highest within the scale-down window bound the
count (a scale-down window left unset is those 5 minutes), then the policies (Pods / Percent per
period, selectPolicy Max, Min or Disabled) limit how fast it moves, counting the scale events of
each policy's period. Each step writes the AbleToScale / ScalingLimited condition kube writes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

DOWNSCALE_STABILIZATION = timedelta(minutes=5)
SCALE_UP_LIMIT_FACTOR, SCALE_UP_LIMIT_MINIMUM = 2, 4

READY = ("ReadyForNewScale", "recommended size matches current size")
DOWN_STABILIZED = ("ScaleDownStabilized",
                   "recent recommendations were higher than current one, applying the highest recent recommendation")
UP_STABILIZED = ("ScaleUpStabilized",
                 "recent recommendations were lower than current one, applying the lowest recent recommendation")
WITHIN = ("DesiredWithinRange", "the desired count is within the acceptable range")
TOO_FEW = ("TooFewReplicas", "the desired replica count is less than the minimum replica count")
TOO_MANY = ("TooManyReplicas", "the desired replica count is more than the maximum replica count")
UP_LIMIT = ("ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate")
DOWN_LIMIT = ("ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate")


@dataclass
class History:
    """What the controller remembers of one HPA: its recommendations and its scale events, with times."""

    recommendations: list[tuple[datetime, int]] = field(default_factory=list)
    scale_ups: list[tuple[datetime, int]] = field(default_factory=list)
    scale_downs: list[tuple[datetime, int]] = field(default_factory=list)

    def record_scale(self, now: datetime, current: int, desired: int) -> None:
        """Remember a scale change (behavior's policies count them per period, 30 minutes at most)."""
        horizon = now - timedelta(minutes=30)
        self.scale_ups = [(t, n) for t, n in self.scale_ups if t > horizon]
        self.scale_downs = [(t, n) for t, n in self.scale_downs if t > horizon]
        if desired > current:
            self.scale_ups.append((now, desired - current))
        elif desired < current:
            self.scale_downs.append((now, current - desired))


@dataclass
class Outcome:
    """The replica count to set and the two conditions' (reason, message)."""

    replicas: int
    able: tuple[str, str]
    limited: tuple[str, str]
    is_limited: bool


def _window(rules: dict[str, Any] | None, default: timedelta | None) -> timedelta:
    seconds = (rules or {}).get("stabilizationWindowSeconds")
    if seconds is None:
        return default or timedelta(0)
    return timedelta(seconds=int(seconds))


def normalize(spec: dict[str, Any], current: int, proposed: int, now: datetime, history: History) -> Outcome:
    """The count to set for ``proposed`` (normalizeDesiredReplicas / ...WithBehaviors)."""
    minimum = int(spec.get("minReplicas") or 1)
    maximum = int(spec.get("maxReplicas") or minimum)
    behavior = spec.get("behavior")
    if not isinstance(behavior, dict):
        horizon = now - DOWNSCALE_STABILIZATION
        history.recommendations = [(t, r) for t, r in history.recommendations if t > horizon]
        history.recommendations.append((now, proposed))
        stabilized = max(r for _, r in history.recommendations)
        able = READY if stabilized == proposed else DOWN_STABILIZED
        limit = max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM)
        if stabilized < minimum:
            return Outcome(minimum, able, TOO_FEW, True)
        top, reason = (limit, UP_LIMIT) if maximum > limit else (maximum, TOO_MANY)
        if stabilized > top:
            return Outcome(top, able, reason, True)
        return Outcome(stabilized, able, WITHIN, False)
    up_rules, down_rules = behavior.get("scaleUp") or {}, behavior.get("scaleDown") or {}
    up_window, down_window = _window(up_rules, None), _window(down_rules, DOWNSCALE_STABILIZATION)
    up, down = proposed, proposed
    for when, replicas in history.recommendations:
        if when > now - up_window:
            up = min(up, replicas)
        if when > now - down_window:
            down = max(down, replicas)
    longest = max(up_window, down_window)
    history.recommendations = [(t, r) for t, r in history.recommendations if t > now - longest]
    history.recommendations.append((now, proposed))
    stabilized = max(current, up) if current < up else current
    stabilized = min(stabilized, down)
    able = READY if stabilized == proposed else (UP_STABILIZED if proposed >= current else DOWN_STABILIZED)
    replicas, limited = _rate_limited(current, stabilized, minimum, maximum, up_rules, down_rules, now, history)
    return Outcome(replicas, able, limited, replicas != stabilized)


def _changed_since(events: list[tuple[datetime, int]], since: datetime) -> int:
    return sum(n for t, n in events if t > since)


def _limit(current: int, rules: dict[str, Any], now: datetime, history: History, up: bool) -> int:
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    best: int | None = None
    for policy in rules.get("policies") or []:
        since = now - timedelta(seconds=int(policy.get("periodSeconds") or 0))
        start = current - _changed_since(history.scale_ups, since) + _changed_since(history.scale_downs, since)
        value = int(policy.get("value") or 0)
        if policy.get("type") == "Pods":
            proposed = start + value if up else start - value
        elif up:
            proposed = math.ceil(start * (1 + value / 100))
        else:
            proposed = int(start * (1 - value / 100))
        widest = (select == "Max") == up  # Max picks the biggest change: the highest up, the lowest down
        best = proposed if best is None else (max(best, proposed) if widest else min(best, proposed))
    return current if best is None else best


def _rate_limited(current: int, desired: int, minimum: int, maximum: int, up_rules: dict[str, Any],
                  down_rules: dict[str, Any], now: datetime, history: History) -> tuple[int, tuple[str, str]]:
    if desired > current:
        limit = max(_limit(current, up_rules, now, history, up=True), current)
        top, reason = (limit, UP_LIMIT) if maximum > limit else (maximum, TOO_MANY)
        if desired > top:
            return top, reason
    elif desired < current:
        limit = min(_limit(current, down_rules, now, history, up=False), current)
        bottom, reason = (limit, DOWN_LIMIT) if minimum < limit else (minimum, TOO_FEW)
        if desired < bottom:
            return bottom, reason
    return desired, WITHIN
