"""Status condition helpers: find, read and set conditions in the Kubernetes style."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from gitops_tui.api.formats import now_rfc3339


@dataclass(frozen=True)
class Condition:
    """A typed view of one status condition."""

    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition_time: str = ""
    last_update_time: str = ""

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Condition:
        """Build from a condition dict."""
        return cls(
            type=str(raw.get("type", "")),
            status=str(raw.get("status", "Unknown")),
            reason=str(raw.get("reason") or ""),
            message=str(raw.get("message") or ""),
            last_transition_time=str(raw.get("lastTransitionTime") or ""),
            last_update_time=str(raw.get("lastUpdateTime") or ""),
        )

    @property
    def is_true(self) -> bool:
        """Whether status is "True"."""
        return self.status == "True"


def find_condition(conditions: list[dict[str, Any]] | None, type_: str) -> dict[str, Any] | None:
    """Return the condition dict of the given type, or None."""
    for condition in conditions or []:
        if condition.get("type") == type_:
            return condition
    return None


def condition_status(conditions: list[dict[str, Any]] | None, type_: str) -> str | None:
    """Return "True"/"False"/"Unknown" for the condition type, or None when absent."""
    condition = find_condition(conditions, type_)
    return None if condition is None else str(condition.get("status", "Unknown"))


def is_condition_true(conditions: list[dict[str, Any]] | None, type_: str) -> bool:
    """Whether the condition of the given type has status "True"."""
    return condition_status(conditions, type_) == "True"


def set_condition(
    conditions: list[dict[str, Any]] | None,
    type_: str,
    status: bool | str,
    reason: str,
    message: str,
    *,
    now: str | None = None,
    observed_generation: int | None = None,
) -> list[dict[str, Any]]:
    """Return a new condition list with the condition set.

    lastTransitionTime changes only when the status changes; lastUpdateTime always changes
    when anything of the condition changes. Conditions keep their order; a new one is appended.
    """
    if isinstance(status, bool):
        status = "True" if status else "False"
    stamp = now or now_rfc3339()
    result = copy.deepcopy(list(conditions or []))
    for index, existing in enumerate(result):
        if existing.get("type") != type_:
            continue
        updated = dict(existing)
        changed = (
            existing.get("status") != status
            or existing.get("reason") != reason
            or existing.get("message") != message
        )
        if existing.get("status") != status or not existing.get("lastTransitionTime"):
            updated["lastTransitionTime"] = stamp
        if changed or not existing.get("lastUpdateTime"):
            updated["lastUpdateTime"] = stamp
        updated.update({"status": status, "reason": reason, "message": message})
        if observed_generation is not None:
            updated["observedGeneration"] = observed_generation
        result[index] = updated
        return result
    new: dict[str, Any] = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": stamp,
        "lastUpdateTime": stamp,
    }
    if observed_generation is not None:
        new["observedGeneration"] = observed_generation
    result.append(new)
    return result


def remove_condition(conditions: list[dict[str, Any]] | None, type_: str) -> list[dict[str, Any]]:
    """Return a new condition list without the given type."""
    return [copy.deepcopy(c) for c in conditions or [] if c.get("type") != type_]
