"""The garbage collector: ownerReferences honoured in the background, in the foreground and when orphaning.

Like kube-controller-manager's, it keeps a graph of owners and dependents from the informers (and
starts a metadata-only informer for any other kind seen as an owner), deletes dependents whose
owners are all gone, deletes the dependents of an owner carrying `foregroundDeletion` before
letting it go (waiting for those with blockOwnerDeletion), and strips the references to an owner
carrying `orphan` before letting it go.
"""

from __future__ import annotations

import threading
from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.informer import Informer
from gitops_tui.sandbox.controllers.objects import deleting, meta
from gitops_tui.sandbox.controllers.rest import ApiException, Resource, status_of
from gitops_tui.sandbox.rest.delete import FOREGROUND_FINALIZER, ORPHAN_FINALIZER

Node = tuple[str, str, str]  # resource key, namespace, name


def metadata_only(obj: dict[str, Any]) -> dict[str, Any]:
    """What a monitor of an owner-only kind keeps: identity, owners, finalizers."""
    m = obj.get("metadata") or {}
    keep = ("name", "namespace", "uid", "resourceVersion", "ownerReferences", "finalizers", "deletionTimestamp")
    return {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": {k: m[k] for k in keep if k in m}}


def _group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


class GarbageCollector(Controller):
    """Deletes or orphans dependents as their owners go."""

    name = "garbagecollector"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._lock = threading.Lock()
        self._dependents: dict[str, set[Node]] = {}
        self._started = False
        self._mapping: dict[tuple[str, str], Resource | None] = {}

    # -- the graph ----------------------------------------------------------------------------

    def setup(self) -> None:
        """Follow every informer of the cluster."""
        for informer in list(self.ctx.informers.values()):
            informer.handlers.append(self._handler(informer.resource))

    def _handler(self, res: Resource) -> Any:
        def changed(kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
            obj = new or old or {}
            node = (res.key, meta(obj).get("namespace") or "", meta(obj).get("name") or "")
            before = {r.get("uid") for r in meta(old).get("ownerReferences") or []} if old else set()
            after = {r.get("uid") for r in meta(new).get("ownerReferences") or []} if new else set()
            with self._lock:
                for uid in before - after:
                    self._dependents.get(uid, set()).discard(node)
                for uid in after:
                    self._dependents.setdefault(uid, set()).add(node)
                gone_uid = meta(old).get("uid") if new is None else None
                dependents = list(self._dependents.pop(gone_uid, ())) if gone_uid else []
            for dep in dependents:  # the owner is gone: its dependents may be garbage now
                self._enqueue_node(dep)
            if new is None:
                self._wake_owners(obj)  # an owner waiting in the foreground may be free to go
                return
            if deleting(new) and set(meta(new).get("finalizers") or []) & {ORPHAN_FINALIZER, FOREGROUND_FINALIZER}:
                self._enqueue_node(node)
            elif self._started and after and (kind == "ADDED" or after != before):
                self._enqueue_node(node)
        return changed

    def start(self) -> None:
        """Check every object with owners once, now that every cache is full."""
        self._started = True
        for informer in list(self.ctx.informers.values()):
            for obj in informer.items():
                if meta(obj).get("ownerReferences") or (deleting(obj) and meta(obj).get("finalizers")):
                    self._enqueue_node((informer.resource.key, meta(obj).get("namespace") or "",
                                        meta(obj).get("name") or ""))

    def _enqueue_node(self, node: Node) -> None:
        self.enqueue(node[1], f"{node[0]}|{node[2]}")

    def _wake_owners(self, obj: dict[str, Any]) -> None:
        for ref in meta(obj).get("ownerReferences") or []:
            res = self._resource(ref.get("apiVersion", ""), ref.get("kind", ""))
            if res is not None:
                self._enqueue_node((res.key, meta(obj).get("namespace", "") if res.namespaced else "",
                                    ref.get("name", "")))

    # -- owners' kinds ------------------------------------------------------------------------

    def _resource(self, api_version: str, kind: str) -> Resource | None:
        """The resource of an owner's kind, from the informers or discovery (None when not served)."""
        group = _group(api_version)
        for informer in list(self.ctx.informers.values()):
            if informer.resource.group == group and informer.resource.kind == kind:
                return informer.resource
        if (group, kind) not in self._mapping:
            discovered = self._mapping[(group, kind)] = self._discover(api_version, kind)
            if discovered is not None:
                self._monitor(discovered)
        return self._mapping[(group, kind)]

    def _discover(self, api_version: str, kind: str) -> Resource | None:
        path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        try:
            listing = self.ctx.rest.get(path)
        except ApiException:
            return None
        for entry in listing.get("resources") or []:
            if entry.get("kind") == kind and "/" not in entry.get("name", ""):
                version = api_version.split("/", 1)[-1]
                return Resource(_group(api_version), version, entry["name"], kind, bool(entry.get("namespaced")))
        return None

    def _monitor(self, res: Resource) -> None:
        """Watch (metadata only) a kind seen as an owner, to notice when its objects go."""
        if res.key in self.ctx.informers:
            return
        informer = Informer(self.ctx.rest, res, self.ctx.stop, keep=metadata_only)
        informer.handlers.append(self._handler(res))
        self.ctx.informers[res.key] = informer
        informer.start()

    def _owner(self, ref: dict[str, Any], namespace: str) -> tuple[str, dict[str, Any] | None]:
        """('present' | 'absent' | 'unknown', the owner object when present)."""
        res = self._resource(ref.get("apiVersion", ""), ref.get("kind", ""))
        if res is None:
            return "unknown", None
        ns = namespace if res.namespaced else ""
        informer = self.ctx.informers.get(res.key)
        cached = informer.get(ns, ref.get("name", "")) if informer is not None else None
        if cached is not None and meta(cached).get("uid") == ref.get("uid"):
            return "present", cached
        try:
            live = self.ctx.rest.get(res.path(ns, ref.get("name", "")))
        except ApiException as exc:
            if status_of(exc) == 404:
                return "absent", None
            raise
        return ("present", live) if meta(live).get("uid") == ref.get("uid") else ("absent", None)

    # -- one object ---------------------------------------------------------------------------

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Handle one object: as an owner being deleted, and as a dependent whose owners may be gone."""
        key, _, obj_name = name.partition("|")
        informer = self.ctx.informers.get(key)
        if informer is None:
            return None
        obj = informer.get(namespace, obj_name)
        if obj is None:
            return None
        res = informer.resource
        finalizers = meta(obj).get("finalizers") or []
        if deleting(obj) and ORPHAN_FINALIZER in finalizers:
            self._orphan(res, obj)
        elif deleting(obj) and FOREGROUND_FINALIZER in finalizers:
            self._foreground(res, obj)
        elif meta(obj).get("ownerReferences") and not deleting(obj):
            self._collect(res, obj)
        return None

    def _dependents_of(self, obj: dict[str, Any]) -> list[tuple[Resource, dict[str, Any]]]:
        with self._lock:
            nodes = list(self._dependents.get(meta(obj).get("uid", ""), ()))
        found = []
        for key, namespace, name in nodes:
            informer = self.ctx.informers.get(key)
            dep = informer.get(namespace, name) if informer is not None else None
            if informer is not None and dep is not None:
                found.append((informer.resource, dep))
        return found

    def _drop_finalizer(self, res: Resource, obj: dict[str, Any], finalizer: str) -> None:
        kept = [f for f in meta(obj).get("finalizers") or [] if f != finalizer]
        self.ctx.patch(res, obj, {"metadata": {"finalizers": kept or None,
                                               "resourceVersion": meta(obj).get("resourceVersion")}})

    def _without_owner(self, res: Resource, dep: dict[str, Any], uids: set[str]) -> None:
        refs = [r for r in meta(dep).get("ownerReferences") or [] if r.get("uid") not in uids]
        self.ctx.patch(res, dep, {"metadata": {"ownerReferences": refs or None,
                                               "resourceVersion": meta(dep).get("resourceVersion")}})

    def _orphan(self, res: Resource, owner: dict[str, Any]) -> None:
        """`--cascade=orphan`: strip the owner from its dependents, then let it go."""
        uid = meta(owner).get("uid", "")
        for dep_res, dep in self._dependents_of(owner):
            self._without_owner(dep_res, dep, {uid})
        self._drop_finalizer(res, owner, ORPHAN_FINALIZER)

    def _foreground(self, res: Resource, owner: dict[str, Any]) -> None:
        """`--cascade=foreground`: delete the dependents; the owner goes once no blocking one is left."""
        uid = meta(owner).get("uid", "")
        dependents = self._dependents_of(owner)
        blocking = [d for _, d in dependents
                    if any(r.get("uid") == uid and r.get("blockOwnerDeletion") for r in meta(d).get("ownerReferences")
                           or [])]
        for dep_res, dep in dependents:
            if not deleting(dep):
                self._delete_dependent(dep_res, dep)
        if not blocking:
            self._drop_finalizer(res, owner, FOREGROUND_FINALIZER)

    def _delete_dependent(self, res: Resource, dep: dict[str, Any]) -> None:
        with self._lock:
            has_own = bool(self._dependents.get(meta(dep).get("uid", "")))
        self.ctx.delete(res, dep, "Foreground" if has_own else "Background")

    def _collect(self, res: Resource, dep: dict[str, Any]) -> None:
        """A dependent: deleted when every owner is gone, unreferenced from the gone ones otherwise."""
        namespace = meta(dep).get("namespace") or ""
        refs = meta(dep).get("ownerReferences") or []
        states = [(ref, *self._owner(ref, namespace)) for ref in refs]
        absent = {ref.get("uid") for ref, state, _ in states if state == "absent"}
        solid = [(ref, owner) for ref, state, owner in states if state != "absent"]
        if not solid:
            self._delete_dependent(res, dep)
            return
        waiting = [owner for _, owner in solid if owner is not None and deleting(owner)
                   and FOREGROUND_FINALIZER in (meta(owner).get("finalizers") or [])]
        if len(waiting) == len(solid):
            self._delete_dependent(res, dep)
        elif absent:
            self._without_owner(res, dep, absent)
