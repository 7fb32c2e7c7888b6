"""Server-set defaults of new objects: namespace phase, pod phase, secret type, CRD conditions."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.catalog import ResourceType
from gitops_tui.sandbox.server_common import meta, now, storage_key

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")


def defaults_on_create(rt: ResourceType, obj: dict[str, Any]) -> None:
    """Fill what kube-apiserver sets on create for a few kinds (in place)."""
    key = storage_key(rt)
    if key == ("", "namespaces"):
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
        meta(obj).setdefault("labels", {})["kubernetes.io/metadata.name"] = meta(obj)["name"]
    elif key == ("", "secrets"):
        obj.setdefault("type", "Opaque")
    elif key == ("", "pods"):
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    elif key == CRD_KEY:
        obj["status"] = crd_status(obj, None)


def crd_status(crd: dict[str, Any], live: dict[str, Any] | None) -> dict[str, Any]:
    """Return the status of a served CRD: Established, NamesAccepted, acceptedNames, storedVersions."""
    spec = crd.get("spec") or {}
    names = dict(spec.get("names") or {})
    if names.get("kind") and not names.get("listKind"):
        names["listKind"] = names["kind"] + "List"
    if names.get("plural") and not names.get("singular"):
        names["singular"] = names.get("kind", "").lower()
    stamps = {
        c.get("type"): c.get("lastTransitionTime")
        for c in ((live or {}).get("status") or {}).get("conditions") or []
    }
    stamp = now()
    stored = [v.get("name") for v in spec.get("versions") or [] if v.get("storage")]
    old_stored = ((live or {}).get("status") or {}).get("storedVersions") or []
    return {
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
             "message": "no conflicts found", "lastTransitionTime": stamps.get("NamesAccepted") or stamp},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
             "message": "the initial names have been accepted",
             "lastTransitionTime": stamps.get("Established") or stamp},
        ],
        "acceptedNames": names,
        "storedVersions": list(dict.fromkeys([*old_stored, *stored])),
    }
