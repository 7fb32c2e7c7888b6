"""The static backend's incident operations: pin and unpin in memory, recorded histories, previews and trees."""

from __future__ import annotations

import base64
import copy
from datetime import datetime
from typing import Any

from gitops_tui.api import alerts as al
from gitops_tui.api.holds import lifted_pin_record, record_patch
from gitops_tui.api.pin import Pin, history_of, pin_of, pin_patch
from gitops_tui.api.source import GitOpsSource
from gitops_tui.backends.static_freeze import merge_patch
from gitops_tui.backends.static_lookup import project_namespace, source_object
from gitops_tui.views.alert_form import AlertRequest
from gitops_tui.views.pin_view import PinChoice, PinRequest, pin_choices
from gitops_tui.views.state import Change, ManagementState


class StaticIncidentOperations:
    """Mixin of StaticOperations (``extras``: ``pinPreviews`` and ``trees`` by ``namespace/name``)."""

    state: ManagementState
    extras: dict[str, Any]
    actor: str
    calls: list[tuple[str, tuple[Any, ...]]]
    _now: datetime

    def _key(self, project: str, name: str) -> str:
        ks = source_object(self.state, project, name)
        return f"{ks['metadata']['namespace']}/{name}"

    def pin_choices(self, project: str, name: str) -> list[PinChoice]:
        """The revisions recorded in the source's status history."""
        self.calls.append(("pin_choices", (project, name)))
        return pin_choices(history_of(GitOpsSource(None, source_object(self.state, project, name))))

    def preview_pin(self, project: str, name: str, request: PinRequest) -> str:
        """The recorded preview ('' when none)."""
        self.calls.append(("preview_pin", (project, name, request.revision)))
        return (self.extras.get("pinPreviews") or {}).get(self._key(project, name), "")

    def pin_source(self, project: str, name: str, request: PinRequest) -> str:
        """Record the pin on the in-memory kustomization."""
        self.calls.append(("pin_source", (project, name, request)))
        obj = source_object(self.state, project, name)
        pin = Pin(request.revision, tuple(request.clusters), self.actor, request.reason,
                  self._now.strftime("%Y-%m-%dT%H:%M:%SZ"), request.until_contains)
        self._record(project, name, pin.to_spec())
        obj["spec"]["template"]["spec"].update(copy.deepcopy(pin_patch(pin)["spec"]["template"]["spec"]))
        self.state.apply(Change("kustomizations", "MODIFIED", obj))
        return f"{name} {pin.describe()}"

    def _record(self, project: str, name: str, pin: dict[str, Any]) -> None:
        """The operator's pin record on the Project (as the management side writes it first)."""
        found = next((p for p in self.state.items("projects") if p["metadata"]["name"] == project), None)
        if found is not None:
            self.state.apply(Change("projects", "MODIFIED", merge_patch(found, record_patch(name, pin=pin))))

    def unpin_source(self, project: str, name: str) -> str:
        """Drop the pin from the in-memory kustomization."""
        self.calls.append(("unpin_source", (project, name)))
        obj = source_object(self.state, project, name)
        was = pin_of(obj)
        if was is None:
            raise LookupError(f"Source {name} is not pinned.")
        self._record(project, name, lifted_pin_record(was, self.actor, self._now.strftime("%Y-%m-%dT%H:%M:%SZ")))
        obj["spec"]["template"]["spec"].pop("pin", None)
        self.state.apply(Change("kustomizations", "MODIFIED", obj))
        return f"Unpinned {name} (was at {was.short}): it follows git again."

    def project_alerts(self, project: str) -> list[dict[str, Any]]:
        """The recorded alerts of the project (extras ``alerts``: {project: [items]})."""
        self.calls.append(("project_alerts", (project,)))
        return list((self.extras.get("alerts") or {}).get(project) or [])

    def create_alert(self, request: AlertRequest) -> str:
        """Write the Alert (extras ``alertObjects``), and a Secret for a typed key (extras ``alertSecrets``); refuse
        what `create alert` refuses."""
        from gitops_tui.reconciler.alert_send import address_problem

        self.calls.append(("create_alert", (request.project, request.name, request.format)))
        problem = al.check(request.name, request.format, request.url, request.events) or \
            address_problem(request.format, request.url)
        if problem:
            raise ValueError(problem)
        known = (self.extras.setdefault("alerts", {})).setdefault(request.project, [])
        if any(item.get("name") == request.name for item in known):
            raise ValueError(f"project {request.project} has an alert named {request.name} already")
        namespace = project_namespace(self.state, request.project)
        secret = request.secret
        if request.secret_value:
            secret = f"{request.name}-alert-token"
            token = base64.b64encode(request.secret_value.strip().encode()).decode()
            self.extras.setdefault("alertSecrets", []).append({
                "apiVersion": "v1", "kind": "Secret", "metadata": {"name": secret, "namespace": namespace},
                "data": {al.SECRET_TOKEN_KEY: token}})
        raw = al.new_alert(request.name, namespace, request.format, request.url, request.events, secret,
                           request.project)
        self.extras.setdefault("alertObjects", []).append(raw)
        view = al.Alert.from_raw(raw)
        known.append({"name": view.name, "format": view.format, "address": view.shown_address(),
                      "events": list(view.events), "secret": view.secret, "suspend": False})
        return f"Created alert {request.name}: {request.format} to {view.shown_address()} on {', '.join(request.events)}."

    def source_tree(self, project: str, name: str) -> str:
        """The recorded tree text ('' when none)."""
        self.calls.append(("source_tree", (project, name)))
        return (self.extras.get("trees") or {}).get(self._key(project, name), "")
