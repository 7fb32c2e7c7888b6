"""The scale subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets, StatefulSets and ReplicationControllers."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.apply.fieldsets import copy_json
from gitops_tui.sandbox.apply.patch import PatchError, json_patch, merge_patch
from gitops_tui.sandbox.serving.common import ApiRequest, Response, manager_name, meta
from gitops_tui.sandbox.serving.errors import ApiError, bad_request, stale
from gitops_tui.sandbox.serving.query import decode_body
from gitops_tui.sandbox.serving.routing import ResourceRoute


def _selector(obj: dict[str, Any]) -> str:
    selector = (obj.get("spec") or {}).get("selector") or {}
    if obj.get("kind") == "ReplicationController":  # a plain label map, not a LabelSelector
        labels = selector
    else:
        labels = selector.get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def to_scale(obj: dict[str, Any]) -> dict[str, Any]:
    """Return the autoscaling/v1 Scale view of a scalable object."""
    m = obj.get("metadata") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: m[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in m},
        "spec": {"replicas": int((obj.get("spec") or {}).get("replicas", 1))},
        "status": {"replicas": int((obj.get("status") or {}).get("replicas", 0)), "selector": _selector(obj)},
    }


class ScaleOps:
    """GET, PUT and PATCH of /scale (mixed into the Api class)."""

    def scale(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> Response:
        """Answer a request on the scale subresource."""
        with self.store.lock:
            live = self._live(rt, route)
            current = to_scale(live)
            if req.method == "GET":
                return Response(200, current)
            if req.method == "PUT":
                wanted = decode_body(req.body, req.header("Content-Type"))
            elif req.method == "PATCH":
                ctype = req.header("Content-Type").split(";")[0].strip().lower()
                body = decode_body(req.body, "application/json", want_list=ctype == "application/json-patch+json")
                try:
                    if ctype == "application/json-patch+json":
                        wanted = json_patch(current, body)
                    elif ctype in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                        wanted = merge_patch(current, body)
                    else:
                        raise ApiError(415, f"unsupported patch type {ctype!r} for scale", "UnsupportedMediaType")
                except PatchError as exc:
                    raise ApiError(422, f"the patch could not be applied: {exc}", "Invalid") from exc
            else:
                raise ApiError(405, f"{req.method} is not supported on scale", "MethodNotAllowed")
            rv = meta(wanted).get("resourceVersion")
            if rv and str(rv) != live["metadata"]["resourceVersion"]:
                raise stale(rt.group, rt.plural, route.name or "")
            replicas = (wanted.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise bad_request("spec.replicas must be a non-negative integer")
            new = copy_json(live)
            new.setdefault("spec", {})["replicas"] = replicas
            new = self._finalize(rt, live, new, "")
            new = self._record_scale(rt, live, new, manager_name(req))
            result = self._persist_update(rt, live, new, req)
        return Response(result.code, to_scale(result.body))

    def _record_scale(
        self, rt: ResourceType, live: dict[str, Any], new: dict[str, Any], manager: str
    ) -> dict[str, Any]:
        from gitops_tui.sandbox.rest.write import _record

        return _record(rt, live, new, manager, "scale")
