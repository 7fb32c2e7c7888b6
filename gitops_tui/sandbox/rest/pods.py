"""The Pod subresources a sandbox can answer: log (a line saying the pod is simulated), exec (refused), binding."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.apply.fieldsets import copy_json
from gitops_tui.sandbox.rest.parts import ApiParts
from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.serving.common import ApiRequest, Response, meta, storage_key
from gitops_tui.sandbox.serving.errors import ApiError, bad_request, conflict, not_found
from gitops_tui.sandbox.serving.query import decode_body
from gitops_tui.sandbox.serving.routing import ResourceRoute
from gitops_tui.sandbox.storage.store import Conflict

POD_SUBRESOURCES = ("log", "exec", "binding")


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod.get("spec") or {}
    return [c for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])] if isinstance(c, dict)]


def _pick_container(pod: dict[str, Any], wanted: str) -> dict[str, Any]:
    """The container a log or exec request is about, refused as kubelet refuses it."""
    name = meta(pod).get("name", "")
    containers = _containers(pod)
    if wanted:
        found = next((c for c in containers if c.get("name") == wanted), None)
        if found is None:
            raise bad_request(f"container {wanted} is not valid for pod {name}")
        return found
    regular = [c for c in (pod.get("spec") or {}).get("containers") or [] if isinstance(c, dict)]
    if len(regular) != 1:
        names = " ".join(str(c.get("name", "")) for c in regular)
        raise bad_request(f"a container name must be specified for pod {name}, choose one of: [{names}]")
    return regular[0]


def _waiting(pod: dict[str, Any], container: str) -> dict[str, Any] | None:
    status = pod.get("status") or {}
    for entry in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        if entry.get("name") == container:
            return (entry.get("state") or {}).get("waiting")
    return {"reason": "ContainerCreating"}


class PodOps(ApiParts):
    """pods/log, pods/exec and pods/binding (mixed into the Api class)."""

    def pod_subresource(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> Response:
        """Answer a request on one of POD_SUBRESOURCES."""
        if route.subresource == "binding":
            if req.method != "POST":
                raise ApiError(405, f"{req.method} is not supported on pods/binding", "MethodNotAllowed")
            return self._bind(rt, route, req)
        pod = self._live(rt, route)
        name, namespace = route.name or "", route.namespace or ""
        if route.subresource == "log":
            if req.method != "GET":
                raise ApiError(405, f"{req.method} is not supported on pods/log", "MethodNotAllowed")
            container = _pick_container(pod, req.query.get("container", ""))
            cname = container.get("name", "")
            waiting = _waiting(pod, cname)
            if waiting is not None:
                reason = waiting.get("reason") or "ContainerCreating"
                raise bad_request(f'container "{cname}" in pod "{name}" is waiting to start: {reason}')
            line = (f"gitops-tui sandbox: pod {namespace}/{name} is simulated; container {cname!r} "
                    f"(image {container.get('image', '')}) runs nothing and writes no logs\n")
            return Response(200, line.encode(), "text/plain")
        container = _pick_container(pod, req.query.get("container", ""))
        raise bad_request(f"cannot exec into container {container.get('name', '')!r} of pod {namespace}/{name}: "
                          "the pod is simulated by the gitops-tui sandbox and runs no process")

    def _bind(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> Response:
        """Assign a pod to a node, once, as the scheduler does through pods/binding."""
        body = decode_body(req.body, req.header("Content-Type"))
        target = body.get("target") if isinstance(body, dict) else None
        node = (target or {}).get("name") if isinstance(target, dict) else None
        if not isinstance(node, str) or not node:
            raise ApiError(422, f'Binding.core "{route.name}" is invalid: target.name: Required value',
                           "Invalid")
        group, plural = storage_key(rt)
        name = route.name or ""
        with self.store.lock:
            live = self.store.get(group, plural, route.namespace or "", name)
            if live is None:
                raise not_found(rt.group, rt.plural, name)
            assigned = (live.get("spec") or {}).get("nodeName")
            if assigned:
                raise conflict(rt.group, "pods/binding", name,
                               f'pod {name} is already assigned to node "{assigned}"')
            if req.dry_run:
                return Response(201, _success())
            bound = copy_json(live)
            bound.setdefault("spec", {})["nodeName"] = node
            try:
                self.store.update(group, plural, route.namespace or "", name, bound,
                                  int(live["metadata"]["resourceVersion"]))
            except Conflict:
                raise conflict(rt.group, "pods/binding", name, "the pod changed while it was being bound") from None
        return Response(201, _success())


def _success() -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
