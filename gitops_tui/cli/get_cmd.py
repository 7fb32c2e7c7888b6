"""`gitops-tui get projects|clusters|secrets|sources|helmreleases|events|reconcilers`: list management objects (table, JSON, YAML, --watch)."""

from __future__ import annotations

import argparse
import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client import ApiClient

from gitops_tui.api import names
from gitops_tui.api.cluster import KubeFedCluster
from gitops_tui.api.freeze import project_freeze
from gitops_tui.api.paths import resource_path
from gitops_tui.api.project import Project
from gitops_tui.api.secret import FederatedSecret
from gitops_tui.api.workload_events import SOURCE_ANNOTATION
from gitops_tui.cli.common import (
    Column,
    add_output,
    age,
    json_line,
    management_client,
    print_list,
    render_table,
    run_action,
)
from gitops_tui.cli.errors import CliError
from gitops_tui.cli.freeze_cmd import freeze_cell, freeze_summary
from gitops_tui.kube.client import json_request
from gitops_tui.kube.events import CLUSTER_ANNOTATION, REVISION_ANNOTATION
from gitops_tui.kube.watch import ResourceWatch
from gitops_tui.reconciler.context import management_path

log = logging.getLogger(__name__)


@dataclass
class Scope:
    """What a listing runs against: the client, the project filter and the namespace -> project map."""

    api: ApiClient
    project: str | None
    namespace: str | None
    projects: dict[str, str] = field(default_factory=dict)


@dataclass
class Resource:
    """One `get` resource type: how to list it, summarise one object and show it as a table.

    Modules in EXTENSION_MODULES define ``RESOURCE = Resource(...)`` (helmreleases, which
    imports this module); ``summary`` output is what ``-o json`` prints in ``items``.
    """

    name: str
    list_kind: str
    fetch: Callable[[Scope], list[dict[str, Any]]]
    summary: Callable[[dict[str, Any], Scope], dict[str, Any]]
    columns: list[Column]
    watch_paths: Callable[[Scope], list[str]] | None = None
    help: str = ""


RESOURCES: dict[str, Resource] = {}
#: Modules adding resources (each defines RESOURCE and registers it), imported once this module is complete.
EXTENSION_MODULES = ("gitops_tui.cli.get_sources", "gitops_tui.cli.get_helmreleases", "gitops_tui.cli.get_reconcilers",
                     "gitops_tui.cli.alert_cmd")


def register_resource(resource: Resource) -> None:
    """Add (or replace) a `get` resource type."""
    RESOURCES[resource.name] = resource


def _items(api: ApiClient, path: str) -> list[dict[str, Any]]:
    return list(json_request(api, "GET", path).get("items") or [])


def _project_of(ns: str, scope: Scope) -> str:
    return scope.projects.get(ns, "")


def _conditions_summary(view: Any, type_: str) -> tuple[bool | None, str]:
    cond = view.condition(type_)
    if cond is None:
        return None, ""
    return (True if cond.status == "True" else False if cond.status == "False" else None), cond.message


# -- projects --------------------------------------------------------------------------------
def _fetch_projects(scope: Scope) -> list[dict[str, Any]]:
    items = _items(scope.api, management_path(names.KIND_PROJECT))
    if scope.project:
        items = [i for i in items if Project(i).name == scope.project]
    return items


def _project_summary(raw: dict[str, Any], scope: Scope) -> dict[str, Any]:
    view = Project(raw)
    ready, message = _conditions_summary(view, names.READY)
    return {
        "name": view.name,
        "displayName": view.display_name,
        "namespace": view.namespace,
        "platform": view.platform,
        "limits": {"maxFluxChildren": view.max_flux_children},
        "serviceAccountName": view.service_account_name,
        "appliesAs": f"system:serviceaccount:{view.namespace}:{view.applier}",
        "clusters": view.placement_clusters,
        "clusterSelector": view.cluster_selector,
        "ready": ready,
        "message": message,
        "clusterStatus": [{"name": c.get("name"), "status": c.get("status") or "", "message": c.get("message") or ""}
                          for c in view.status.get("clusters") or []],
        "deleting": view.deleting,
        "created": view.creation_timestamp,
        "freeze": freeze_summary(project_freeze(raw)),
    }


# -- clusters --------------------------------------------------------------------------------
def _fetch_clusters(scope: Scope) -> list[dict[str, Any]]:
    return _items(scope.api, management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE))


def _cluster_summary(raw: dict[str, Any], scope: Scope) -> dict[str, Any]:
    view = KubeFedCluster(raw)
    return {
        "name": view.name,
        "apiEndpoint": view.api_endpoint,
        "ready": view.ready,
        "reason": view.reason,
        "message": view.message,
        "labels": view.labels,
        "created": view.creation_timestamp,
    }


# -- secrets ---------------------------------------------------------------------------------
def _fetch_secrets(scope: Scope) -> list[dict[str, Any]]:
    items = _items(scope.api, management_path(names.KIND_FEDERATED_SECRET, scope.namespace))
    return [i for i in items if (i.get("metadata") or {}).get("namespace") in scope.projects]


def _secret_summary(raw: dict[str, Any], scope: Scope) -> dict[str, Any]:
    view = FederatedSecret(raw)
    propagated, message = _conditions_summary(view, names.PROPAGATION)
    return {
        "name": view.name,
        "namespace": view.namespace,
        "project": _project_of(view.namespace, scope),
        "type": view.type,
        "keys": view.keys,
        "placement": view.placement_clusters,
        "propagated": propagated,
        "message": message,
        "clusters": [{"name": c.name, "status": c.status, "message": c.message, "lastSyncTime": c.last_sync_time}
                     for c in view.clusters],
        "deleting": view.deleting,
        "created": view.creation_timestamp,
    }


# -- events ----------------------------------------------------------------------------------
def _fetch_events(scope: Scope) -> list[dict[str, Any]]:
    from gitops_tui.cli.get_warnings import workload_warnings

    path = resource_path("v1", "events", scope.namespace or None)
    items = [e for e in _items(scope.api, path) if _is_ours(e)]
    items += workload_warnings(scope.api, scope.project, scope.namespace)
    return sorted(items, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))


def _is_ours(event: dict[str, Any]) -> bool:
    component = event.get("reportingComponent") or (event.get("source") or {}).get("component")
    return component == names.REPORTING_COMPONENT


def _event_summary(raw: dict[str, Any], scope: Scope) -> dict[str, Any]:
    meta = raw.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    involved = raw.get("involvedObject") or {}
    return {
        "namespace": meta.get("namespace", ""),
        "project": _project_of(meta.get("namespace", ""), scope),
        "type": raw.get("type", ""),
        "reason": raw.get("reason", ""),
        "object": {"kind": involved.get("kind", ""), "name": involved.get("name", ""),
                   "namespace": involved.get("namespace", "")},
        "source": annotations.get(SOURCE_ANNOTATION) or involved.get("name", ""),
        "cluster": annotations.get(CLUSTER_ANNOTATION, ""),
        "revision": annotations.get(REVISION_ANNOTATION, ""),
        "message": raw.get("message", ""),
        "count": int(raw.get("count") or 1),
        "firstTimestamp": raw.get("firstTimestamp") or "",
        "lastTimestamp": raw.get("lastTimestamp") or raw.get("eventTime") or "",
    }


def _events_watch_paths(scope: Scope) -> list[str]:
    return [resource_path("v1", "events", scope.namespace or None)]


def _builtin_resources() -> None:
    register_resource(Resource(
        "projects", "ProjectList", _fetch_projects, _project_summary,
        [("NAME", lambda r: r["name"]), ("NAMESPACE", lambda r: r["namespace"]),
         ("CLUSTERS", lambda r: r["clusters"] or ("selector" if r["clusterSelector"] is not None else [])),
         ("KIND", lambda r: "platform" if r["platform"] else "tenant"),
         ("READY", lambda r: r["ready"]), ("FROZEN", lambda r: freeze_cell(r["freeze"])),
         ("MESSAGE", lambda r: r["message"]), ("AGE", lambda r: age(r["created"]))],
        lambda s: [management_path(names.KIND_PROJECT)], "projects and their clusters"))
    register_resource(Resource(
        "clusters", "ClusterList", _fetch_clusters, _cluster_summary,
        [("NAME", lambda r: r["name"]), ("READY", lambda r: r["ready"]), ("REASON", lambda r: r["reason"]),
         ("ENDPOINT", lambda r: r["apiEndpoint"]), ("MESSAGE", lambda r: r["message"]),
         ("AGE", lambda r: age(r["created"]))],
        lambda s: [management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE)], "attached clusters"))
    register_resource(Resource(
        "secrets", "SecretList", _fetch_secrets, _secret_summary,
        [("PROJECT", lambda r: r["project"]), ("NAME", lambda r: r["name"]), ("TYPE", lambda r: r["type"]),
         ("KEYS", lambda r: r["keys"]), ("PROPAGATED", lambda r: r["propagated"]),
         ("CLUSTERS", lambda r: [c["name"] + ("" if not c["status"] else f"({c['status']})") for c in r["clusters"]]),
         ("AGE", lambda r: age(r["created"]))],
        lambda s: [management_path(names.KIND_FEDERATED_SECRET, s.namespace)], "federated secrets (keys only)"))
    register_resource(Resource(
        "events", "EventList", _fetch_events, _event_summary,
        [("LAST SEEN", lambda r: age(r["lastTimestamp"])), ("TYPE", lambda r: r["type"]),
         ("SOURCE", lambda r: r["source"]), ("CLUSTER", lambda r: r["cluster"] or "-"),
         ("REASON", lambda r: r["reason"]), ("OBJECT", lambda r: f"{r['object']['kind']}/{r['object']['name']}"),
         ("COUNT", lambda r: r["count"]), ("MESSAGE", lambda r: r["message"])],
        _events_watch_paths, "the reconciler's audit trail and the workload clusters' Warnings about the sources"))


def _load_extensions() -> None:
    """Import each extension module; each registers its RESOURCE itself, so that importing one of them first (which
    imports this module, which imports it back while it is half made) works too."""
    for module_name in EXTENSION_MODULES:
        importlib.import_module(module_name)


_builtin_resources()
_load_extensions()


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `get` verb."""
    parser = subparsers.add_parser("get", help="list projects, clusters, secrets, sources, helmreleases or events")
    parser.add_argument("resource", choices=sorted(RESOURCES), metavar="RESOURCE",
                        help="one of: " + ", ".join(sorted(RESOURCES)))
    parser.add_argument("-p", "--project", help="only this project")
    add_output(parser)
    parser.add_argument("-w", "--watch", action="store_true", help="keep printing changes until interrupted")
    parser.set_defaults(func=cmd_get)


def make_scope(api: ApiClient, project: str | None) -> Scope:
    """Build the Scope: namespace -> project map and, with a project, its namespace."""
    projects = {Project(p).namespace: Project(p).name for p in _items(api, management_path(names.KIND_PROJECT))}
    namespace = None
    if project:
        matches = [ns for ns, name in projects.items() if name == project]
        if not matches:
            raise CliError(f"project {project!r} does not exist")
        namespace = matches[0]
    return Scope(api=api, project=project, namespace=namespace, projects=projects)


def list_summaries(resource: Resource, scope: Scope) -> list[dict[str, Any]]:
    """Return the summaries of every object of ``resource`` in ``scope``."""
    return [resource.summary(raw, scope) for raw in resource.fetch(scope)]


def cmd_get(args: argparse.Namespace) -> int:
    """List one resource type; with --watch, keep printing as things change."""
    resource = RESOURCES[args.resource]
    api = management_client(args)
    scope = run_action(make_scope, api, args.project)
    rows = run_action(list_summaries, resource, scope)
    if not args.watch:
        print_list(resource.list_kind, rows, resource.columns, args.output,
                   empty=f"no {resource.name} found" + (f" in project {args.project}" if args.project else ""))
        return 0
    return _watch(resource, scope, rows, args.output)


def _watch(resource: Resource, scope: Scope, rows: list[dict[str, Any]], output: str) -> int:
    """Print the current list, then every change, until Ctrl-C."""
    if output == "table":
        print(render_table(rows, resource.columns), flush=True)
    else:
        for row in rows:
            json_line({"type": "ADDED", "object": row})
    if resource.watch_paths is None:
        raise CliError(f"{resource.name} cannot be watched")
    changed = threading.Event()
    watches = [ResourceWatch(scope.api, path, lambda *_: changed.set(), name=path) for path in resource.watch_paths(scope)]
    known = {_row_key(r): r for r in rows}
    for watch in watches:
        watch.start()
    try:
        while True:
            changed.wait()
            changed.clear()
            try:
                fresh = {_row_key(r): r for r in list_summaries(resource, scope)}
            except Exception as exc:  # noqa: BLE001 - keep watching through hiccups
                log.debug("relist failed: %s", type(exc).__name__)
                continue
            for key, row in fresh.items():
                if known.get(key) != row:
                    _print_change("ADDED" if key not in known else "MODIFIED", row, resource, output)
            for key, row in known.items():
                if key not in fresh:
                    _print_change("DELETED", row, resource, output)
            known = fresh
    finally:
        for watch in watches:
            watch.stop(timeout=1.0)


def _row_key(row: dict[str, Any]) -> tuple[str, ...]:
    raw_obj = row.get("object")
    obj = raw_obj if isinstance(raw_obj, dict) else {}
    return (str(row.get("namespace", "")), str(row.get("name", "")), str(obj.get("name", "")),
            str(row.get("reason", "")), str(row.get("firstTimestamp", "")), str(row.get("cluster", "")))


def _print_change(kind: str, row: dict[str, Any], resource: Resource, output: str) -> None:
    if output == "table":
        line = render_table([row], resource.columns, header=False)
        print(("(deleted) " if kind == "DELETED" else "") + line, flush=True)
    else:
        json_line({"type": kind, "object": row})
