"""Who a project's objects are applied as on each workload cluster: a ServiceAccount of the project (docs/security.md).

Like Flux's ``--default-service-account``, the reconciler writes and dry-runs a tenant's objects (apply,
prune, delete, drift correction, Helm releases and their storage) by impersonating a ServiceAccount of
the project, so the workload cluster's own RBAC and its escalation rules bound what a repository can do.
By default that account is ``gitops-tui-tenant`` in the project namespace, made by the reconciler and bound
(RoleBinding) to the built-in ``admin`` ClusterRole in that namespace only. A Project's
``spec.serviceAccountName`` names another account of the namespace, which the operator makes and binds
(a platform project's, for instance): the reconciler then makes nothing and binds nothing.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.api.paths import resource_path
from gitops_tui.api.project import Project
from gitops_tui.kube.apply import FIELD_MANAGER
from gitops_tui.kube.client import json_request
from gitops_tui.kube.impersonation import ImpersonatingDynamicClient, acting_as, service_account_user
from gitops_tui.kube.inventory import ObjectRef, describe
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.errors import ObjectFailure

RBAC = "rbac.authorization.k8s.io"
#: A cluster entry's reason when the project's ServiceAccount or its binding cannot be made there.
REASON_IDENTITY_NOT_READY = "IdentityNotReady"
SERVICE_ACCOUNT = ("v1", "ServiceAccount")
ROLE_BINDING = (f"{RBAC}/v1", "RoleBinding")
_MANAGED_BY = {"app.kubernetes.io/managed-by": "gitops-tui"}


class IdentityNotReady(Exception):
    """The project's ServiceAccount or its binding could not be made on a cluster; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Applier:
    """The ServiceAccount a project's objects are applied as; ``managed`` when the reconciler makes and binds it."""

    project: str
    namespace: str
    name: str
    managed: bool = True

    @property
    def user(self) -> str:
        """The user name the API server sees: ``system:serviceaccount:<namespace>:<name>``."""
        return service_account_user(self.namespace, self.name)

    def describe(self) -> str:
        """``ServiceAccount team-a/gitops-tui-tenant``."""
        return f"ServiceAccount {self.namespace}/{self.name}"


def applier_of(raw: dict[str, Any] | None, namespace: str) -> Applier:
    """The applier of a project (``raw``), or of a namespace no project owns (the default account there)."""
    if raw is None:
        return Applier(namespace, namespace, names.DEFAULT_SERVICE_ACCOUNT)
    project = Project(raw)
    return Applier(project.name, project.namespace, project.applier, managed=not project.service_account_name)


def applier_for(ctx: ReconcileContext, namespace: str, project: str) -> Applier:
    """The applier of the project ``project`` owning ``namespace`` (the Projects' watch, else one LIST)."""
    mine = next((raw for raw in ctx.projects()
                 if Project(raw).name == project and Project(raw).namespace == namespace), None)
    return applier_of(mine, namespace)


def desired_objects(applier: Applier) -> list[dict[str, Any]]:
    """The ServiceAccount and the RoleBinding (to ``admin``, in the project namespace) the reconciler keeps."""
    meta = {"name": applier.name, "namespace": applier.namespace,
            "labels": {names.LABEL_IDENTITY_OF: applier.project, **_MANAGED_BY}}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta, "automountServiceAccountToken": False},
        {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": names.TENANT_CLUSTER_ROLE},
         "subjects": [{"kind": "ServiceAccount", "name": applier.name, "namespace": applier.namespace}]},
    ]


_ensured: set[tuple[str, int, str, str]] = set()
_ensured_lock = threading.Lock()


def ensure(ctx: ReconcileContext, cluster: str, api_client: Any, applier: Applier) -> None:
    """Make the project's ServiceAccount and binding on ``cluster`` when missing or changed (the reconciler's own
    identity); raise IdentityNotReady saying why they cannot be made. Nothing for an operator's account.

    With the drift watches, the watch cache tells whether both are in place (no request at idle; a change or a
    deletion by anyone else queues the project); without them, once per connection and process.
    """
    if not applier.managed:
        return
    key = (cluster, id(api_client), applier.namespace, applier.name)
    if _in_place(ctx, cluster, api_client, applier, key):
        return
    for obj in desired_objects(applier):
        path = (resource_path("v1", "serviceaccounts", applier.namespace, applier.name) if obj["kind"] ==
                "ServiceAccount" else resource_path(f"{RBAC}/v1", "rolebindings", applier.namespace, applier.name))
        try:
            json_request(api_client, "PATCH", path, json.dumps(obj), query={"fieldManager": FIELD_MANAGER,
                                                                            "force": "true"},
                         content_type="application/apply-patch+yaml")
        except ApiException as exc:
            raise IdentityNotReady(f"{obj['kind']} {applier.namespace}/{applier.name} cannot be made on {cluster}: "
                                   f"{_reason(exc)}") from None
    with _ensured_lock:
        _ensured.add(key)


def forget(cluster: str) -> None:
    """Check the identities of ``cluster`` again at their next use (a write as one of them was refused)."""
    with _ensured_lock:
        for key in [k for k in _ensured if k[0] == cluster]:
            _ensured.discard(key)


def _in_place(ctx: ReconcileContext, cluster: str, api_client: Any, applier: Applier,
              key: tuple[str, int, str, str]) -> bool:
    watch = ctx.drift_watch
    if watch is None:
        with _ensured_lock:
            return key in _ensured
    wanted = desired_objects(applier)
    # Both watches are asked for before either answer is read: stopping at the first kind not yet listed would
    # leave the RoleBinding unwatched until some later reconcile (an hour away for an idle project).
    seen = [watch.watched(cluster, api_client, kind, names.LABEL_IDENTITY_OF, applier.namespace, applier.name)
            for kind in (SERVICE_ACCOUNT, ROLE_BINDING)]
    return all(known and live is not None
               and all(live.get(k) == desired.get(k) for k in ("roleRef", "subjects", "automountServiceAccountToken"))
               for (known, live), desired in zip(seen, wanted, strict=True))


def _reason(exc: ApiException) -> str:
    """The API server's message (a Status names the object and the rule, never a value), else the HTTP status."""
    try:
        message = json.loads(exc.body or b"{}").get("message") or ""
    except (ValueError, TypeError, AttributeError):
        message = ""
    return str(message)[:300] or f"HTTP {exc.status}"


def refuse_reserved(ref: ObjectRef) -> None:
    """Raise ObjectFailure for a repository's object that would take the project's own ServiceAccount or binding."""
    if ref.kind in ("ServiceAccount", "RoleBinding") and ref.name == names.DEFAULT_SERVICE_ACCOUNT:
        raise ObjectFailure("ValidationFailed", f"{describe(ref)}: the name {ref.name} is kept by gitops-tui for the "
                                                "project's own ServiceAccount and its binding; give yours another name")


def tenant_client(dynamic: Any, applier: Applier) -> ImpersonatingDynamicClient:
    """A client of ``dynamic``'s cluster acting as the project's ServiceAccount."""
    return acting_as(dynamic, applier.user)
