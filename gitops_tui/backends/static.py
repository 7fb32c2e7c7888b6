"""A backend from a recorded snapshot of management objects: frozen clock, no feed, in-memory writes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.backends.static_controls import StaticControlOperations
from gitops_tui.backends.static_freeze import StaticFreezeOperations
from gitops_tui.backends.static_helm import RecordedReleases
from gitops_tui.backends.static_incident import StaticIncidentOperations
from gitops_tui.backends.static_lookup import project_namespace, source_object
from gitops_tui.views import model, names
from gitops_tui.views.backend import KIND_KEYS
from gitops_tui.views.feedhealth import FeedHealth
from gitops_tui.views.forms import ProjectRequest, SecretRequest, SourceRequest
from gitops_tui.views.helm import HelmSources
from gitops_tui.views.state import Change, ManagementState

FROZEN_NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


def load_objects(path: Path) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Read a YAML file of management objects; return them by state key, plus the 'extras' document."""
    by_key: dict[str, list[dict[str, Any]]] = {k: [] for k in KIND_KEYS.values()}
    extras: dict[str, Any] = {}
    for doc in yaml.safe_load_all(path.read_text()):
        if not doc:
            continue
        if doc.get("kind") == "ConsoleFixtureExtras":
            extras = doc
            continue
        items = doc.get("items") if doc.get("kind", "").endswith("List") else [doc]
        for obj in items or []:
            key = KIND_KEYS.get(obj.get("kind", ""))
            if key:
                by_key[key].append(obj)
    return by_key, extras


class StaticOperations(StaticFreezeOperations, StaticIncidentOperations, StaticControlOperations):
    """Operations applied to the in-memory state; every call is recorded in ``calls``."""

    def __init__(self, state: ManagementState, now: datetime, extras: dict[str, Any], actor: str) -> None:
        self.state = state
        self._now = now
        self.extras = extras
        self.actor = actor
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        """(operation, arguments) of every call, secrets excluded."""

    def _stamp(self) -> str:
        return self._now.strftime("%Y-%m-%dT%H:%M:%SZ")

    def request_reconcile(self, project: str, name: str) -> str:
        """Record the reconcile request annotation."""
        self.calls.append(("request_reconcile", (project, name)))
        obj = source_object(self.state, project, name)
        obj["metadata"].setdefault("annotations", {})[names.REQUESTED_AT] = self._stamp()
        self.state.apply(Change("kustomizations", "MODIFIED", obj))
        return f"Reconcile of {name} requested."

    def preview_resume(self, project: str, name: str) -> str:
        """Return the recorded preview for the source ('' when none was recorded)."""
        self.calls.append(("preview_resume", (project, name)))
        return (self.extras.get("resumePreviews") or {}).get(f"{project_namespace(self.state, project)}/{name}", "")

    def delete_preview(self, project: str, name: str) -> dict[str, list[str]]:
        """List the inventory of each cluster of the source."""
        self.calls.append(("delete_preview", (project, name)))
        ks = source_object(self.state, project, name)
        return {
            entry.get("name", ""): [i.get("id", "") for i in entry.get("inventory") or []]
            for entry in (ks.get("status") or {}).get("clusters") or []
        }

    def delete_source(self, project: str, name: str) -> str:
        """Remove both management objects."""
        self.calls.append(("delete_source", (project, name)))
        namespace = project_namespace(self.state, project)
        for kind in ("gitrepositories", "kustomizations"):
            obj = self.state.get(kind, namespace, name)
            if obj is not None:
                self.state.apply(Change(kind, "DELETED", obj))
        return f"Deleted {name}."

    def delete_secret(self, project: str, name: str) -> str:
        """Remove the FederatedSecret."""
        self.calls.append(("delete_secret", (project, name)))
        obj = self.state.get("secrets", project_namespace(self.state, project), name)
        if obj is None:
            raise LookupError(f"Secret {name} was not found in project {project}.")
        self.state.apply(Change("secrets", "DELETED", obj))
        return f"Deleted secret {name}."

    def delete_project(self, project: str) -> str:
        """Remove the project and everything in its namespace."""
        self.calls.append(("delete_project", (project,)))
        namespace = project_namespace(self.state, project)
        for kind in ("gitrepositories", "kustomizations", "secrets"):
            for obj in [o for o in self.state.items(kind) if o["metadata"].get("namespace") == namespace]:
                self.state.apply(Change(kind, "DELETED", obj))
        found = next(p for p in self.state.items("projects") if p["metadata"]["name"] == project)
        self.state.apply(Change("projects", "DELETED", found))
        return f"Deleted project {project}."

    def create_source(self, request: SourceRequest) -> str:
        """Add a repository and a kustomization; refuse a URL the reconciler may not fetch, as the live side does."""
        from gitops_tui.reconciler.source_urls import allowed_local_roots, check_source_url, forbidden_dirs

        self.calls.append(("create_source", (request.project, request.name)))
        check_source_url(request.url, allowed_local_roots(), forbidden_dirs())
        placement = {"clusters": [{"name": c} for c in request.clusters]}
        meta = {"name": request.name, "namespace": request.namespace}
        ref = {request.ref_kind: request.ref}
        repo_spec: dict[str, Any] = {"url": request.url, "ref": ref, "interval": request.interval}
        if request.secret:
            repo_spec["secretRef"] = {"name": request.secret}
        self.state.apply(Change("gitrepositories", "ADDED", {
            "kind": "FederatedGitRepository", "metadata": dict(meta),
            "spec": {"template": {"spec": repo_spec}, "placement": placement}}))
        self.state.apply(Change("kustomizations", "ADDED", {
            "kind": "FederatedKustomization", "metadata": dict(meta),
            "spec": {"template": {"spec": {"path": request.path, "prune": True, "interval": request.interval,
                                           "sourceRef": {"kind": "GitRepository", "name": request.name}}},
                     "placement": placement}}))
        return f"Created source {request.name}."

    def create_secret(self, request: SecretRequest) -> str:
        """Add a FederatedSecret holding only placeholder values (the recorded keys matter)."""
        self.calls.append(("create_secret", (request.project, request.name, request.kind)))
        keys = {"basic": ("username", "password"), "token": ("bearerToken",), "ssh": ("identity", "known_hosts")}
        data = {k: "" for k in keys.get(request.kind, ())}
        placement = {"clusters": [{"name": c} for c in request.clusters]}
        self.state.apply(Change("secrets", "ADDED", {
            "kind": "FederatedSecret", "metadata": {"name": request.name, "namespace": request.namespace},
            "spec": {"template": {"type": "Opaque", "data": data}, "placement": placement}}))
        return f"Created secret {request.name}."

    def create_project(self, request: ProjectRequest) -> str:
        """Add a Project; refuse a namespace another project owns (as the management side does)."""
        self.calls.append(("create_project", (request.name, request.target_namespace, tuple(request.clusters))))
        owner = model.project_by_namespace(self.state).get(request.target_namespace)
        if owner is not None:
            raise ValueError(f"namespace {request.target_namespace} belongs to project {owner}")
        self.state.apply(Change("projects", "ADDED", {
            "kind": "Project", "metadata": {"name": request.name},
            "spec": {"namespace": request.target_namespace,
                     "placement": {"clusters": [{"name": c} for c in request.clusters]}}}))
        return f"Created project {request.name}."


class StaticBackend:
    """A backend over a fixed set of objects: used by snapshot tests, screenshots and the benchmark."""

    def __init__(
        self,
        objects: Mapping[str, Iterable[dict[str, Any]]],
        *,
        context: str = "sandbox/management",
        identity: str | None = "console-static",
        now: datetime = FROZEN_NOW,
        extras: dict[str, Any] | None = None,
    ) -> None:
        self.context = context
        self.identity = identity
        self._now = now
        self.state = ManagementState(dict(objects))
        self.state.clock = lambda: now
        self.health = FeedHealth(clock=lambda: now)
        """The feed's health (a test may mark a watch broken to show the banner)."""
        self.ops = StaticOperations(self.state, now, extras or {}, actor="operator")
        self.helm = HelmSources()
        """The Helm pane's providers: the recorded releases (extras ``helmReleases``) when there are some."""
        if (extras or {}).get("helmReleases"):
            self.helm.register(RecordedReleases((extras or {})["helmReleases"]))
        self.denied = ""
        """A reason write_access() gives (a read-only identity), '' when writes are allowed."""
        self.feed: Callable[[Callable[[list[Change]], None], Callable[[], bool]], None] | None = None
        """Optional feed (the benchmark streams events through it); None means no feed."""

    @classmethod
    def from_file(cls, path: Path, **kwargs: Any) -> StaticBackend:
        """Build from a YAML fixture file."""
        objects, extras = load_objects(path)
        return cls(objects, extras=extras, **kwargs)

    def now(self) -> datetime:
        """The frozen clock."""
        return self._now

    def run_feed(self, emit: Callable[[list[Change]], None], stopped: Callable[[], bool]) -> None:
        """Run the optional feed; returns at once when none is set."""
        if self.feed is not None:
            self.feed(emit, stopped)

    def run_reconciler(self, stopped: Callable[[], bool]) -> None:
        """No reconciler in a static backend."""

    def write_access(self) -> str:
        """Why this identity may not write ('' when it may): set ``denied`` to play a read-only identity."""
        return self.denied

    def close(self) -> None:
        """Nothing to stop: a static backend starts nothing."""
