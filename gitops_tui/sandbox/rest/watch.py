"""Watches of the sandbox server: events from a resourceVersion, bookmarks, and 410 once history is gone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from gitops_tui.sandbox.rest import table
from gitops_tui.sandbox.rest.parts import ApiParts
from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.serving.common import ApiRequest, WatchStream, parse_rv, storage_key
from gitops_tui.sandbox.serving.errors import bad_request, status_body
from gitops_tui.sandbox.serving.query import wants_table
from gitops_tui.sandbox.serving.routing import ResourceRoute
from gitops_tui.sandbox.storage.store import Expired, LogEvent, StoreClosed

_BATCH = 500
_HEARTBEAT = 1.0


class WatchOps(ApiParts):
    """The watch verb (mixed into the Api class)."""

    def watch(self, rt: ResourceType, route: ResourceRoute, req: ApiRequest) -> WatchStream:
        """Start a watch; errors in the parameters are answered before the stream starts."""
        matches = self.select(req, route, rt)
        start = parse_rv(req.query.get("resourceVersion"))
        timeout_text = req.query.get("timeoutSeconds")
        try:
            timeout = float(timeout_text) if timeout_text else None
        except ValueError:
            raise bad_request(f"invalid timeoutSeconds {timeout_text!r}") from None
        options: dict[str, Any] = {
            "bookmarks": req.flag("allowWatchBookmarks"),
            "initial": req.query.get("sendInitialEvents", "").lower() == "true",
            "table": wants_table(req.header("Accept")),
            "include": req.query.get("includeObject", "Metadata"),
            "selective": bool(req.query.get("labelSelector") or req.query.get("fieldSelector")),
        }
        return WatchStream(self._watch_events(rt, route.namespace, matches, start, timeout, options))

    def _encode(
        self, rt: ResourceType, typ: str, obj: dict[str, Any], table_include: str | None
    ) -> dict[str, Any]:
        """Return a watch event; as a one-row Table when ``table_include`` names its includeObject."""
        obj = self.present(rt, obj)
        if table_include is not None:
            rv = (obj.get("metadata") or {}).get("resourceVersion", "")
            return {"type": typ, "object": table.to_table(rt, [obj], {"resourceVersion": rv}, table_include)}
        return {"type": typ, "object": obj}

    @staticmethod
    def _bookmark(rt: ResourceType, revision: int, initial_end: bool = False) -> dict[str, Any]:
        metadata: dict[str, Any] = {"resourceVersion": str(revision)}
        if initial_end:
            metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
        return {
            "type": "BOOKMARK",
            "object": {"kind": rt.kind, "apiVersion": rt.group_version, "metadata": metadata},
        }

    def _filtered_type(
        self, rt: ResourceType, event: LogEvent, matches: Callable[[dict[str, Any]], bool], selective: bool
    ) -> str | None:
        """The event type a selective watcher sees: objects entering or leaving the selection."""
        now_matches = matches(self.present(rt, event.object))
        if not selective or event.type == "ADDED":
            return event.type if now_matches else None
        before = self.store.previous(event)
        matched_before = before is not None and matches(self.present(rt, before))
        if event.type == "DELETED":
            return "DELETED" if now_matches or matched_before else None
        if now_matches:
            return "MODIFIED" if matched_before else "ADDED"
        return "DELETED" if matched_before else None

    @staticmethod
    def _expired_event(exc: Expired) -> dict[str, Any]:
        return {"type": "ERROR", "object": status_body(410, str(exc), "Expired")}

    def _watch_events(
        self,
        rt: ResourceType,
        namespace: str | None,
        matches: Callable[[dict[str, Any]], bool],
        start: int | None,
        timeout: float | None,
        options: dict[str, Any],
    ) -> Iterator[dict[str, Any] | None]:
        group, plural = storage_key(rt)
        selective = bool(options["selective"])
        deadline = time.monotonic() + timeout if timeout else None
        include = options["include"] if options["include"] in ("None", "Object") else "Metadata"
        as_table = include if options["table"] else None
        try:
            if not start or options["initial"]:
                with self.store.lock:
                    items, position = self.store.list(group, plural, namespace)
                for obj in items:
                    if matches(self.present(rt, obj)):
                        yield self._encode(rt, "ADDED", obj, as_table)
                if options["initial"] and options["bookmarks"]:
                    yield self._bookmark(rt, position, initial_end=True)
            else:
                position = start
                self.store.check_not_expired(position)
        except Expired as exc:
            yield self._expired_event(exc)
            return
        except StoreClosed:
            return
        last_sent = time.monotonic()
        while not self.stopping.is_set() and not self.store.closed:
            if deadline is not None and time.monotonic() >= deadline:
                return
            seen = self.store.revision
            try:
                if self.store.type_revision(group, plural) > position:
                    events = self.store.events_since(position, group, plural, namespace, _BATCH)
                else:  # nothing of this type since: no query (a heartbeat, or a wake-up by another watch's type)
                    self.store.check_not_expired(position)
                    events = []
            except Expired as exc:
                yield self._expired_event(exc)
                return
            except StoreClosed:
                return
            for event in events:
                position = event.revision
                typ = self._filtered_type(rt, event, matches, selective)
                if typ is not None:
                    yield self._encode(rt, typ, event.object, as_table)
                    last_sent = time.monotonic()
            if len(events) >= _BATCH:
                continue
            position = max(position, seen)
            if options["bookmarks"] and time.monotonic() - last_sent >= self.bookmark_interval:
                yield self._bookmark(rt, position)
                last_sent = time.monotonic()
            wait = _HEARTBEAT
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - time.monotonic()))
            if options["bookmarks"]:
                wait = min(wait, max(0.01, self.bookmark_interval - (time.monotonic() - last_sent)))
            if not self.store.wait(position, wait, group, plural):
                yield None
