"""Who the API server says a client is (SelfSubjectReview, as ``kubectl auth whoami``), asked once per client."""

from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any

from gitops_tui.api.paths import resource_path

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kubernetes.client import ApiClient

log = logging.getLogger(__name__)

PATH = resource_path("authentication.k8s.io/v1", "selfsubjectreviews")
_known: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def who_am_i(api: ApiClient) -> dict[str, Any]:
    """``{user, groups, verified: True}`` as the API server authenticated ``api``; ``{user: "", verified: False}``
    when it cannot say (an API server before Kubernetes 1.28, or the request refused). Cached per client."""
    with _lock:
        known = _known.get(api)
    if known is not None:
        return dict(known)
    from gitops_tui.kube.client import json_request

    try:
        answer = json_request(api, "POST", PATH, {"apiVersion": "authentication.k8s.io/v1",
                                                  "kind": "SelfSubjectReview"}, timeout=5)
        info = (answer.get("status") or {}).get("userInfo") or {}
        found = {"user": str(info.get("username") or ""), "groups": [str(g) for g in info.get("groups") or []],
                 "verified": bool(info.get("username"))}
    except Exception as exc:  # noqa: BLE001 - the identity is recorded as unknown, never fails an action
        log.info("SelfSubjectReview failed: %s", type(exc).__name__)
        return {"user": "", "groups": [], "verified": False}
    with _lock:
        _known[api] = found
    return dict(found)


def unverified(claim: str, via: str) -> dict[str, Any]:
    """An identity the API server did not vouch for: a field manager's name or an annotation (``via`` says which)."""
    return {"user": claim, "groups": [], "verified": False, "via": via}


def identity_text(identity: dict[str, Any] | None) -> str:
    """``sandbox-admin`` or ``kubectl-patch (unverified, managedFields)``; '' when unknown."""
    if not identity or not identity.get("user"):
        return "" if not identity or identity.get("verified", True) else "unknown (unverified)"
    if identity.get("verified"):
        return str(identity["user"])
    via = f", {identity['via']}" if identity.get("via") else ""
    return f"{identity['user']} (unverified{via})"
