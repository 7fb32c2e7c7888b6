"""Deletes of the sandbox server: finalizers, propagation policies (the GC's finalizers) and namespace cascade.

Dependents are removed by the garbage collector (controllers/garbage.py), a client of the server.
"""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.sandbox.rest.parts import ApiParts
from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.serving.common import ApiRequest, Response, meta, now, storage_key
from gitops_tui.sandbox.serving.errors import bad_request, conflict, method_not_allowed, not_found, stale
from gitops_tui.sandbox.serving.query import decode_body
from gitops_tui.sandbox.serving.routing import ResourceRoute
from gitops_tui.sandbox.storage.store import Conflict, NotFound

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
NS_KEY = ("", "namespaces")
ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"
#: Kinds whose API version keeps the legacy default of orphaning dependents (core/v1 RC, batch/v1 Job).
_ORPHAN_BY_DEFAULT = {("", "ReplicationController"), ("batch", "Job")}


def _default_policy(rt: ResourceType) -> str:
    """The propagation policy of a delete that names none, as kube-apiserver's strategies choose it."""
    return "Orphan" if (rt.group, rt.kind) in _ORPHAN_BY_DEFAULT else "Background"


def gc_finalizers(finalizers: list[str], policy: str) -> list[str]:
    """The finalizers an object carries while it is deleted with ``policy`` (the garbage collector's own)."""
    wanted = {"Orphan": ORPHAN_FINALIZER, "Foreground": FOREGROUND_FINALIZER}.get(policy)
    if wanted is None:
        return list(finalizers)
    kept = [f for f in finalizers if f not in (ORPHAN_FINALIZER, FOREGROUND_FINALIZER)]
    return [*kept, wanted]


class DeleteOps(ApiParts):
    """Delete and deletecollection (mixed into the Api class)."""

    def _delete_options(self, rt: ResourceType, req: ApiRequest) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if req.body.strip():
            options = decode_body(req.body, req.header("Content-Type") or "application/json")
        policy = req.query.get("propagationPolicy") or options.get("propagationPolicy")
        orphan = req.query.get("orphanDependents", options.get("orphanDependents"))
        if not policy and orphan is not None:
            policy = "Orphan" if str(orphan).lower() == "true" else "Background"
        policy = policy or _default_policy(rt)
        if policy not in ("Background", "Foreground", "Orphan"):
            raise bad_request(f"invalid propagationPolicy {policy!r}")
        options["propagationPolicy"] = policy
        dry = options.get("dryRun") or []
        if dry and dry != ["All"]:
            raise bad_request("unsupported dry run value: only All is supported")
        options["_dry"] = req.dry_run or dry == ["All"]
        return options

    def delete(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> Response:
        """DELETE one object: mark it when finalizers remain, else remove it (and its contents)."""
        if route.subresource:
            raise method_not_allowed()
        options = self._delete_options(rt, req)
        group, plural = storage_key(rt)
        name = route.name or ""
        with self.store.lock:
            raw = self.store.get(group, plural, route.namespace or "", name)
            if raw is None:
                raise not_found(rt.group, rt.plural, name)
            pre = options.get("preconditions") or {}
            if pre.get("resourceVersion") and str(pre["resourceVersion"]) != raw["metadata"]["resourceVersion"]:
                raise stale(rt.group, rt.plural, name)
            if pre.get("uid") and pre["uid"] != raw["metadata"].get("uid"):
                raise conflict(
                    rt.group, rt.plural, name,
                    f"Precondition failed: UID in precondition: {pre['uid']}, "
                    f"UID in object meta: {raw['metadata'].get('uid')}",
                )
            if options["_dry"]:
                return Response(200, self.present(rt, raw))
            result = self._delete_object(group, plural, raw, options["propagationPolicy"])
        return Response(200, self.present(rt, result))

    def delete_collection(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> Response:
        """DELETE a collection: every object matching the selectors."""
        options = self._delete_options(rt, req)
        matches = self.select(req, route, rt)
        group, plural = storage_key(rt)
        deleted = []
        with self.store.lock:
            items, _ = self.store.list(group, plural, route.namespace)
            for obj in items:
                if not matches(self.present(rt, obj)):
                    continue
                if options["_dry"]:
                    deleted.append(obj)
                    continue
                try:
                    deleted.append(self._delete_object(group, plural, obj, options["propagationPolicy"]))
                except NotFound:
                    continue
            rev = self.store.revision
        return Response(
            200,
            {
                "kind": rt.list_kind,
                "apiVersion": rt.group_version,
                "metadata": {"resourceVersion": str(rev)},
                "items": [self.present(rt, o) for o in deleted],
            },
        )

    # -- internals ---------------------------------------------------------------------------

    def _delete_object(self, group: str, plural: str, obj: dict[str, Any], policy: str) -> dict[str, Any]:
        if (group, plural) == NS_KEY:
            return self._delete_namespace(obj)
        m = obj.get("metadata") or {}
        namespace, name = m.get("namespace", ""), m.get("name", "")
        finalizers = gc_finalizers(m.get("finalizers") or [], policy)
        if finalizers:
            if m.get("deletionTimestamp") and finalizers == (m.get("finalizers") or []):
                return obj
            marked = copy.deepcopy(obj)
            meta(marked).setdefault("deletionTimestamp", now())
            meta(marked)["deletionGracePeriodSeconds"] = 0
            meta(marked)["finalizers"] = finalizers
            return self.store.update(group, plural, namespace, name, marked)
        final = copy.deepcopy(obj)
        meta(final).setdefault("deletionTimestamp", now())
        gone = self.store.delete(group, plural, namespace, name, final=final)
        self._cleanup_after(group, plural, gone)
        return gone

    def after_delete(self, rt: ResourceType, gone: dict[str, Any]) -> None:
        """Run the follow-ups of an object that has just left the store (its last finalizer went)."""
        group, plural = storage_key(rt)
        self._cleanup_after(group, plural, gone)

    def _cleanup_after(self, group: str, plural: str, gone: dict[str, Any]) -> None:
        m = gone.get("metadata") or {}
        if (group, plural) == CRD_KEY:
            self._drop_crd(gone)
        elif (group, plural) == NS_KEY:
            return
        namespace = m.get("namespace") or ""
        if namespace:
            self._finish_namespace(namespace)

    def _drop_crd(self, crd: dict[str, Any]) -> None:
        spec = crd.get("spec") or {}
        key = (spec.get("group", ""), (spec.get("names") or {}).get("plural", ""))
        try:
            self.catalog.remove_crd(crd)
        except Exception:  # noqa: BLE001 - the CRD may never have been served
            pass
        self.custom.discard(key)
        items, _ = self.store.list(*key)
        for obj in items:
            m = obj["metadata"]
            try:
                self.store.delete(key[0], key[1], m.get("namespace", ""), m["name"])
            except NotFound:
                continue

    def _delete_namespace(self, ns: dict[str, Any]) -> dict[str, Any]:
        name = ns["metadata"]["name"]
        if not ns["metadata"].get("deletionTimestamp"):
            marked = copy.deepcopy(ns)
            meta(marked)["deletionTimestamp"] = now()
            marked["status"] = {"phase": "Terminating"}
            ns = self.store.update("", "namespaces", "", name, marked)
        for group, plural, obj in self.store.in_namespace(name):
            try:
                self._delete_object(group, plural, obj, "Background")
            except (NotFound, Conflict):
                continue
        return self._finish_namespace(name) or ns

    def _finish_namespace(self, name: str) -> dict[str, Any] | None:
        ns = self.store.get("", "namespaces", "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return None
        if self.store.in_namespace(name):
            return None
        try:
            return self.store.delete("", "namespaces", "", name, final=ns)
        except NotFound:
            return None
