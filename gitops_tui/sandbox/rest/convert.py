"""Converting stored objects between the API versions that share one storage (Events, CRD versions)."""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.sandbox.rest.convert_hpa import V1 as _HPA_V1
from gitops_tui.sandbox.rest.convert_hpa import V2 as _HPA_V2
from gitops_tui.sandbox.rest.convert_hpa import convert_hpa

_EVENTS_V1 = "events.k8s.io/v1"
_HPA_VERSIONS = (_HPA_V1, _HPA_V2)

# core/v1 field -> events.k8s.io/v1 field
_EVENT_RENAMES = {
    "involvedObject": "regarding",
    "message": "note",
    "related": "related",
    "count": "deprecatedCount",
    "firstTimestamp": "deprecatedFirstTimestamp",
    "lastTimestamp": "deprecatedLastTimestamp",
    "source": "deprecatedSource",
}


def _core_to_events(obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"apiVersion": _EVENTS_V1, "kind": "Event"}
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if key == "reportingComponent":
            out["reportingController"] = value
        else:
            out[_EVENT_RENAMES.get(key, key)] = value
    if "eventTime" not in out:
        out["eventTime"] = None
    return out


def _events_to_core(obj: dict[str, Any]) -> dict[str, Any]:
    back = {v: k for k, v in _EVENT_RENAMES.items()}
    out: dict[str, Any] = {"apiVersion": "v1", "kind": "Event"}
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if key == "reportingController":
            out["reportingComponent"] = value
        else:
            out[back.get(key, key)] = value
    out.setdefault("involvedObject", {})
    return out


def to_version(obj: dict[str, Any], api_version: str, kind: str) -> dict[str, Any]:
    """Return ``obj`` as ``api_version``/``kind`` (a copy when anything changes)."""
    current = obj.get("apiVersion")
    if current == api_version and obj.get("kind") == kind:
        return obj
    if kind == "HorizontalPodAutoscaler" and current in _HPA_VERSIONS and api_version in _HPA_VERSIONS:
        return convert_hpa(obj, api_version)
    if kind == "Event" and current in ("v1", _EVENTS_V1) and api_version in ("v1", _EVENTS_V1):
        if api_version == _EVENTS_V1:
            return _core_to_events(obj)
        return _events_to_core(obj)
    out = copy.copy(obj)
    out["apiVersion"] = api_version
    out["kind"] = kind
    return out
