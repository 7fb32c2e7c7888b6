"""Writes of the sandbox server: create, update (PUT), patch and server-side apply."""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from gitops_tui.sandbox.apply.fieldsets import copy_json
from gitops_tui.sandbox.rest import fields
from gitops_tui.sandbox.rest.defaults import (
    CRD_KEY,
    apply_defaults,
    crd_status,
    defaults_on_create,
    keep_cluster_ip,
    merge_string_data,
)
from gitops_tui.sandbox.rest.defaults_services import Taken
from gitops_tui.sandbox.rest.duplicates import of_request as _duplicates
from gitops_tui.sandbox.rest.parts import ApiParts
from gitops_tui.sandbox.rest.patching import (
    APPLY_PATCH,
    apply_configuration,
    patch_type,
    patched_object,
    record_managed_fields,
)
from gitops_tui.sandbox.rest.rbac_escalation import check_apply_create, check_write
from gitops_tui.sandbox.schema import decoder, structural, validation
from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.schema.immutable import normalize_cluster_ips
from gitops_tui.sandbox.serving.common import (
    ApiRequest,
    Response,
    manager_name,
    meta,
    now,
    parse_rv,
    spec_of,
    storage_key,
)
from gitops_tui.sandbox.serving.errors import (
    ApiError,
    already_exists,
    bad_request,
    internal,
    invalid,
    not_found,
    page_not_found,
    stale,
    warning_header,
)
from gitops_tui.sandbox.serving.query import decode_body
from gitops_tui.sandbox.serving.routing import ResourceRoute
from gitops_tui.sandbox.storage.store import AlreadyExists, Conflict, NotFound

_SERVER_OWNED = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
MAX_OBJECT_BYTES = 1536 * 1024  # etcd's default --max-request-bytes


class WriteOps(ApiParts):
    """Create, update, patch and apply (mixed into the Api class)."""

    # -- identity and preconditions ----------------------------------------------------------

    def _identity(self, rt: ResourceType, obj: dict[str, Any], route: ResourceRoute) -> dict[str, Any]:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if api_version and api_version != rt.group_version:
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version ({rt.group_version})"
            )
        if kind and kind != rt.kind:
            raise bad_request(f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})")
        obj["apiVersion"], obj["kind"] = rt.group_version, rt.kind
        m = meta(obj)
        if rt.namespaced:
            if route.namespace is None:
                raise page_not_found()
            if m.get("namespace") and m["namespace"] != route.namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            m["namespace"] = route.namespace
        else:
            m.pop("namespace", None)
        if route.name is not None:
            if m.get("name") and m["name"] != route.name:
                raise bad_request(
                    f"the name of the object ({m['name']}) does not match the name on the URL ({route.name})"
                )
            m["name"] = route.name
        return obj

    def _check_namespace(self, rt: ResourceType, namespace: str | None, name: str) -> None:
        if not rt.namespaced or namespace is None:
            return
        ns = self.store.get("", "namespaces", "", namespace)
        if ns is None:
            raise not_found("", "namespaces", namespace)
        if (ns.get("metadata") or {}).get("deletionTimestamp"):
            raise ApiError(
                403,
                f'{rt.plural} "{name}" is forbidden: unable to create new content in namespace '
                f"{namespace} because it is being terminated",
                "Forbidden",
                {"name": name, "kind": rt.plural},
            )

    def _validate(self, rt: ResourceType, obj: dict[str, Any], old: dict[str, Any] | None = None) -> None:
        """Normalize a write's final object (stringData, CR defaults), then refuse what kube-apiserver refuses."""
        merge_string_data(rt, obj)
        if not fields.ENABLED:
            return
        if rt.is_crd:
            structural.apply_defaults(rt.schema, obj)
        missing: list[str] = []
        found = None if rt.is_crd else decoder.inspect(rt.group, rt.version, rt.kind, obj)
        if found is not None:
            missing = [path.json_path() for path in found.missing]
        causes = validation.validate(rt, obj, old, missing)
        if rt.is_crd:
            causes += structural.validate(rt.schema, obj)
        if causes:
            raise invalid(rt, meta(obj).get("name", ""), causes)
        if len(json.dumps(obj, separators=(",", ":"))) > MAX_OBJECT_BYTES:
            raise internal("etcdserver: request is too large")

    # -- create ------------------------------------------------------------------------------

    def create(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> Response:
        """POST a new object."""
        body = decode_body(req.body, req.header("Content-Type"))
        obj = self._identity(rt, body, route)
        warnings = fields.check_decoded(rt, obj, fields.directive(req.query), dups=_duplicates(req))
        obj = record_managed_fields(rt, None, self._strip_server_owned(obj), manager_name(req))
        return _warned(self._create_object(rt, obj, req), warnings)

    @staticmethod
    def _strip_server_owned(obj: dict[str, Any]) -> dict[str, Any]:
        m = meta(obj)
        for key in (*_SERVER_OWNED, "resourceVersion", "selfLink", "managedFields"):
            m.pop(key, None)
        return obj

    def _create_object(self, rt: ResourceType, obj: dict[str, Any], req: ApiRequest) -> Response:
        m = meta(obj)
        if not m.get("name") and m.get("generateName"):
            m["name"] = m["generateName"] + "".join(random.choices(_NAME_CHARS, k=5))
        name = m.get("name") or ""
        for key in (*_SERVER_OWNED, "resourceVersion", "selfLink"):
            m.pop(key, None)
        m["uid"] = str(uuid.uuid4())
        m["creationTimestamp"] = now()
        m["generation"] = 1
        if "status" in rt.subresources and storage_key(rt) != ("", "nodes"):  # a kubelet registers with status
            obj.pop("status", None)
        with self.store.lock:
            check_write(getattr(self, "escalation", None), rt, obj, None, req.user)
            defaults_on_create(rt, obj, self.store.get)
            apply_defaults(rt, obj, None, self._services_taken(rt))
            self._validate(rt, obj)
            self._check_namespace(rt, m.get("namespace"), name)
            group, plural = storage_key(rt)
            if req.dry_run:
                if self.store.get(group, plural, m.get("namespace", ""), name) is not None:
                    raise already_exists(rt.group, rt.plural, name)
                return Response(201, obj)
            try:
                stored = self.store.create(group, plural, m.get("namespace", ""), name, obj)
            except AlreadyExists:
                raise already_exists(rt.group, rt.plural, name) from None
            self._after_write(rt, None, stored)
        return Response(201, self.present(rt, stored))

    def _services_taken(self, rt: ResourceType) -> Taken:
        """What the other Services hold, asked of the store only when a write allocates (no object decoded)."""
        if storage_key(rt) != ("", "services"):
            return Taken()
        store = self.store
        return Taken(store.service_ip_taken, lambda: store.extract("", "services", "$.spec.ports"))

    def _after_write(self, rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
        if storage_key(rt) == CRD_KEY:
            if old is not None:
                try:
                    self.catalog.remove_crd(old)
                except Exception:  # noqa: BLE001 - re-registering below
                    pass
            self._serve_crd(new)

    # -- update ------------------------------------------------------------------------------

    def update(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> Response:
        """PUT a whole object (or its status)."""
        body = self._identity(rt, decode_body(req.body, req.header("Content-Type")), route)
        warnings = fields.check_decoded(rt, body, fields.directive(req.query), dups=_duplicates(req))
        expected = parse_rv(meta(body).get("resourceVersion"))
        with self.store.lock:
            live = self._live(rt, route)
            if expected is not None and str(expected) != live["metadata"]["resourceVersion"]:
                raise stale(rt.group, rt.plural, route.name or "")
            if "managedFields" not in meta(body):
                meta(body)["managedFields"] = live["metadata"].get("managedFields")
            new = self._finalize(rt, live, body, route.subresource)
            new = record_managed_fields(rt, live, new, manager_name(req), route.subresource)
            return _warned(self._persist_update(rt, live, new, req), warnings)

    def _live(self, rt: ResourceType, route: ResourceRoute) -> dict[str, Any]:
        live = self.read(rt, route.namespace, route.name or "")
        if live is None:
            raise not_found(rt.group, rt.plural, route.name or "")
        return live

    def _finalize(
        self, rt: ResourceType, live: dict[str, Any], new: dict[str, Any], subresource: str
    ) -> dict[str, Any]:
        """Return ``new`` with server-owned fields from ``live`` and the status/spec split applied."""
        new = copy_json(new)
        new["apiVersion"], new["kind"] = rt.group_version, rt.kind
        live_meta = live.get("metadata") or {}
        if subresource == "status":
            result = copy_json(live)
            if "status" in new:
                result["status"] = new["status"]
            else:
                result.pop("status", None)
            meta(result)["managedFields"] = meta(new).get("managedFields")
            new = result
        else:
            m = meta(new)
            for key in (*_SERVER_OWNED, "name", "namespace"):
                if key in live_meta:
                    m[key] = copy_json(live_meta[key])
                else:
                    m.pop(key, None)
            if "status" in rt.subresources:
                if "status" in live:
                    new["status"] = copy_json(live["status"])
                else:
                    new.pop("status", None)
        m = meta(new)
        m["resourceVersion"] = live_meta.get("resourceVersion", "")
        m.pop("selfLink", None)
        if m.get("managedFields") is None:
            m.pop("managedFields", None)
        if subresource != "status":
            keep_cluster_ip(rt, new, live)
            apply_defaults(rt, new, live, self._services_taken(rt))
            normalize_cluster_ips(new, live)
        with_status = "status" not in rt.subresources  # without a status subresource, status is spec
        if spec_of(new, with_status) != spec_of(live, with_status):
            m["generation"] = int(live_meta.get("generation") or 1) + 1
        if storage_key(rt) == CRD_KEY:
            new["status"] = crd_status(new, live)
        return new

    def _persist_update(
        self, rt: ResourceType, live: dict[str, Any], new: dict[str, Any], req: ApiRequest
    ) -> Response:
        check_write(getattr(self, "escalation", None), rt, new, live, req.user)
        self._validate(rt, new, live)
        m = meta(new)
        if _unchanged(live, new):
            return Response(200, live)  # a no-op write keeps the resourceVersion and wakes no watcher
        if req.dry_run:
            return Response(200, new)
        group, plural = storage_key(rt)
        namespace, name = m.get("namespace", ""), m.get("name", "")
        expected = int(live["metadata"]["resourceVersion"])
        try:
            if m.get("deletionTimestamp") and not m.get("finalizers"):
                gone = self.store.delete(group, plural, namespace, name, expected, final=new)
                self.after_delete(rt, gone)
                return Response(200, self.present(rt, gone))
            stored = self.store.update(group, plural, namespace, name, new, expected)
        except Conflict:
            raise stale(rt.group, rt.plural, name) from None
        except NotFound:
            raise not_found(rt.group, rt.plural, name) from None
        self._after_write(rt, live, stored)
        return Response(200, self.present(rt, stored))

    # -- patch and apply ---------------------------------------------------------------------

    def patch(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> Response:
        """PATCH with a JSON, merge or strategic-merge patch, or a server-side apply."""
        ctype = patch_type(rt, req)
        if ctype == APPLY_PATCH:
            return self.apply(rt, route, req)
        body = decode_body(req.body, "application/json", want_list=ctype == "application/json-patch+json")
        with self.store.lock:
            live = self._live(rt, route)
            patched = patched_object(rt, live, ctype, body)
            patched_rv = meta(patched).get("resourceVersion")
            if patched_rv and str(patched_rv) != live["metadata"]["resourceVersion"]:
                raise stale(rt.group, rt.plural, route.name or "")
            patched = self._identity(rt, patched, route)
            mode = fields.STRATEGIC_PATCH if ctype == "application/strategic-merge-patch+json" else fields.JSON_PATCH
            dups = _duplicates(req, "application/json") if ctype != "application/json-patch+json" else None
            warnings = fields.check_decoded(rt, patched, fields.directive(req.query), mode=mode, patch=body,
                                            dups=dups)
            new = self._finalize(rt, live, patched, route.subresource)
            new = record_managed_fields(rt, live, new, manager_name(req), route.subresource)
            return _warned(self._persist_update(rt, live, new, req), warnings)

    def apply(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> Response:
        """Server-side apply: merge the configuration, track managers, report conflicts."""
        manager = req.query.get("fieldManager")
        if not manager:
            raise ApiError(
                422,
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
                "Invalid",
            )
        config = decode_body(req.body, "application/yaml")
        if not config.get("apiVersion") or not config.get("kind"):
            raise bad_request("apiVersion and kind must be set in an apply configuration")
        config = self._identity(rt, config, route)
        validation = fields.directive(req.query)
        fields.check_apply_config(rt, config, route.namespace or "", route.name or "")
        expected = meta(config).pop("resourceVersion", None)
        force = req.flag("force")
        with self.store.lock:
            live = self.read(rt, route.namespace, route.name or "")
            if live is None:
                if route.subresource:
                    raise not_found(rt.group, rt.plural, route.name or "")
                if expected:
                    raise not_found(rt.group, rt.plural, route.name or "")
                check_apply_create(getattr(self, "escalation", None), rt, route.namespace or "", route.name or "", req.user)
                new = apply_configuration(rt, None, config, manager, force)
                warnings = fields.check_apply_duplicates(validation, _duplicates(req, "application/yaml"))
                return _warned(self._create_object(rt, new, req), warnings)
            if expected and str(expected) != live["metadata"]["resourceVersion"]:
                raise stale(rt.group, rt.plural, route.name or "")
            new = apply_configuration(rt, live, config, manager, force, route.subresource)
            warnings = fields.check_apply_duplicates(validation, _duplicates(req, "application/yaml"))
            new = self._finalize(rt, live, new, route.subresource)
            return _warned(self._persist_update(rt, live, new, req), warnings)

def _warned(response: Response, warnings: list[str]) -> Response:
    """``response`` with a Warning header carrying ``warnings`` (kubectl prints each one)."""
    if warnings:
        response.headers["Warning"] = warning_header(warnings)
    return response


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without its resourceVersion and managedFields timestamps (shallow: nothing is copied deeply)."""
    m = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"}
    fields = m.get("managedFields")
    if isinstance(fields, list):
        m["managedFields"] = [{k: v for k, v in e.items() if k != "time"} if isinstance(e, dict) else e for e in fields]
    return {**obj, "metadata": m}


def _unchanged(live: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether ``new`` equals ``live`` apart from its resourceVersion and managedFields timestamps."""
    return _comparable(live) == _comparable(new)
