"""The reconciler's writes to the management cluster carry the field manager `gitops-tui`, never "OpenAPI-Generator"."""

from __future__ import annotations

from typing import Any

from gitops_tui.api import names
from gitops_tui.kube.client import USER_AGENT, api_client_from_kubeconfig, json_request
from gitops_tui.reconciler.context import management_path
from tests.world import World, configmap


def _managers(obj: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f.get("manager", ""), f.get("subresource", "")) for f in obj["metadata"].get("managedFields") or []}


def test_status_writes_are_managed_by_gitops_tui(world: World) -> None:
    repo = world.repo("fm", {"cm.yaml": configmap("fm")})
    world.create("fm", str(repo))
    world.reconcile("fm")
    ks = json_request(world.api, "GET", management_path(names.KIND_FEDERATED_KUSTOMIZATION, world.namespace, "fm"))
    project = json_request(world.api, "GET", management_path(names.KIND_PROJECT, None, world.project))
    for obj in (ks, project):
        managers = _managers(obj)
        assert ("gitops-tui", "status") in managers, managers
        assert not [m for m, _ in managers if m.startswith("OpenAPI-Generator")], managers


def test_clients_made_here_name_gitops_tui(world: World) -> None:
    """A write without a fieldManager through our own client: the API server names it after our User-Agent."""
    api = api_client_from_kubeconfig(world.sandbox.kubeconfig, "management")
    assert api.user_agent == USER_AGENT
    path = management_path(names.KIND_PROJECT, None, world.project)
    api.call_api("PATCH", api.configuration.host + path, body={"metadata": {"labels": {"probe": "fm"}}},
                 header_params={"Content-Type": "application/merge-patch+json", **api.default_headers,
                                "Authorization": api.configuration.auth_settings()["BearerToken"]["value"]})
    managers = _managers(json_request(api, "GET", path))
    assert ("gitops-tui", "") in managers and not [m for m, _ in managers if m.startswith("OpenAPI")], managers
