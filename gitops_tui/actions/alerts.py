"""Alerts of a project: create (with the Secret of its signing key), list and delete, each journaled."""

from __future__ import annotations

import base64
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import ActionError
from gitops_tui.actions.actor import current_actor, record_action
from gitops_tui.actions.resources import get_project, project_namespace
from gitops_tui.api import alerts as al
from gitops_tui.api import names
from gitops_tui.api.paths import management_path, resource_path
from gitops_tui.api.project import Project
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.alert_send import address_problem


def secret_name(alert: str) -> str:
    """The Secret ``create alert --secret-value`` makes for the alert's signing key."""
    return f"{alert}-alert-token"


def create_alert(api: ApiClient, project: str, name: str, *, format_: str, url: str, events: list[str],
                 secret: str = "", secret_value: str | None = None) -> dict[str, Any]:
    """Create an Alert in the project's namespace; with ``secret_value``, first a Secret holding it (key ``token``).

    ActionError in one sentence for a bad name, format, URL or event kind, both a secret and a value, or an alert of
    that name that exists already. The value is never returned, printed or journaled.
    """
    problem = al.check(name, format_, url, events) or address_problem(format_, url)
    if problem:
        raise ActionError(problem)
    if secret and secret_value is not None:
        raise ActionError("give --secret SECRET or --secret-value V, not both")
    if secret_value is not None and not secret_value.strip():
        raise ActionError("the secret value is empty")
    namespace = Project(get_project(api, project)).namespace
    if secret_value is not None:
        secret = secret_name(name)
        body = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": secret, "namespace": namespace, "labels": {names.LABEL_PROJECT: project}},
                "data": {al.SECRET_TOKEN_KEY: base64.b64encode(secret_value.strip().encode()).decode()}}
        try:
            json_request(api, "POST", resource_path("v1", "secrets", namespace), body)
        except ApiException as exc:
            if exc.status != 409:
                raise ActionError(f"cannot create the alert's secret {secret} (HTTP {exc.status})") from None
            json_request(api, "PUT", resource_path("v1", "secrets", namespace, secret), body)
    raw = al.new_alert(name, namespace, format_, url, events, secret, project)
    try:
        created = json_request(api, "POST", management_path(names.KIND_ALERT, namespace), raw)
    except ApiException as exc:
        if exc.status == 409:
            raise ActionError(f"project {project} has an alert named {name} already: delete it first "
                              f"(gitops-tui delete alert {name} -p {project})") from None
        raise ActionError(f"cannot create alert {name} in project {project} (HTTP {exc.status})") from None
    view = al.Alert.from_raw(created)
    record_action(api, action="alert-create", actor=current_actor(), project=project,
                  reason=f"alert {name}: {format_} to {view.shown_address()} on {', '.join(events)}",
                  objects=[f"Alert {name}"] + ([f"Secret {secret} key {al.SECRET_TOKEN_KEY}"] if secret else []))
    return created


def list_alerts(api: ApiClient, project: str | None = None) -> list[tuple[str, al.Alert, dict[str, Any]]]:
    """(project, alert, raw) of one project's alerts, or of every project's, by project then name."""
    if project:
        projects = [get_project(api, project)]
    else:
        projects = list(json_request(api, "GET", management_path(names.KIND_PROJECT)).get("items") or [])
    found = []
    for raw in sorted(projects, key=lambda p: str((p.get("metadata") or {}).get("name") or "")):
        view = Project(raw)
        items = json_request(api, "GET", management_path(names.KIND_ALERT, view.namespace)).get("items") or []
        found += [(view.name, al.Alert.from_raw(i), i)
                  for i in sorted(items, key=lambda i: str((i.get("metadata") or {}).get("name") or ""))]
    return found


def delete_alert(api: ApiClient, project: str, name: str) -> al.Alert:
    """Delete an Alert (and the Secret ``--secret-value`` made for it); ActionError when there is none."""
    namespace = project_namespace(api, project)
    path = management_path(names.KIND_ALERT, namespace, name)
    try:
        alert = al.Alert.from_raw(json_request(api, "GET", path))
        json_request(api, "DELETE", path)
    except ApiException as exc:
        if exc.status == 404:
            raise ActionError(f"project {project} has no alert named {name}") from None
        raise ActionError(f"cannot delete alert {name} (HTTP {exc.status})") from None
    if alert.secret == secret_name(name):
        try:
            json_request(api, "DELETE", resource_path("v1", "secrets", namespace, alert.secret))
        except ApiException:
            pass
    record_action(api, action="alert-delete", actor=current_actor(), project=project,
                  reason=f"alert {name} deleted", objects=[f"Alert {name}"])
    return alert


def summary(project: str, alert: al.Alert, raw: dict[str, Any]) -> dict[str, Any]:
    """An alert as `get alerts -o json` and the console show it: the address as scheme and host only."""
    return {"project": project, "name": alert.name, "namespace": alert.namespace, "format": alert.format,
            "address": alert.shown_address(), "events": list(alert.events), "secret": alert.secret,
            "suspend": alert.suspend, "created": str((raw.get("metadata") or {}).get("creationTimestamp") or "")}
