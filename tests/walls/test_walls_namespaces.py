"""A project owns its namespace or gets none: system namespaces, other projects' and foreign ones are refused.

Reproductions of issue 8 item 1 against the real sandbox: `create project p --namespace kube-system` then
`delete project p --yes` used to delete kube-system on management and on the placed cluster, and
`--namespace demo` let p's deletion remove demo's sources.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.actions import ActionError, resources
from gitops_tui.api import builders, names
from gitops_tui.cli import main
from gitops_tui.kube.client import api_client_from_kubeconfig, json_request
from gitops_tui.reconciler.context import management_path
from gitops_tui.reconciler.manager import Reconciler
from tests.reconciler.test_management import reconciler  # noqa: F401 - the fixture: a running, leading Reconciler
from tests.waiting import wait_until
from tests.world import get_or_none as get


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def namespace_alive(api: Any, namespace: str) -> bool:
    """Whether a namespace exists and is not being deleted."""
    found = get(api, f"/api/v1/namespaces/{namespace}")
    return found is not None and not found["metadata"].get("deletionTimestamp")


@pytest.fixture
def dev(sandbox: Any) -> Any:
    """The dev workload cluster's ApiClient."""
    return api_client_from_kubeconfig(sandbox.kubeconfig, "dev")


def kubectl_project(sandbox: Any, name: str, namespace: str, clusters: list[str]) -> None:
    """Create a Project with kubectl, bypassing the CLI's checks (as a project member with write access could)."""
    import yaml

    body = builders.new_project(name, clusters, namespace=namespace)
    sandbox.kubectl("management", "apply", "-f", "-", input=yaml.safe_dump(body))


def project_ready(mgmt: Any, name: str) -> dict[str, Any]:
    """The Ready condition of a Project ({} until written)."""
    raw = get(mgmt, management_path(names.KIND_PROJECT, None, name)) or {}
    return next((c for c in (raw.get("status") or {}).get("conditions") or [] if c["type"] == "Ready"), {})


def delete_and_wait(mgmt: Any, name: str) -> None:
    """Delete a project and wait until the reconciler released it."""
    resources.delete_project(mgmt, name)
    wait_until(lambda: get(mgmt, management_path(names.KIND_PROJECT, None, name)) is None, timeout=30,
               message=f"project {name} to be finalized")


@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "default", "gitops-tui-system",
                                       "kube-federation-system"])
def test_cli_refuses_a_system_namespace(sandbox: Any, mgmt: Any, capsys: pytest.CaptureFixture[str],
                                        namespace: str) -> None:
    name = unique("sys")
    code, _, err = run(capsys, "create", "project", name, "--namespace", namespace, "--clusters", "dev")
    assert code != 0
    assert f"namespace {namespace} is a system namespace" in err
    assert get(mgmt, management_path(names.KIND_PROJECT, None, name)) is None, "nothing is created"
    labels = (get(mgmt, f"/api/v1/namespaces/{namespace}") or {}).get("metadata", {}).get("labels") or {}
    assert names.LABEL_PROJECT not in labels, "the system namespace is not relabelled"


def test_cli_refuses_another_projects_namespace_and_a_foreign_one(sandbox: Any, mgmt: Any,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    owner = unique("owner")
    assert run(capsys, "create", "project", owner, "--clusters", "dev")[0] == 0
    code, _, err = run(capsys, "create", "project", unique("thief"), "--namespace", owner, "--clusters", "dev")
    assert code != 0 and f"namespace {owner} belongs to project {owner}" in err

    foreign = unique("foreign")
    json_request(mgmt, "POST", "/api/v1/namespaces", {"metadata": {"name": foreign}})
    name = unique("late")
    code, _, err = run(capsys, "create", "project", name, "--namespace", foreign, "--clusters", "dev")
    assert code != 0 and f"namespace {foreign} already exists and does not belong to project {name}" in err
    assert names.LABEL_PROJECT not in (get(mgmt, f"/api/v1/namespaces/{foreign}")["metadata"].get("labels") or {})
    with pytest.raises(ActionError, match="belongs to project"):
        resources.create_project(mgmt, unique("form"), ["dev"], namespace=owner)  # the console's path


def test_kube_system_survives_a_project_created_with_kubectl_and_deleted(
        reconciler: Reconciler, sandbox: Any, mgmt: Any, dev: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """`create project p --namespace kube-system` then `delete project p --yes` (kubectl bypasses the CLI check)."""
    name = unique("p")
    kubectl_project(sandbox, name, "kube-system", ["dev"])
    wait_until(lambda: project_ready(mgmt, name).get("reason") == "NamespaceRefused", timeout=20,
               message="the project to be refused")
    ready = project_ready(mgmt, name)
    assert ready["status"] == "False" and "kube-system is a system namespace" in ready["message"]
    assert names.LABEL_PROJECT not in (get(dev, "/api/v1/namespaces/kube-system")["metadata"].get("labels") or {})
    assert resources.project_contents(mgmt, name)["sources"] == [], "nothing of kube-system is announced as pruned"
    code, _, err = run(capsys, "delete", "project", name, "--yes")
    assert code == 0, err
    wait_until(lambda: get(mgmt, management_path(names.KIND_PROJECT, None, name)) is None, timeout=30,
               message="the project to be finalized")
    assert namespace_alive(mgmt, "kube-system") and namespace_alive(dev, "kube-system")


def test_a_project_claiming_another_projects_namespace_neither_takes_nor_deletes_it(
        reconciler: Reconciler, sandbox: Any, mgmt: Any, dev: Any) -> None:
    owner = unique("zz-owner")  # sorted after the thief: the owner must win by its label, not by list order
    resources.create_project(mgmt, owner, ["dev"])
    resources.create_secret(mgmt, owner, "owned", {"token": b"owner-secret"})
    wait_until(lambda: namespace_alive(dev, owner), timeout=20, message="the owner's namespace on dev")
    thief = unique("aa-thief")
    kubectl_project(sandbox, thief, owner, ["dev"])
    wait_until(lambda: project_ready(mgmt, thief).get("reason") == "NamespaceRefused", timeout=20,
               message="the second claim to be refused")
    assert f"belongs to project {owner}" in project_ready(mgmt, thief)["message"]
    with pytest.raises(ActionError, match=f"belongs to project {owner}"):
        resources.create_secret(mgmt, thief, "planted", {"token": b"x"})
    with pytest.raises(ActionError, match=f"project {thief} cannot be used"):
        from gitops_tui.actions import sources

        sources.create_source(mgmt, thief, "planted", "https://example.com/x.git")
    from gitops_tui.reconciler.context import ReconcileContext
    from gitops_tui.reconciler.projects import project_for_namespace

    ctx = ReconcileContext(api_client=mgmt, dynamic=None, clusters=None, recorder=None, git=None,  # type: ignore[arg-type]
                           data_dir=Path("."))
    assert project_for_namespace(ctx, owner)["metadata"]["name"] == owner

    delete_and_wait(mgmt, thief)
    assert namespace_alive(mgmt, owner) and namespace_alive(dev, owner)
    fs = get(mgmt, management_path(names.KIND_FEDERATED_SECRET, owner, "owned"))
    assert fs is not None and not fs["metadata"].get("deletionTimestamp"), "the owner's secret is kept"
    delete_and_wait(mgmt, owner)
    wait_until(lambda: not namespace_alive(dev, owner), timeout=20, message="the owner's own namespace to go")


def test_a_foreign_namespace_on_a_workload_cluster_is_refused_and_kept(
        reconciler: Reconciler, sandbox: Any, mgmt: Any, dev: Any) -> None:
    name = unique("wl")
    json_request(dev, "POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    resources.create_project(mgmt, name, ["dev", "staging"])

    def dev_entry() -> dict[str, Any]:
        raw = get(mgmt, management_path(names.KIND_PROJECT, None, name)) or {}
        return next((e for e in (raw.get("status") or {}).get("clusters") or [] if e["name"] == "dev"), {})

    wait_until(lambda: dev_entry().get("status") == "NamespaceRefused", timeout=20,
               message="dev's foreign namespace to be refused")
    assert "does not belong to project" in dev_entry()["message"]
    staging = api_client_from_kubeconfig(sandbox.kubeconfig, "staging")
    wait_until(lambda: namespace_alive(staging, name), timeout=20, message="the namespace on staging")
    delete_and_wait(mgmt, name)
    assert namespace_alive(dev, name), "the foreign namespace on dev is not deleted"
    wait_until(lambda: not namespace_alive(staging, name), timeout=20, message="the project's own namespace to go")


def test_the_demo_namespace_cannot_be_claimed(use_demo_sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """`create project p --namespace demo` on the seeded demo: refused, demo's sources untouched."""
    mgmt = api_client_from_kubeconfig(use_demo_sandbox.kubeconfig, "management")
    code, _, err = run(capsys, "create", "project", "p", "--namespace", "demo", "--clusters", "dev")
    assert code != 0 and "namespace demo belongs to project demo" in err
    assert get(mgmt, management_path(names.KIND_PROJECT, None, "p")) is None
    assert get(mgmt, management_path(names.KIND_FEDERATED_KUSTOMIZATION, "demo", "podinfo")) is not None
