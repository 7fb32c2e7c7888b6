"""Flux's force: an object whose change the API server refuses as immutable is deleted and applied again.

kustomize-controller (fluxcd/pkg/ssa) recreates an object when ``spec.force`` is true, or when the object itself
says ``kustomize.toolkit.fluxcd.io/force: enabled`` (label or annotation), and the apply is refused as a Conflict or
as Invalid (a change of an immutable field, e.g. a Deployment's selector or a Job's template). docs/flux.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import DynamicApiError

from gitops_tui.kube.apply import apply_object, delete_object, get_object
from gitops_tui.kube.inventory import ObjectRef, describe
from gitops_tui.reconciler.errors import ObjectFailure

#: Flux's per-object switch (label or annotation) to recreate an object whose change is refused as immutable.
FORCE_KEY = "kustomize.toolkit.fluxcd.io/force"
#: API statuses Flux's ssa treats as "immutable, recreate it" when forced (Conflict and Invalid).
RECREATE_STATUSES = (409, 422)

#: Runs one write to the cluster: (verb, the write) -> its result (propagate's guarded, counted write).
Writer = Callable[[str, Callable[[], Any]], Any]


def forced(obj: dict[str, Any], force: bool) -> bool:
    """Whether ``obj`` is recreated when its change is refused: the source's ``force``, or the object's own switch."""
    meta = obj.get("metadata") or {}
    return force or "enabled" in ((meta.get("labels") or {}).get(FORCE_KEY), (meta.get("annotations") or {}).get(FORCE_KEY))


def recreate(cluster: str, dynamic: DynamicClient, obj: dict[str, Any], ref: ObjectRef, write: Writer) -> Any:
    """Delete ``obj`` and apply it again; ObjectFailure (ApplyFailed) when the new object is refused too."""
    write("delete", lambda: delete_object(dynamic, ref.api_version, ref.kind, ref.name, ref.namespace or None))
    for _ in range(40):  # the old object may take a moment to leave (finalizers, graceful deletion)
        if get_object(dynamic, ref.api_version, ref.kind, ref.name, ref.namespace or None) is None:
            break
        time.sleep(0.25)
    try:
        return write("apply", lambda: apply_object(dynamic, obj))
    except DynamicApiError as exc:
        from gitops_tui.reconciler.propagate import api_message

        raise ObjectFailure("ApplyFailed", f"{describe(ref)} on {cluster} (recreated, force): "
                                           f"{api_message(exc)}") from None
