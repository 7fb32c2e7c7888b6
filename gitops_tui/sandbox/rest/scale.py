"""The scale subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets, StatefulSets, ReplicationControllers and CRD kinds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_tui.sandbox.apply.fieldsets import copy_json
from gitops_tui.sandbox.apply.patch import PatchError, json_patch, merge_patch
from gitops_tui.sandbox.rest.parts import ApiParts
from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.schema.causes import invalid as invalid_cause
from gitops_tui.sandbox.serving.common import ApiRequest, Response, manager_name, meta
from gitops_tui.sandbox.serving.errors import ApiError, bad_request, invalid, method_not_allowed, stale
from gitops_tui.sandbox.serving.query import decode_body
from gitops_tui.sandbox.serving.routing import ResourceRoute

BUILTIN_PATHS = (".spec.replicas", ".status.replicas", "")  # specReplicasPath, statusReplicasPath, labelSelectorPath


def _get(obj: dict[str, Any], path: str) -> Any:
    value: Any = obj
    for key in path.strip(".").split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _set(obj: dict[str, Any], path: str, value: Any) -> None:
    keys = path.strip(".").split(".")
    node = obj
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value


def _selector(obj: dict[str, Any], path: str) -> str:
    if path:  # a CRD's labelSelectorPath names a string in the object
        found = _get(obj, path)
        return found if isinstance(found, str) else ""
    selector = (obj.get("spec") or {}).get("selector") or {}
    # A ReplicationController's selector is a plain label map, not a LabelSelector.
    labels = selector if obj.get("kind") == "ReplicationController" else selector.get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def to_scale(obj: dict[str, Any], paths: tuple[str, ...] = BUILTIN_PATHS) -> dict[str, Any]:
    """Return the autoscaling/v1 Scale view of a scalable object (a CRD's scale paths when given)."""
    m = obj.get("metadata") or {}
    spec_replicas, status_replicas = _get(obj, paths[0]), _get(obj, paths[1])
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: m[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in m},
        "spec": {"replicas": int(spec_replicas) if isinstance(spec_replicas, int) else
                 (0 if paths != BUILTIN_PATHS else 1)},
        "status": {"replicas": int(status_replicas) if isinstance(status_replicas, int) else 0,
                   "selector": _selector(obj, paths[2])},
    }


@dataclass(frozen=True)
class _ScaleKind:
    group: str = "autoscaling"
    kind: str = "Scale"
    plural: str = "scales"


_SCALE = _ScaleKind()


class ScaleOps(ApiParts):
    """GET, PUT and PATCH of /scale (mixed into the Api class)."""

    def scale(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> Response:
        """Answer a request on the scale subresource."""
        with self.store.lock:
            live = self._live(rt, route)
            paths = rt.scale_paths or BUILTIN_PATHS
            current = to_scale(live, paths)
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
                raise method_not_allowed()
            rv = meta(wanted).get("resourceVersion")
            if rv and str(rv) != live["metadata"]["resourceVersion"]:
                raise stale(rt.group, rt.plural, route.name or "")
            replicas = (wanted.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or isinstance(replicas, bool):
                raise bad_request("spec.replicas must be an integer")
            if replicas < 0:
                raise invalid(_SCALE, route.name or "", [
                    invalid_cause("spec.replicas", replicas, "must be greater than or equal to 0")])
            new = copy_json(live)
            _set(new, paths[0], replicas)
            new = self._finalize(rt, live, new, "")
            new = self._record_scale(rt, live, new, manager_name(req))
            result = self._persist_update(rt, live, new, req)
        return Response(result.code, to_scale(result.body, paths))

    def _record_scale(
        self, rt: ResourceType, live: dict[str, Any], new: dict[str, Any], manager: str
    ) -> dict[str, Any]:
        from gitops_tui.sandbox.rest.patching import record_managed_fields

        return record_managed_fields(rt, live, new, manager, "scale")
