"""`create project --platform`: the project says it is a platform project everywhere it is listed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitops_tui.api import names
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.context import management_path
from tests.cli.test_cli_resources import run, unique


def test_create_platform_project_and_list_it(sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    name = unique("plat")
    code, out, err = run(capsys, "create", "project", name, "--clusters", "dev", "--platform")
    assert code == 0, err
    assert out.strip() == f"platform project {name} created (namespace {name}, clusters dev)"
    try:
        code, out, _ = run(capsys, "get", "projects", "-p", name, "-o", "json")
        assert json.loads(out)["items"][0]["platform"] is True
        code, out, _ = run(capsys, "get", "projects", "-p", name)
        header, row = out.strip().splitlines()
        assert row.split()[header.split().index("KIND")] == "platform"
        raw = json_request(sandbox.api_client("management"), "GET", management_path(names.KIND_PROJECT, None, name))
        assert raw["spec"]["platform"] is True
    finally:
        api = sandbox.api_client("management")
        json_request(api, "PATCH", management_path(names.KIND_PROJECT, None, name), {"metadata": {"finalizers": None}},
                     content_type="application/merge-patch+json")
        json_request(api, "DELETE", management_path(names.KIND_PROJECT, None, name))


def test_platform_project_refused_to_an_identity_that_cannot_create_projects(sandbox: Any, tmp_path: Any) -> None:
    from gitops_tui.actions import ActionError
    from gitops_tui.actions.resources import create_project
    from gitops_tui.kube.client import api_client_from_kubeconfig
    from tests.tui.test_read_only_live import _cleanup, _viewer_kubeconfig

    identity = unique("platform-viewer")
    name = unique("plat")
    try:
        viewer = api_client_from_kubeconfig(_viewer_kubeconfig(sandbox, tmp_path, identity), "management")
        with pytest.raises(ActionError, match="only someone who can create Projects on the management cluster"):
            create_project(viewer, name, ["dev"], platform=True)
        listed = json_request(sandbox.api_client("management"), "GET", management_path(names.KIND_PROJECT))
        assert name not in [p["metadata"]["name"] for p in listed["items"]]
    finally:
        _cleanup(sandbox, identity)


def test_a_project_names_the_service_account_it_applies_as(sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """`--service-account` sets spec.serviceAccountName; `get projects -o json` and describe say who applies."""
    from gitops_tui.views.details import describe_object

    name, plain = unique("plat"), unique("tenant")
    api = sandbox.api_client("management")
    try:
        code, out, err = run(capsys, "create", "project", name, "--clusters", "dev", "--platform",
                             "--service-account", "platform-applier", "-o", "json")
        assert code == 0, err
        assert json.loads(out)["serviceAccountName"] == "platform-applier"
        code, out, err = run(capsys, "create", "project", plain, "--clusters", "dev")
        assert code == 0, err
        code, out, _ = run(capsys, "get", "projects", "-o", "json")
        items = {i["name"]: i for i in json.loads(out)["items"]}
        assert (items[name]["serviceAccountName"], items[name]["appliesAs"]) == (
            "platform-applier", f"system:serviceaccount:{name}:platform-applier")
        assert (items[plain]["serviceAccountName"], items[plain]["appliesAs"]) == (
            "", f"system:serviceaccount:{plain}:{names.DEFAULT_SERVICE_ACCOUNT}")
        raw = json_request(api, "GET", management_path(names.KIND_PROJECT, None, name))
        assert raw["spec"]["serviceAccountName"] == "platform-applier"
        assert (f"Applies as: ServiceAccount {name}/platform-applier (made by you (spec.serviceAccountName), bound to "
                "what you granted)") in describe_object(raw)
        tenant = json_request(api, "GET", management_path(names.KIND_PROJECT, None, plain))
        assert (f"Applies as: ServiceAccount {plain}/gitops-tui-tenant (made by gitops-tui, bound to admin in the "
                "namespace)") in describe_object(tenant)
        code, _, err = run(capsys, "create", "project", unique("bad"), "--clusters", "dev", "--service-account",
                           "Not_A_Name")
        assert code == 1 and "service account name 'Not_A_Name' is invalid" in err
    finally:
        for project in (name, plain):
            json_request(api, "PATCH", management_path(names.KIND_PROJECT, None, project),
                         {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json")
            json_request(api, "DELETE", management_path(names.KIND_PROJECT, None, project))
