"""CustomResourceDefinition manifests (apiextensions.k8s.io/v1) for the management API."""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.alerts import alert_crd
from gitops_tui.api.crd_skeleton import crd_manifest, typed_object
from gitops_tui.api.journal_crd import journal_entry_crd

_PRESERVE: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_STRING: dict[str, Any] = {"type": "string"}
_BOOL: dict[str, Any] = {"type": "boolean"}
_INT: dict[str, Any] = {"type": "integer", "format": "int64"}


def _obj(properties: dict[str, Any] | None = None, preserve: bool = True) -> dict[str, Any]:
    """An object schema node with the given properties, keeping unknown fields when `preserve`."""
    node: dict[str, Any] = {"type": "object"}
    if properties:
        node["properties"] = properties
    if preserve:
        node["x-kubernetes-preserve-unknown-fields"] = True
    return node


def _array(items: dict[str, Any]) -> dict[str, Any]:
    """An array schema node."""
    return {"type": "array", "items": items}


_CONDITION = _obj(
    {
        "type": _STRING,
        "status": _STRING,
        "reason": _STRING,
        "message": _STRING,
        "lastTransitionTime": _STRING,
        "lastUpdateTime": _STRING,
        "observedGeneration": _INT,
    }
)

_SELECTOR = _obj(
    {
        "matchLabels": {"type": "object", "additionalProperties": _STRING},
        "matchExpressions": _array(
            _obj({"key": _STRING, "operator": _STRING, "values": _array(_STRING)})
        ),
    }
)

_PLACEMENT = _obj(
    {
        "clusters": _array(_obj({"name": _STRING})),
        "clusterSelector": _SELECTOR,
    }
)

_CLUSTER_STATUS = _obj(
    {
        "name": _STRING,
        "status": _STRING,
        "message": _STRING,
        "lastAppliedRevision": _STRING,
        "lastAttemptedRevision": _STRING,
        "lastSyncTime": _STRING,
        "inventory": _array(_obj({"id": _STRING, "v": _STRING})),
    }
)

_FEDERATED_STATUS = _obj(
    {
        "observedGeneration": _INT,
        "conditions": _array(_CONDITION),
        "clusters": _array(_CLUSTER_STATUS),
        "artifact": _obj({"revision": _STRING, "lastUpdateTime": _STRING}),
    }
)

def _column(name: str, json_path: str, type_: str = "string") -> dict[str, Any]:
    """A printer column."""
    return {"name": name, "type": type_, "jsonPath": json_path}


def _condition_column(condition: str) -> dict[str, Any]:
    """A printer column showing the status of one condition."""
    return _column(condition, f'.status.conditions[?(@.type=="{condition}")].status')


_READY_COLUMN = _condition_column("Ready")
_PROPAGATION_COLUMN = _condition_column("Propagation")
_AGE_COLUMN = _column("Age", ".metadata.creationTimestamp", "date")


def _crd(
    kind: str,
    *,
    scope: str,
    short_names: list[str],
    spec_schema: dict[str, Any],
    status_schema: dict[str, Any],
    columns: list[dict[str, Any]],
) -> dict[str, Any]:
    """One CRD manifest (group, version and plural from names.RESOURCES) with a structural schema, status and columns."""
    group, version, plural = names.RESOURCES[kind]
    return crd_manifest(group, version, kind, plural, schema=typed_object(spec_schema, status_schema), columns=columns,
                        scope=scope, short_names=short_names, categories=["gitops-tui"],
                        labels={"app.kubernetes.io/managed-by": names.FIELD_MANAGER})


def _federated_crd(kind: str, short_names: list[str], template: dict[str, Any],
                   columns: list[dict[str, Any]]) -> dict[str, Any]:
    """A namespaced federated type: spec {template, placement, overrides} and the federated status."""
    spec = _obj({"template": template, "placement": _PLACEMENT, "overrides": _array(_PRESERVE)})
    return _crd(kind, scope="Namespaced", short_names=short_names, spec_schema=spec,
                status_schema=_FEDERATED_STATUS, columns=columns)


#: A ServiceAccount's name: a DNS-1123 subdomain.
_SERVICE_ACCOUNT_NAME = {"type": "string", "maxLength": 253, "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"}


def _project_crd() -> dict[str, Any]:
    """The cluster-scoped Project CRD."""
    return _crd(
        names.KIND_PROJECT,
        scope="Cluster",
        short_names=["proj"],
        spec_schema=_obj({"displayName": _STRING, "namespace": _STRING, "placement": _PLACEMENT, "platform": _BOOL,
                          "limits": _obj({"maxFluxChildren": {**_INT, "minimum": 0}}, preserve=False),
                          # The ServiceAccount the project's objects are applied as (docs/security.md).
                          "serviceAccountName": _SERVICE_ACCOUNT_NAME}),
        status_schema=_FEDERATED_STATUS,
        columns=[_column("Display Name", ".spec.displayName"), _column("Namespace", ".spec.namespace"),
                 _column("Platform", ".spec.platform", "boolean"), _READY_COLUMN, _AGE_COLUMN],
    )


def _kubefed_cluster_crd() -> dict[str, Any]:
    """The namespaced KubeFedCluster CRD (lives in kube-federation-system)."""
    return _crd(
        names.KIND_KUBEFED_CLUSTER,
        scope="Namespaced",
        short_names=["kfc"],
        spec_schema=_obj(
            {
                "apiEndpoint": _STRING,
                "secretRef": _obj({"name": _STRING}),
                "caBundle": _STRING,
                "disabledTLSValidations": _array(_STRING),
            }
        ),
        status_schema=_obj({"conditions": _array(_CONDITION), "region": _STRING, "zones": _array(_STRING)}),
        columns=[_column("API Endpoint", ".spec.apiEndpoint"), _READY_COLUMN, _AGE_COLUMN],
    )


def _federated_secret_crd() -> dict[str, Any]:
    """The FederatedSecret CRD."""
    template = _obj(
        {
            "type": _STRING,
            "data": {"type": "object", "additionalProperties": _STRING},
            "stringData": {"type": "object", "additionalProperties": _STRING},
            "metadata": _PRESERVE,
        }
    )
    return _federated_crd(names.KIND_FEDERATED_SECRET, ["fsec"], template,
                          [_column("Type", ".spec.template.type"), _PROPAGATION_COLUMN, _AGE_COLUMN])


def _git_repository_crd() -> dict[str, Any]:
    """The FederatedGitRepository CRD."""
    spec = _obj(
        {
            "url": _STRING,
            "ref": _obj({"branch": _STRING, "tag": _STRING, "semver": _STRING, "commit": _STRING}),
            "secretRef": _obj({"name": _STRING}),
            "interval": _STRING,
            "timeout": _STRING,
            "provider": _STRING,
            "suspend": _BOOL,
        }
    )
    return _federated_crd(names.KIND_FEDERATED_GIT_REPOSITORY, ["fgr", "fgitrepo"],
                          _obj({"spec": spec, "metadata": _PRESERVE}),
                          [_column("URL", ".spec.template.spec.url"), _READY_COLUMN,
                           _column("Revision", ".status.artifact.revision"), _AGE_COLUMN])


def _kustomization_crd() -> dict[str, Any]:
    """The FederatedKustomization CRD."""
    spec = _obj(
        {
            "sourceRef": _obj({"kind": _STRING, "name": _STRING, "namespace": _STRING}),
            "path": _STRING,
            "prune": _BOOL,
            "interval": _STRING,
            "timeout": _STRING,
            "suspend": _BOOL,
            "targetNamespace": _STRING,
            "wait": _BOOL,
            "force": _BOOL,
            "healthChecks": _array(_PRESERVE),
        }
    )
    return _federated_crd(names.KIND_FEDERATED_KUSTOMIZATION, ["fks", "fkustomization"],
                          _obj({"spec": spec, "metadata": _PRESERVE}),
                          [_READY_COLUMN, _PROPAGATION_COLUMN,
                           _column("Suspended", ".spec.template.spec.suspend", "boolean"),
                           _column("Revision", ".status.clusters[0].lastAppliedRevision"), _AGE_COLUMN])


def crd_manifests() -> list[dict[str, Any]]:
    """Return fresh copies of all CRD manifests, in install order."""
    return copy.deepcopy(
        [
            _project_crd(),
            _kubefed_cluster_crd(),
            _federated_secret_crd(),
            _git_repository_crd(),
            _kustomization_crd(),
            journal_entry_crd(),
            alert_crd(),
        ]
    )


def crd_names() -> list[str]:
    """Return the metadata.name of every CRD (`<plural>.<group>`)."""
    return [crd["metadata"]["name"] for crd in crd_manifests()]
