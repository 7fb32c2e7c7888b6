"""RBAC's escalation prevention and impersonation, as kube-apiserver enforces them, tried with real kubectl.

A namespace admin (a ServiceAccount bound to the built-in ``admin`` ClusterRole in its namespace only)
tries what attack H of issue 18 did: bind ``cluster-admin``, write a Role granting ``*``, relabel its
namespace, impersonate someone stronger. Each refusal carries kube-apiserver's own words
(pkg/registry/rbac and the impersonation filter of k8s.io/apiserver).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from gitops_tui.sandbox.serving.server import ClusterServer
from tests.sandbox.conftest import KubectlRunner, raw_request

NS = "team"
OTHER = "other"
GROUPS = '["system:serviceaccounts" "system:serviceaccounts:team" "system:authenticated"]'
MEMBER = "system:serviceaccount:team:member"


@pytest.fixture(scope="module")
def member(kubectl: KubectlRunner) -> Callable[..., Any]:
    """kubectl as ServiceAccount team/member, bound to ``admin`` in namespace team only."""
    for ns in (NS, OTHER):
        kubectl("create", "namespace", ns)
    kubectl("create", "serviceaccount", "member", "-n", NS)
    kubectl("create", "rolebinding", "member-admin", "--clusterrole=admin", f"--serviceaccount={NS}:member", "-n", NS)
    token = kubectl("create", "token", "member", "-n", NS).stdout.strip()

    def run(*args: str, input: str | None = None) -> Any:
        return kubectl(*args, f"--token={token}", input=input, check=False)

    run.token = token  # type: ignore[attr-defined]
    return run


def _yaml_role(name: str, rules: str, kind: str = "Role") -> str:
    return (f"apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: {name}\n"
            + (f"  namespace: {NS}\n" if kind == "Role" else "") + f"rules:\n{rules}")


def test_a_namespace_admin_cannot_bind_cluster_admin(member: Callable[..., Any], kubectl: KubectlRunner) -> None:
    refused = member("create", "rolebinding", "grab", "--clusterrole=cluster-admin",
                     f"--serviceaccount={NS}:member", "-n", NS)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        'error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io "grab" is forbidden: '
        f'user "{MEMBER}" (groups={GROUPS}) is attempting to grant RBAC permissions not currently held:\n'
        '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}')
    assert kubectl("get", "rolebinding", "grab", "-n", NS, check=False).returncode == 1, "nothing was written"
    # What the member holds may be passed on: edit is within admin.
    assert member("create", "rolebinding", "helpers", "--clusterrole=edit", f"--serviceaccount={NS}:member",
                  "-n", NS).returncode == 0


def test_a_namespace_admin_cannot_write_a_role_granting_everything(member: Callable[..., Any],
                                                                   kubectl: KubectlRunner) -> None:
    role = _yaml_role("all", "- apiGroups: ['*']\n  resources: ['*']\n  verbs: ['*']\n")
    refused = member("create", "-f", "-", input=role)
    assert refused.returncode == 1
    assert ('roles.rbac.authorization.k8s.io "all" is forbidden: user "system:serviceaccount:team:member" '
            f'(groups={GROUPS}) is attempting to grant RBAC permissions not currently held:\n'
            '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}') in refused.stderr
    assert kubectl("get", "role", "all", "-n", NS, check=False).returncode == 1
    # The missing verbs of one resource are listed together, resources sorted (CompactRules, then sorted).
    quotas = _yaml_role("quotas", "- apiGroups: ['']\n  resources: [resourcequotas, configmaps]\n"
                                  "  verbs: [get, create, delete]\n")
    refused = member("apply", "--server-side", "-f", "-", input=quotas)
    assert refused.returncode == 1
    assert refused.stderr.rstrip().endswith('{APIGroups:[""], Resources:["resourcequotas"], Verbs:["create" "delete"]}')
    # Rules the member holds are fine, and so is an update that keeps to them.
    fine = _yaml_role("reader", "- apiGroups: ['']\n  resources: [configmaps]\n  verbs: [get, list]\n")
    assert member("apply", "--server-side", "-f", "-", input=fine).returncode == 0
    more = _yaml_role("reader", "- apiGroups: ['']\n  resources: [configmaps]\n  verbs: [get, list, watch]\n")
    assert member("apply", "--server-side", "-f", "-", input=more).returncode == 0
    worse = _yaml_role("reader", "- apiGroups: ['']\n  resources: [nodes]\n  verbs: [get]\n")
    refused = member("apply", "--server-side", "-f", "-", input=worse)
    assert refused.returncode == 1 and '{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}' in refused.stderr


def test_bind_and_escalate_verbs_allow_what_the_checks_refuse(member: Callable[..., Any],
                                                              kubectl: KubectlRunner) -> None:
    kubectl("create", "role", "may-bind", "--verb=bind", "--resource=clusterroles.rbac.authorization.k8s.io",
            "--resource-name=view", "-n", NS)
    kubectl("create", "rolebinding", "may-bind", "--role=may-bind", f"--serviceaccount={NS}:member", "-n", NS)
    # bind on "view" in team: a binding to view in team passes without any check of view's rules ...
    assert member("create", "rolebinding", "viewers", "--clusterrole=view", "--group=viewers",
                  "-n", NS).returncode == 0
    # ... but not in another namespace, where the member holds nothing.
    other = member("create", "rolebinding", "viewers", "--clusterrole=view", "--group=viewers", "-n", OTHER)
    assert other.returncode == 1 and 'cannot create resource "rolebindings"' in other.stderr
    kubectl("create", "role", "may-escalate", "--verb=escalate", "--resource=roles.rbac.authorization.k8s.io",
            "-n", NS)
    kubectl("create", "rolebinding", "may-escalate", "--role=may-escalate", f"--serviceaccount={NS}:member", "-n", NS)
    assert member("create", "-f", "-", input=_yaml_role(
        "nodes", "- apiGroups: ['']\n  resources: [nodes]\n  verbs: [get]\n")).returncode == 0
    # A binding to a role that does not exist: kube-apiserver answers 404 (GetRoleReferenceRules).
    missing = member("create", "rolebinding", "ghost", "--role=ghost", f"--serviceaccount={NS}:member", "-n", NS)
    assert missing.returncode == 1 and 'roles.rbac.authorization.k8s.io "ghost" not found' in missing.stderr


def test_a_namespace_admin_cannot_relabel_its_namespace(member: Callable[..., Any], kubectl: KubectlRunner) -> None:
    kubectl("label", "namespace", NS, "gitops-tui.io/project=team")
    refused = member("label", "namespace", NS, "gitops-tui.io/project-", "--overwrite")
    assert refused.returncode == 1
    assert ('namespaces "team" is forbidden: User "system:serviceaccount:team:member" cannot patch resource '
            '"namespaces" in API group "" in the namespace "team"') in refused.stderr
    labels = json.loads(kubectl("get", "namespace", NS, "-o", "json").stdout)["metadata"]["labels"]
    assert labels["gitops-tui.io/project"] == "team"


def test_a_cluster_role_with_an_aggregation_rule_needs_cluster_admin(kubectl: KubectlRunner) -> None:
    kubectl("create", "serviceaccount", "roles", "-n", NS)
    kubectl("create", "clusterrole", "role-writer", "--verb=create,get,update",
            "--resource=clusterroles.rbac.authorization.k8s.io")
    kubectl("create", "clusterrolebinding", "role-writer", "--clusterrole=role-writer",
            f"--serviceaccount={NS}:roles")
    token = kubectl("create", "token", "roles", "-n", NS).stdout.strip()
    body = ("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: gather\n"
            "aggregationRule:\n  clusterRoleSelectors:\n  - matchLabels: {a: b}\nrules: []\n")
    refused = kubectl("create", "-f", "-", f"--token={token}", input=body, check=False)
    assert refused.returncode == 1
    assert ('clusterroles.rbac.authorization.k8s.io "gather" is forbidden: must have cluster-admin privileges to '
            'use the aggregationRule') in refused.stderr


def test_impersonation_needs_the_impersonate_verb(member: Callable[..., Any], kubectl: KubectlRunner,
                                                  sandbox_server: ClusterServer) -> None:
    refused = member("get", "pods", "-n", NS, "--as=system:admin")
    assert refused.returncode == 1
    assert ('Error from server (Forbidden): users "system:admin" is forbidden: User "system:serviceaccount:team:member"'
            ' cannot impersonate resource "users" in API group "" at the cluster scope') in refused.stderr
    masters = member("get", "pods", "-n", NS, "--as=someone", "--as-group=system:masters")
    assert masters.returncode == 1 and 'cannot impersonate resource "users"' in masters.stderr
    kubectl("create", "serviceaccount", "deployer", "-n", NS)
    kubectl("create", "role", "as-deployer", "--verb=impersonate", "--resource=serviceaccounts",
            "--resource-name=deployer", "-n", NS)
    kubectl("create", "rolebinding", "as-deployer", "--role=as-deployer", f"--serviceaccount={NS}:member", "-n", NS)
    who = json.loads(member("auth", "whoami", "-o", "json", "--as=system:serviceaccount:team:deployer").stdout)
    assert who["status"]["userInfo"] == {
        "username": "system:serviceaccount:team:deployer",
        "groups": ["system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"]}
    # The request is then authorized as the deployer, which holds nothing.
    as_deployer = member("get", "configmaps", "-n", NS, "--as=system:serviceaccount:team:deployer")
    assert as_deployer.returncode == 1
    assert ('configmaps is forbidden: User "system:serviceaccount:team:deployer" cannot list resource "configmaps" '
            'in API group "" in the namespace "team"') in as_deployer.stderr
    elsewhere = member("get", "configmaps", "-n", NS, "--as=system:serviceaccount:other:deployer")
    assert elsewhere.returncode == 1
    assert ('serviceaccounts "deployer" is forbidden: User "system:serviceaccount:team:member" cannot impersonate '
            'resource "serviceaccounts" in API group "" in the namespace "other"') in elsewhere.stderr
    groups = member("get", "configmaps", "-n", NS, "--as=system:serviceaccount:team:deployer",
                    "--as-group=system:masters")
    assert groups.returncode == 1
    assert 'groups "system:masters" is forbidden' in groups.stderr and 'cannot impersonate resource "groups"' \
        in groups.stderr
    # A group without a user is the server's 500, in plain text, as the filter writes it.
    bare = raw_request(sandbox_server, "GET", "/api/v1/namespaces", headers={"Impersonate-Group": "system:masters"})
    assert bare.status == 500 and bare.headers["Content-Type"].startswith("text/plain")
    assert bare.body.decode() == ('Internal Server Error: "/api/v1/namespaces": requested [{Group  system:masters'
                                  '    }] without impersonating a user\n')


def test_the_cluster_admin_impersonates_anyone(kubectl: KubectlRunner, member: Callable[..., Any]) -> None:
    who = json.loads(kubectl("auth", "whoami", "-o", "json", "--as=jane", "--as-group=devs",
                             "--as-uid=42").stdout)["status"]["userInfo"]
    assert who == {"username": "jane", "uid": "42", "groups": ["devs", "system:authenticated"]}
    assert kubectl("auth", "can-i", "list", "secrets", "-n", NS, "--as=system:serviceaccount:team:member"
                   ).stdout.strip() == "yes"
    assert kubectl("auth", "can-i", "list", "secrets", "-n", OTHER, "--as=system:serviceaccount:team:member",
                   check=False).stdout.strip() == "no"
    # The escalation check sees the impersonated user, not the impersonator.
    refused = kubectl("create", "rolebinding", "grab", "--clusterrole=cluster-admin", "--group=x", "-n", NS,
                      f"--as={MEMBER}", check=False)
    assert refused.returncode == 1 and "is attempting to grant RBAC permissions not currently held" in refused.stderr


def test_a_server_side_apply_that_creates_needs_create(kubectl: KubectlRunner) -> None:
    """kube-apiserver authorizes an apply that creates its object as a create of that name too (patch.go)."""
    kubectl("create", "serviceaccount", "patcher", "-n", NS)
    kubectl("create", "role", "patch-only", "--verb=get,patch", "--resource=configmaps", "-n", NS)
    kubectl("create", "rolebinding", "patch-only", "--role=patch-only", f"--serviceaccount={NS}:patcher", "-n", NS)
    token = kubectl("create", "token", "patcher", "-n", NS).stdout.strip()
    config = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fresh\n  namespace: {NS}\ndata: {{a: b}}\n"
    refused = kubectl("apply", "--server-side", "-f", "-", f"--token={token}", input=config, check=False)
    assert refused.returncode == 1
    assert 'configmaps "fresh" is forbidden: ' in refused.stderr
    assert kubectl("get", "configmap", "fresh", "-n", NS, check=False).returncode == 1
    kubectl("apply", "--server-side", "-f", "-", input=config)  # made by the admin: now a patch is enough
    changed = config.replace("{a: b}", "{a: c}")
    assert kubectl("apply", "--server-side", "-f", "-", f"--token={token}", input=changed, check=False).returncode == 0
