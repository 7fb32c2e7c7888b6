"""What every source action shares: its error, reading one source, merge patches of a source and its Project.

Kept apart from sources.py, freeze.py and pin.py so that each imports it and none imports another for these.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import ActionError
from gitops_tui.actions.resources import project_namespace
from gitops_tui.api import names
from gitops_tui.api.paths import management_path
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.status import load_source, object_path


class SourceActionError(ActionError):
    """A source action could not be done; the message is one clear sentence for the operator."""


def precise_now() -> str:
    """An RFC 3339 time with microseconds (so two requests in one second differ)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def project_source(api: ApiClient, project: str, name: str) -> GitOpsSource:
    """The source ``name`` of ``project``; SourceActionError when it does not exist."""
    namespace = project_namespace(api, project)
    source = load_source(api, namespace, name)
    if source.kustomization is None:
        raise SourceActionError(f"source {name!r} does not exist in project {project!r}")
    return source


def patch_source(api: ApiClient, obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge-patch one of a source's objects; SourceActionError in one sentence when it is gone or refused."""
    meta = obj["metadata"]
    path = object_path(obj["kind"], meta["namespace"], meta["name"])
    try:
        return json_request(api, "PATCH", path, patch, content_type="application/merge-patch+json")
    except ApiException as exc:
        if exc.status == 404:
            raise SourceActionError(f"source {meta['name']!r} no longer exists") from None
        raise SourceActionError(f"the management cluster refused the change (HTTP {exc.status})") from None


def patch_project(api: ApiClient, project: str, patch: dict[str, Any]) -> dict[str, Any]:
    """Merge-patch the Project (the operator's records); ActionError in one sentence when refused."""
    try:
        return json_request(api, "PATCH", management_path(names.KIND_PROJECT, None, project), patch,
                            content_type="application/merge-patch+json")
    except ApiException as exc:
        raise ActionError(f"the management cluster refused the change to project {project} (HTTP {exc.status})") from None
