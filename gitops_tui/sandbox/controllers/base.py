"""What every controller shares: the cluster's informers, the work queue, and writes that update the caches."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gitops_tui.sandbox.controllers.informer import Informer, key_of
from gitops_tui.sandbox.controllers.objects import meta, status, status_patch, utc_now
from gitops_tui.sandbox.controllers.rest import ApiException, Resource, Rest, status_of
from gitops_tui.util.workqueue import WorkQueue

#: The field managers real clusters show for these writers.
CONTROLLER_MANAGER = "kube-controller-manager"


@dataclass
class Context:
    """One cluster as the controllers see it."""

    cluster: str
    rest: Rest
    queue: WorkQueue[tuple[str, str, str]]
    informers: dict[str, Informer]
    delay: float
    stop: threading.Event = field(default_factory=threading.Event)
    ca_pem: str = ""
    version: str = ""
    #: The controllers' clock (CronJob schedules, HPA windows); tests pass one they move by hand.
    clock: Callable[[], datetime] = utc_now

    def informer(self, res: Resource) -> Informer:
        """The shared informer of a resource."""
        return self.informers[res.key]

    def cache(self, res: Resource, namespace: str, name: str) -> dict[str, Any] | None:
        """The cached object."""
        return self.informer(res).get(namespace, name)

    def items(self, res: Resource, namespace: str | None = None) -> list[dict[str, Any]]:
        """The cached objects of a resource (of one namespace when given)."""
        return self.informer(res).items(namespace)

    # -- writes that the caches see at once ------------------------------------------------------

    def create(self, res: Resource, obj: dict[str, Any], manager: str = CONTROLLER_MANAGER) -> dict[str, Any] | None:
        """Create an object; None when it exists already."""
        try:
            made = self.rest.create(res, obj, manager)
        except ApiException as exc:
            if status_of(exc) == 409:
                return None
            raise
        self._seen(res, made)
        return made

    def patch(self, res: Resource, obj: dict[str, Any], patch: dict[str, Any], manager: str = CONTROLLER_MANAGER,
              subresource: str = "") -> dict[str, Any] | None:
        """Merge-patch an object; None when it is gone."""
        namespace, name = key_of(obj)
        try:
            done = self.rest.patch(res, namespace, name, patch, manager, subresource)
        except ApiException as exc:
            if status_of(exc) == 404:
                return None
            raise
        self._seen(res, done)
        return done

    def write_status(self, res: Resource, obj: dict[str, Any], new: dict[str, Any],
                     manager: str = CONTROLLER_MANAGER) -> dict[str, Any] | None:
        """Patch the status subresource when ``new`` differs from the object's status."""
        diff = status_patch(status(obj), new)
        if diff is None:
            return obj
        return self.patch(res, obj, {"status": diff}, manager, "status")

    def delete(self, res: Resource, obj: dict[str, Any], policy: str = "Background") -> None:
        """Delete an object (this very one: a uid precondition); gone already is fine."""
        namespace, name = key_of(obj)
        try:
            gone = self.rest.delete(res, namespace, name, policy, meta(obj).get("uid", ""))
        except ApiException as exc:
            if status_of(exc) in (404, 409):
                return
            raise
        if gone and not meta(gone).get("finalizers"):
            self.informer(res).forget(gone)
        elif gone:
            self._seen(res, gone)

    def _seen(self, res: Resource, obj: dict[str, Any] | None) -> None:
        informer = self.informers.get(res.key)
        if obj and informer is not None and informer.resource.version == res.version:
            informer.upsert(obj)


class Controller:
    """A reconcile loop keyed by namespace/name; subclasses say what to watch and how to reconcile."""

    name = "controller"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def setup(self) -> None:
        """Register the informer handlers that enqueue this controller's keys."""

    def start(self) -> None:
        """Work to do once every informer has listed (the first sync)."""

    def clock_moved(self) -> None:
        """The clock jumped (tests move it by hand): look again at what waits on time."""

    def enqueue(self, namespace: str, name: str, after: float = 0.0) -> None:
        """Reconcile namespace/name ``after`` seconds from now."""
        self.ctx.queue.add((self.name, namespace, name), after)

    def enqueue_obj(self, obj: dict[str, Any] | None, after: float = 0.0) -> None:
        """Reconcile the given object."""
        if obj:
            self.enqueue(*key_of(obj), after)

    def on(self, res: Resource, handler: Any) -> None:
        """Call ``handler(kind, old, new)`` on every change of ``res``."""
        self.ctx.informer(res).handlers.append(handler)

    def enqueue_owner(self, owner_res: Resource) -> Any:
        """A handler enqueuing the controller (of kind ``owner_res``) of the changed object."""
        def handler(kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
            for obj in (old, new):
                for ref in meta(obj).get("ownerReferences") or []:
                    if ref.get("controller") and ref.get("kind") == owner_res.kind:
                        self.enqueue(meta(obj).get("namespace") or "", ref.get("name") or "")
        return handler

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Bring one object toward its desired state; return seconds until it should be looked at again."""
        raise NotImplementedError

