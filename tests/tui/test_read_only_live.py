"""A console whose identity may only read the management cluster works, says so, and runs no reconciler.

It needs the sandbox to serve RBAC, ServiceAccount tokens (TokenRequest) and SelfSubjectAccessReview (the
"credentials" work); until then it skips with the reason.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.backends.live import LiveBackend
from gitops_tui.kube.client import api_client_from_kubeconfig, json_request
from gitops_tui.kube.write_access import source_write_access
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.tui.screens.main import MainScreen
from tests.tui.awaiting import app_wait_until
from tests.tui.screen_text import screen_text

pytestmark = pytest.mark.timeout(120)
RBAC = "/apis/rbac.authorization.k8s.io/v1"


def _viewer_kubeconfig(sandbox: Any, tmp_path: Path, name: str) -> Path:
    """A ServiceAccount allowed get/list/watch on everything and nothing else; its token in a kubeconfig."""
    from gitops_tui.sandbox.kubeconfig import KubeconfigEntry, write_kubeconfig

    api = sandbox.api_client()
    groups = {g["name"] for g in json_request(api, "GET", "/apis").get("groups") or []}
    if "authorization.k8s.io" not in groups:
        pytest.skip("the sandbox does not serve authorization.k8s.io (SelfSubjectAccessReview) yet")
    namespace = names.SYSTEM_NAMESPACE
    json_request(api, "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts",
                 {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})
    json_request(api, "POST", f"{RBAC}/clusterroles", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]})
    json_request(api, "POST", f"{RBAC}/clusterrolebindings", {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]})
    try:
        answer = json_request(api, "POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
                              {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                               "spec": {"expirationSeconds": 3600}})
    except ApiException as exc:
        if exc.status == 404:
            pytest.skip("the sandbox does not issue ServiceAccount tokens (TokenRequest) yet")
        raise
    token = answer["status"]["token"]
    return write_kubeconfig(tmp_path / "viewer.kubeconfig",
                            [KubeconfigEntry("management", sandbox.server_url("management"), token)],
                            sandbox.ca_cert, "management")


def _cleanup(sandbox: Any, name: str) -> None:
    api = sandbox.api_client()
    for path in (f"{RBAC}/clusterrolebindings/{name}", f"{RBAC}/clusterroles/{name}",
                 f"/api/v1/namespaces/{names.SYSTEM_NAMESPACE}/serviceaccounts/{name}"):
        try:
            json_request(api, "DELETE", path)
        except ApiException:
            pass


async def test_a_read_only_identity_gets_a_working_console_that_says_so(sandbox: Any, tmp_path: Path) -> None:
    name = f"console-viewer-{uuid.uuid4().hex[:5]}"
    try:
        kubeconfig = _viewer_kubeconfig(sandbox, tmp_path, name)
        viewer = api_client_from_kubeconfig(kubeconfig, "management")
        assert source_write_access(viewer).allowed is False
        assert source_write_access(sandbox.api_client()).allowed is True, "the admin may write"
        backend = LiveBackend(kubeconfig, "management", "sandbox/management (viewer)")
        app = GitOpsApp(backend, live=True, remember_theme=False)
        try:
            async with app.run_test(size=(120, 36)) as pilot:
                screen = app.screen
                assert isinstance(screen, MainScreen)
                await app_wait_until(pilot, lambda: "[no write access]" in screen_text(app).splitlines()[0],
                                     timeout=45, message="the header to say the console cannot write")
                await pilot.press("1")
                await app_wait_until(pilot, lambda: backend.synced(), message="the lists, read with the viewer token")
                footer = screen_text(app).splitlines()[-1]
                assert "Suspend" not in footer and "New" not in footer and "Filter" in footer
                assert backend.reconciler is None or not backend.reconciler.is_leader()
        finally:
            app.shutdown_backend()
    finally:
        _cleanup(sandbox, name)
