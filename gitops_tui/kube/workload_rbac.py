"""The rules the reconciler's own ServiceAccount needs on a workload cluster, and not one more (docs/security.md).

Everything a project's repository asks for is written as the project's ServiceAccount (impersonated), so the
reconciler itself only reads, keeps the projects' namespaces and identities, and installs Flux's Helm kinds.
"""

from __future__ import annotations

from typing import Any

from gitops_tui.api import names

RBAC = "rbac.authorization.k8s.io"
#: What ``edit`` may do with Flux's Helm kinds (the verbs of the role aggregated into ``admin`` and ``edit``).
HELM_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]


def workload_rules(service_accounts: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The reconciler's ClusterRole rules on a workload cluster; ``service_accounts`` adds the names of operators'
    accounts (Projects' spec.serviceAccountName) it may impersonate besides the default one."""
    accounts = sorted({names.DEFAULT_SERVICE_ACCOUNT, *service_accounts})
    return [
        # Drift watches (label-selected, every namespace), health checks, ownership checks, Helm's storage.
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
        # Project namespaces: made, and deleted with their project (never relabelled).
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["create", "delete"]},
        # Each project's ServiceAccount and its RoleBinding, by server-side apply (which creates them).
        {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["create", "patch"]},
        {"apiGroups": [RBAC], "resources": ["rolebindings"], "verbs": ["create", "patch"]},
        # ... to admin only: bind, rather than holding admin's rights itself.
        {"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["bind"],
         "resourceNames": [names.TENANT_CLUSTER_ROLE]},
        # Tenants' objects are applied, dry-run, pruned and released as their project's ServiceAccount.
        {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"], "resourceNames": accounts},
        # Flux's Helm CRDs, and the role aggregating their kinds into admin and edit (held, so it may grant it).
        {"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["create", "patch"],
         "resourceNames": list(names.HELM_CRD_NAMES)},
        {"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["create", "patch"],
         "resourceNames": [names.HELM_TENANT_ROLE]},
        {"apiGroups": ["helm.toolkit.fluxcd.io"], "resources": ["helmreleases"], "verbs": list(HELM_VERBS)},
        {"apiGroups": ["source.toolkit.fluxcd.io"], "resources": ["helmrepositories", "helmcharts", "ocirepositories"],
         "verbs": list(HELM_VERBS)},
        # A HelmRelease's status is the reconciler's report.
        {"apiGroups": ["helm.toolkit.fluxcd.io"], "resources": ["helmreleases/status"], "verbs": ["patch"]},
    ]


def platform_account_manifests(namespace: str, account: str, reconciler: tuple[str, str],
                               cluster_role: str = "cluster-admin") -> list[dict[str, Any]]:
    """What an operator applies on a workload cluster for a Project whose spec.serviceAccountName is ``account``:
    the ServiceAccount in the project ``namespace``, its ClusterRoleBinding to ``cluster_role`` (what a platform
    may do), and a Role and RoleBinding letting the reconciler's account (``reconciler``: namespace, name)
    impersonate it there."""
    grant = f"gitops-tui-impersonate-{account}"
    reconciler_subject = {"kind": "ServiceAccount", "namespace": reconciler[0], "name": reconciler[1]}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account, "namespace": namespace},
         "automountServiceAccountToken": False},
        {"apiVersion": f"{RBAC}/v1", "kind": "ClusterRoleBinding", "metadata": {"name": f"{namespace}-{account}"},
         "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": cluster_role},
         "subjects": [{"kind": "ServiceAccount", "namespace": namespace, "name": account}]},
        {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": grant, "namespace": namespace},
         "rules": [{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"],
                    "resourceNames": [account]}]},
        {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": grant, "namespace": namespace},
         "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": grant}, "subjects": [reconciler_subject]},
    ]
