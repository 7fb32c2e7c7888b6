"""Attack H of issue 18: a namespace admin escalating through RBAC, and a repository asking for more than its project.

Reproduced as the issue describes it, against the real sandbox with real kubectl: a project member (a
ServiceAccount bound to ``admin`` in the project namespace only) binds ``cluster-admin`` and writes a Role
granting ``*``, then relabels the project namespace so the operator can no longer freeze the project and
its objects are pruned. Now kube-apiserver's escalation rules refuse every step, as the sandbox enforces
them; and a repository holding a RoleBinding to ``cluster-admin`` (or a ClusterRole) is refused on the
clusters, in one sentence, because its objects are applied as the project's ServiceAccount.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.actions import freeze as freeze_actions
from gitops_tui.api import freeze as fz
from gitops_tui.api import names
from gitops_tui.reconciler.projects import reconcile_project
from tests.gitserver import commit
from tests.helm.charts import write_chart
from tests.world import CLUSTERS, World, configmap

ESCALATION = "is attempting to grant RBAC permissions not currently held"


def _member(world: World) -> Any:
    """kubectl on the management cluster as a project member: ServiceAccount <ns>/member, admin in <ns> only."""
    sandbox, ns = world.sandbox, world.namespace
    sandbox.kubectl("management", "create", "serviceaccount", "member", "-n", ns)
    sandbox.kubectl("management", "create", "rolebinding", "member-admin", "--clusterrole=admin",
                    f"--serviceaccount={ns}:member", "-n", ns)
    token = sandbox.kubectl("management", "create", "token", "member", "-n", ns).stdout.strip()

    def run(*args: str, input: str | None = None) -> Any:
        return sandbox.kubectl("management", *args, f"--token={token}", input=input, check=False)

    return run


def _rolebinding(name: str, role: str, namespace: str = "") -> str:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return yaml.safe_dump({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
                           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                           "subjects": [{"kind": "Group", "name": "system:authenticated",
                                         "apiGroup": "rbac.authorization.k8s.io"}]})


def test_the_escalate_then_relabel_chain_no_longer_works(world: World) -> None:
    repo = world.repo("app", {"cm.yaml": configmap("app-config", "v1")})
    world.create("app", f"file://{repo}")
    world.reconcile("app")
    assert all(world.get(c, "configmaps", "app-config") is not None for c in CLUSTERS)
    member, ns = _member(world), world.namespace

    # Step 1: escalate. A RoleBinding to cluster-admin and a Role granting everything, both refused as kube does.
    grab = member("create", "rolebinding", "grab", "--clusterrole=cluster-admin", f"--serviceaccount={ns}:member",
                  "-n", ns)
    assert grab.returncode == 1
    assert (f'rolebindings.rbac.authorization.k8s.io "grab" is forbidden: user "system:serviceaccount:{ns}:member" '
            f'(groups=["system:serviceaccounts" "system:serviceaccounts:{ns}" "system:authenticated"]) {ESCALATION}:\n'
            '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}') in grab.stderr
    star = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "star", "namespace": ns},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}
    role = member("apply", "--server-side", "-f", "-", input=yaml.safe_dump(star))
    assert role.returncode == 1
    assert (f'roles.rbac.authorization.k8s.io "star" is forbidden: user "system:serviceaccount:{ns}:member"' in role.stderr
            and role.stderr.rstrip().endswith('{APIGroups:["*"], Resources:["*"], Verbs:["*"]}'))
    # Step 2: relabel the project namespace (it would no longer be the project's). admin may not write Namespaces.
    relabel = member("label", "namespace", ns, f"{names.LABEL_PROJECT}=someone-else", "--overwrite")
    assert relabel.returncode == 1
    assert (f'namespaces "{ns}" is forbidden: User "system:serviceaccount:{ns}:member" cannot patch resource '
            f'"namespaces" in API group "" in the namespace "{ns}"') in relabel.stderr

    # Nothing moved: the namespace is the project's, the project is Ready, the operator freezes it, objects stay.
    live = json.loads(world.sandbox.kubectl("management", "get", "namespace", ns, "-o", "json").stdout)
    assert live["metadata"]["labels"][names.LABEL_PROJECT] == world.project
    reconcile_project(world.ctx, "", world.project)
    project = world.ctx.get(names.KIND_PROJECT, None, world.project)
    ready = next(c for c in project["status"]["conditions"] if c["type"] == names.READY)
    assert ready["status"] == "True", ready
    freeze_actions.freeze_project(world.api, world.project, freeze_actions.FreezeRequest("incident"), actor="ops")
    assert fz.project_freeze(world.ctx.get(names.KIND_PROJECT, None, world.project)) is not None
    commit(repo, {"cm.yaml": None, "other.yaml": configmap("other", "v1")}, "prune app-config")
    world.reconcile("app")
    assert all(world.get(c, "configmaps", "app-config") is not None for c in CLUSTERS), "frozen: nothing pruned"
    for forbidden in (["get", "rolebinding", "grab"], ["get", "role", "star"]):
        assert world.sandbox.kubectl("management", *forbidden, "-n", ns, check=False).returncode == 1


def test_a_repository_binding_cluster_admin_is_refused_on_the_clusters(world: World) -> None:
    """An ordinary project's repository: its objects are applied as the project's ServiceAccount (admin in the
    namespace), so the clusters refuse the binding with kube's words, and nothing of the revision is applied."""
    repo = world.repo("grab", {"cm.yaml": configmap("grab-config", "v1"),
                               "rb.yaml": _rolebinding("grab", "cluster-admin")})
    world.create("grab", f"file://{repo}")
    world.reconcile("grab")
    ready = world.condition("grab", names.READY)
    assert ready["status"] == "False" and ready["reason"] == names.REASON_DRY_RUN_FAILED, ready
    user = f"system:serviceaccount:{world.namespace}:{names.DEFAULT_SERVICE_ACCOUNT}"
    assert ready["message"].startswith(f"RoleBinding {world.namespace}/grab refused by dev: "
                                       f'rolebindings.rbac.authorization.k8s.io "grab" is forbidden: user "{user}"')
    assert ESCALATION in ready["message"] and ready["message"].endswith("nothing of the revision was applied")
    assert "\n" not in ready["message"], "one sentence"
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "grab-config") is None
        assert world.sandbox.kubectl(cluster, "get", "rolebinding", "grab", "-n", world.namespace,
                                     check=False).returncode == 1
    # The project's own binding is there, and binds admin only.
    live = json.loads(world.sandbox.kubectl("dev", "get", "rolebinding", names.DEFAULT_SERVICE_ACCOUNT,
                                            "-n", world.namespace, "-o", "json").stdout)
    assert live["roleRef"]["name"] == "admin"
    # What the project holds may be granted: a binding to view applies.
    commit(repo, {"rb.yaml": _rolebinding("grab", "view")}, "bind view")
    world.reconcile("grab")
    assert world.condition("grab", names.READY)["status"] == "True"
    assert all(world.get(c, "configmaps", "grab-config") is not None for c in CLUSTERS)


def test_a_repository_cluster_role_is_refused(world: World) -> None:
    """A ClusterRole: an ordinary project's tenancy refuses it before any cluster; a platform project applying as the
    project's default ServiceAccount (admin in its namespace) is refused by the clusters themselves."""
    cluster_role = yaml.safe_dump({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                                   "metadata": {"name": f"{world.project}-everything"},
                                   "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]})
    repo = world.repo("cr", {"cm.yaml": configmap("cr-config", "v1"), "cr.yaml": cluster_role})
    world.create("cr", f"file://{repo}")
    world.reconcile("cr")
    ready = world.condition("cr", names.READY)
    assert ready["status"] == "False" and ready["reason"] == "TenancyViolation", ready
    assert "ClusterRole" in ready["message"] and "\n" not in ready["message"]
    # A platform project that names no ServiceAccount applies as the default one: the cluster refuses.
    json_patch = {"spec": {"platform": True}}
    world.sandbox.kubectl("management", "patch", "project", world.project, "--type=merge", "-p", json.dumps(json_patch))
    world.reconcile("cr")
    ready = world.condition("cr", names.READY)
    assert ready["status"] == "False" and ready["reason"] == names.REASON_DRY_RUN_FAILED, ready
    user = f"system:serviceaccount:{world.namespace}:{names.DEFAULT_SERVICE_ACCOUNT}"
    assert (f'clusterroles.rbac.authorization.k8s.io "{world.project}-everything" is forbidden: User "{user}" cannot '
            'patch resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope') \
        in ready["message"], ready
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "cr-config") is None
        assert world.sandbox.kubectl(cluster, "get", "clusterrole", f"{world.project}-everything",
                                     check=False).returncode == 1


def test_a_chart_binding_cluster_admin_is_refused(world: World, tmp_path: Path) -> None:
    """A HelmRelease whose chart renders a RoleBinding to cluster-admin: its dry-run, as the project's
    ServiceAccount, is refused; no release is stored."""
    release = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "shop"},
               "spec": {"chart": {"spec": {"chart": "./charts/web",
                                           "sourceRef": {"kind": "GitRepository", "name": "shop"}}}}}
    repo = world.repo("shop", {"deploy/hr.yaml": yaml.safe_dump(release)})
    chart = write_chart(repo / "charts")
    (chart / "templates" / "grab.yaml").write_text(_rolebinding("{{ .Release.Name }}-grab", "cluster-admin"))
    commit(repo, {}, "chart")
    world.create("shop", f"file://{repo}", path="./deploy")
    world.reconcile("shop")
    ready = world.condition("shop", names.READY)
    assert ready["status"] == "False" and "RoleBinding/shop-grab" in ready["message"], ready
    assert ESCALATION in ready["message"], ready
    for cluster in CLUSTERS:
        secrets = json.loads(world.sandbox.kubectl(cluster, "get", "secrets", "-n", world.namespace, "-l", "owner=helm",
                                                   "-o", "json").stdout)
        assert secrets["items"] == [], "no release stored"


def test_a_repository_may_not_take_over_the_projects_own_identity(world: World) -> None:
    """The project's ServiceAccount and binding are the reconciler's: a repository declaring them is refused, so two
    owners never fight over them (nor a tenant's binding rides on the reconciler's name)."""
    account = yaml.safe_dump({"apiVersion": "v1", "kind": "ServiceAccount",
                              "metadata": {"name": names.DEFAULT_SERVICE_ACCOUNT},
                              "automountServiceAccountToken": True})
    repo = world.repo("steal", {"sa.yaml": account, "cm.yaml": configmap("steal-config", "v1")})
    world.create("steal", f"file://{repo}")
    world.reconcile("steal")
    ready = world.condition("steal", names.READY)
    assert ready["status"] == "False" and ready["reason"] == "ValidationFailed", ready
    assert ready["message"] == (f"ServiceAccount {world.namespace}/{names.DEFAULT_SERVICE_ACCOUNT}: the name "
                                f"{names.DEFAULT_SERVICE_ACCOUNT} is kept by gitops-tui for the project's own "
                                "ServiceAccount and its binding; give yours another name")
    assert all(world.get(c, "configmaps", "steal-config") is None for c in CLUSTERS)
    live = json.loads(world.sandbox.kubectl("dev", "get", "serviceaccount", names.DEFAULT_SERVICE_ACCOUNT, "-n",
                                            world.namespace, "-o", "json").stdout)
    assert live["automountServiceAccountToken"] is False
