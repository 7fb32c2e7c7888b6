"""The REST semantics of one sandbox cluster: routing to reads, writes, deletes and watches."""

from __future__ import annotations

import base64
import json
import logging
import threading
from typing import Any

from gitops_tui.sandbox.rest import pod_metrics, reviews, table
from gitops_tui.sandbox.rest.convert import to_version
from gitops_tui.sandbox.rest.delete import DeleteOps
from gitops_tui.sandbox.rest.field_labels import translate
from gitops_tui.sandbox.rest.pods import POD_SUBRESOURCES, PodOps
from gitops_tui.sandbox.rest.scale import ScaleOps
from gitops_tui.sandbox.rest.watch import WatchOps
from gitops_tui.sandbox.rest.write import WriteOps
from gitops_tui.sandbox.schema import discovery, openapi
from gitops_tui.sandbox.schema.catalog import AGGREGATED_DISCOVERY_CONTENT_TYPE, Catalog, ResourceType
from gitops_tui.sandbox.schema.kube_schemas import KUBE_VERSION
from gitops_tui.sandbox.serving.common import (
    ApiRequest,
    Response,
    WatchStream,
    now,
    parse_rv,
    storage_key,
)
from gitops_tui.sandbox.serving.errors import (
    bad_request,
    expired,
    method_not_allowed,
    not_found,
    page_not_found,
)
from gitops_tui.sandbox.serving.query import (
    check_acceptable,
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
    wants_table,
)
from gitops_tui.sandbox.serving.routing import ResourceRoute, SpecialRoute, parse_path
from gitops_tui.sandbox.storage.store import Store

log = logging.getLogger(__name__)

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
VERSION_INFO = {  # the release whose official schemas validate built-in kinds (schema/kube_schemas.py)
    "major": KUBE_VERSION.lstrip("v").split(".")[0],
    "minor": KUBE_VERSION.split(".")[1],
    "gitVersion": f"{KUBE_VERSION}-gitops-tui-sandbox",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}
# client-go parses the answer's media type: the "@" form kubectl sends in Accept does not parse.
_V2_PROTOBUF_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter."
)


def wants_aggregated(accept: str) -> bool:
    """Whether an Accept header asks for apidiscovery.k8s.io/v2 aggregated discovery (kubectl asks for it first)."""
    for entry in accept.split(","):
        params = {p.strip() for p in entry.split(";")[1:]}
        if {"g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"} <= params:
            return True
    return False


def _include(req: ApiRequest) -> str:
    """The includeObject choice of a Table request (Metadata unless None or Object is asked)."""
    value = req.query.get("includeObject", "Metadata")
    return value if value in ("None", "Object", "Metadata") else "Metadata"


def _limit(value: str | None) -> int:
    """Parse the limit parameter of a list (0 means no limit); 400 when it is not a number."""
    if not value:
        return 0
    try:
        return max(0, int(value))
    except ValueError:
        raise bad_request(f"invalid limit {value!r}: must be a non-negative integer") from None


class Api(WriteOps, DeleteOps, WatchOps, ScaleOps, PodOps):
    """The Kubernetes REST API over one Store and Catalog."""

    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        *,
        bookmark_interval: float = 5.0,
        stopping: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.catalog = catalog
        self.bookmark_interval = bookmark_interval
        self.stopping = stopping or threading.Event()
        self.custom: set[tuple[str, str]] = set()
        #: Answers the review and TokenRequest resources (rest.reviews), set by the server with its access gate.
        self.reviews: Any = None
        #: Refuses RBAC writes that escalate (rest.rbac_escalation.EscalationGuard), set by the server with its access gate.
        self.escalation: Any = None

    # -- start-up ----------------------------------------------------------------------------

    def startup(self) -> None:
        """Serve the CRDs already stored and create the built-in namespaces in a new store."""
        crds, _ = self.store.list(*CRD_KEY)
        for crd in crds:
            self._serve_crd(crd)
        if self.store.revision == 0:
            for name in _BUILTIN_NAMESPACES:
                self.store.create("", "namespaces", "", name, self._new_namespace(name))

    def _new_namespace(self, name: str) -> dict[str, Any]:
        import uuid

        return {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "uid": str(uuid.uuid4()),
                "creationTimestamp": now(),
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }

    def _serve_crd(self, crd: dict[str, Any]) -> None:
        try:
            self.catalog.apply_crd(crd)
        except Exception:  # noqa: BLE001 - a bad CRD must not stop the server
            log.exception("could not serve CRD %s", (crd.get("metadata") or {}).get("name"))
            return
        spec = crd.get("spec") or {}
        self.custom.add((spec.get("group", ""), (spec.get("names") or {}).get("plural", "")))

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, req: ApiRequest) -> Response | WatchStream:
        """Answer one request (raises ApiError for every refusal)."""
        check_acceptable(req.header("Accept"))
        route = parse_path(req.path)
        if route is None:
            raise page_not_found()
        if isinstance(route, SpecialRoute):
            return self._special(route, req)
        if self.reviews is not None and reviews.serves(route):
            return self.reviews.handle(route, req)
        if pod_metrics.serves(route):
            self._resolve(route)
            return pod_metrics.handle(self.store, route, req)
        rt = self._resolve(route)
        method = req.method
        if route.subresource == "scale" and not route.watch_path:
            return self.scale(rt, route, req)
        if route.subresource in POD_SUBRESOURCES and not route.watch_path:
            return self.pod_subresource(rt, route, req)
        if method == "GET":
            if req.flag("watch") or route.watch_path:
                return self.watch(rt, route, req)
            if route.name is None:
                return self.list(rt, route, req)
            return self.get(rt, route, req)
        if route.watch_path:
            raise method_not_allowed()
        if method == "POST":
            if route.name is not None:
                raise method_not_allowed()
            return self.create(rt, route, req)
        if method == "PUT" and route.name is not None:
            return self.update(rt, route, req)
        if method == "PATCH" and route.name is not None:
            return self.patch(rt, route, req)
        if method == "DELETE":
            if route.name is None:
                return self.delete_collection(rt, route, req)
            return self.delete(rt, route, req)
        raise method_not_allowed()

    def _resolve(self, route: ResourceRoute) -> ResourceType:
        rt = self.catalog.resolve(route.group, route.version, route.plural)
        if rt is None:
            raise page_not_found()
        if route.subresource and route.subresource not in rt.subresources:
            raise page_not_found()
        if rt.namespaced and route.name is not None and route.namespace is None:
            raise page_not_found()
        if not rt.namespaced and route.namespace is not None:
            raise page_not_found()
        return rt

    def _special(self, route: SpecialRoute, req: ApiRequest) -> Response:
        if req.method != "GET":
            raise method_not_allowed()
        if route.kind == "version":
            return Response(200, VERSION_INFO)
        if route.kind == "health":
            return Response(200, b"ok", "text/plain; charset=utf-8")
        if route.kind == "discovery":
            if wants_aggregated(req.header("Accept")):
                aggregated = discovery.aggregated_discovery(self.catalog, route.path)
                if aggregated is not None:
                    return Response(200, aggregated, AGGREGATED_DISCOVERY_CONTENT_TYPE, {"Vary": "Accept"})
            doc = discovery.discovery(self.catalog, route.path)
            if doc is None:
                raise page_not_found()
            return Response(200, doc)
        return self._openapi(route.path, req.header("Accept"))

    def _openapi(self, path: str, accept: str) -> Response:
        if path == "/openapi/v2":
            if "protobuf" in accept and "application/json" not in accept:
                return Response(200, openapi.openapi_v2_protobuf(self.catalog), _V2_PROTOBUF_TYPE)
            return Response(200, openapi.openapi_v2(self.catalog))
        if path == "/openapi/v3":
            return Response(200, openapi.openapi_v3_index(self.catalog))
        prefix = "/openapi/v3/"
        if path.startswith(prefix):
            doc = openapi.openapi_v3_document(self.catalog, path[len(prefix):])
            if doc is not None:
                return Response(200, doc)
        raise page_not_found()

    # -- reads -------------------------------------------------------------------------------

    def read(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None:
        """Return the live object as rt's version, or None."""
        group, plural = storage_key(rt)
        obj = self.store.get(group, plural, namespace or "", name)
        return None if obj is None else self.present(rt, obj)

    def present(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
        """Return a stored object converted to rt's group/version and kind."""
        return to_version(obj, rt.group_version, rt.kind)

    def get(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> Response:
        """GET one object (or its status), as JSON or as a Table."""
        obj = self.read(rt, route.namespace, route.name or "")
        if obj is None:
            raise not_found(rt.group, rt.plural, route.name or "")
        if wants_table(req.header("Accept")):
            rv = obj["metadata"].get("resourceVersion", "")
            return Response(200, table.to_table(rt, [obj], {"resourceVersion": rv}, _include(req)))
        return Response(200, obj)

    def select(self, req: ApiRequest, route: ResourceRoute, rt: ResourceType) -> Any:
        """Return a predicate for the request's label and field selectors (and a watched name)."""
        labels = parse_label_selector(req.query.get("labelSelector"))
        fields = translate(rt, parse_field_selector(req.query.get("fieldSelector")))
        if route.name:
            fields.append(("metadata.name", "=", route.name))

        def matches(obj: dict[str, Any]) -> bool:
            return labels_match(labels, obj) and fields_match(fields, obj)

        return matches

    def list(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> Response:
        """LIST objects with selectors, limit/continue, as a typed list or a Table."""
        matches = self.select(req, route, rt)
        group, plural = storage_key(rt)
        requested = parse_rv(req.query.get("resourceVersion"))
        if req.query.get("resourceVersionMatch") == "Exact" and requested is not None:
            if requested < self.store.compacted_revision:
                raise expired(f"too old resource version: {requested} ({self.store.compacted_revision})")
        items, rev = self.store.list(group, plural, route.namespace)
        start = self._continue_start(req.query.get("continue"))
        if start is not None:
            items = [o for o in items if self._sort_key(o) > start]
        items = [o for o in (self.present(rt, o) for o in items) if matches(o)]
        list_meta: dict[str, Any] = {"resourceVersion": str(rev)}
        limit = _limit(req.query.get("limit"))
        if limit and len(items) > limit:
            items, rest = items[:limit], items[limit:]
            list_meta["continue"] = self._continue_token(rev, self._sort_key(items[-1]))
            list_meta["remainingItemCount"] = len(rest)
        if wants_table(req.header("Accept")):
            return Response(200, table.to_table(rt, items, list_meta, _include(req)))
        return Response(
            200,
            {"kind": rt.list_kind, "apiVersion": rt.group_version, "metadata": list_meta, "items": items},
        )

    @staticmethod
    def _sort_key(obj: dict[str, Any]) -> str:
        m = obj.get("metadata") or {}
        return f"{m.get('namespace', '')}/{m.get('name', '')}"

    @staticmethod
    def _continue_token(rev: int, start: str) -> str:
        raw = json.dumps({"rv": rev, "start": start}).encode()
        return base64.urlsafe_b64encode(raw).decode()

    def _continue_start(self, token: str | None) -> str | None:
        if not token:
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            rev, start = int(data["rv"]), str(data["start"])
        except (ValueError, KeyError, TypeError) as exc:
            raise bad_request("invalid continue token") from exc
        if rev < self.store.compacted_revision:
            raise expired(_EXPIRED_CONTINUE)
        return start
