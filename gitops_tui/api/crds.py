"""CustomResourceDefinition manifests (apiextensions.k8s.io/v1) for the management API."""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.api import names

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

_READY_COLUMN = {
    "name": "Ready",
    "type": "string",
    "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
}
_PROPAGATION_COLUMN = {
    "name": "Propagation",
    "type": "string",
    "jsonPath": '.status.conditions[?(@.type=="Propagation")].status',
}
_AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def _crd(
    *,
    group: str,
    version: str,
    kind: str,
    plural: str,
    singular: str,
    scope: str,
    short_names: list[str],
    spec_schema: dict[str, Any],
    status_schema: dict[str, Any],
    columns: list[dict[str, Any]],
) -> dict[str, Any]:
    """One CRD manifest with a structural schema, the status subresource and printer columns."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{group}",
            "labels": {"app.kubernetes.io/managed-by": names.FIELD_MANAGER},
        },
        "spec": {
            "group": group,
            "scope": scope,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": singular,
                "shortNames": short_names,
                "categories": ["gitops-tui"],
            },
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "apiVersion": _STRING,
                                "kind": _STRING,
                                "metadata": {"type": "object"},
                                "spec": spec_schema,
                                "status": status_schema,
                            },
                        }
                    },
                }
            ],
        },
    }


def _federated_spec(template: dict[str, Any]) -> dict[str, Any]:
    """The spec of a federated type: template, placement and overrides."""
    return _obj(
        {
            "template": template,
            "placement": _PLACEMENT,
            "overrides": _array(_PRESERVE),
        }
    )


def _project_crd() -> dict[str, Any]:
    """The cluster-scoped Project CRD."""
    return _crd(
        group=names.PROJECT_GROUP,
        version=names.PROJECT_VERSION,
        kind=names.KIND_PROJECT,
        plural=names.PLURAL_PROJECTS,
        singular=names.SINGULAR_PROJECT,
        scope="Cluster",
        short_names=["proj"],
        spec_schema=_obj(
            {"displayName": _STRING, "namespace": _STRING, "placement": _PLACEMENT}
        ),
        status_schema=_FEDERATED_STATUS,
        columns=[
            {"name": "Display Name", "type": "string", "jsonPath": ".spec.displayName"},
            {"name": "Namespace", "type": "string", "jsonPath": ".spec.namespace"},
            _READY_COLUMN,
            _AGE_COLUMN,
        ],
    )


def _kubefed_cluster_crd() -> dict[str, Any]:
    """The namespaced KubeFedCluster CRD (lives in kube-federation-system)."""
    return _crd(
        group=names.KUBEFED_CORE_GROUP,
        version=names.KUBEFED_CORE_VERSION,
        kind=names.KIND_KUBEFED_CLUSTER,
        plural=names.PLURAL_KUBEFED_CLUSTERS,
        singular=names.SINGULAR_KUBEFED_CLUSTER,
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
        columns=[
            {"name": "API Endpoint", "type": "string", "jsonPath": ".spec.apiEndpoint"},
            _READY_COLUMN,
            _AGE_COLUMN,
        ],
    )


def _federated_secret_crd() -> dict[str, Any]:
    """The FederatedSecret CRD."""
    return _crd(
        group=names.TYPES_GROUP,
        version=names.TYPES_VERSION,
        kind=names.KIND_FEDERATED_SECRET,
        plural=names.PLURAL_FEDERATED_SECRETS,
        singular=names.SINGULAR_FEDERATED_SECRET,
        scope="Namespaced",
        short_names=["fsec"],
        spec_schema=_federated_spec(
            _obj(
                {
                    "type": _STRING,
                    "data": {"type": "object", "additionalProperties": _STRING},
                    "stringData": {"type": "object", "additionalProperties": _STRING},
                    "metadata": _PRESERVE,
                }
            )
        ),
        status_schema=_FEDERATED_STATUS,
        columns=[
            {"name": "Type", "type": "string", "jsonPath": ".spec.template.type"},
            _PROPAGATION_COLUMN,
            _AGE_COLUMN,
        ],
    )


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
    return _crd(
        group=names.TYPES_GROUP,
        version=names.TYPES_VERSION,
        kind=names.KIND_FEDERATED_GIT_REPOSITORY,
        plural=names.PLURAL_FEDERATED_GIT_REPOSITORIES,
        singular=names.SINGULAR_FEDERATED_GIT_REPOSITORY,
        scope="Namespaced",
        short_names=["fgr", "fgitrepo"],
        spec_schema=_federated_spec(_obj({"spec": spec, "metadata": _PRESERVE})),
        status_schema=_FEDERATED_STATUS,
        columns=[
            {"name": "URL", "type": "string", "jsonPath": ".spec.template.spec.url"},
            _READY_COLUMN,
            {"name": "Revision", "type": "string", "jsonPath": ".status.artifact.revision"},
            _AGE_COLUMN,
        ],
    )


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
    return _crd(
        group=names.TYPES_GROUP,
        version=names.TYPES_VERSION,
        kind=names.KIND_FEDERATED_KUSTOMIZATION,
        plural=names.PLURAL_FEDERATED_KUSTOMIZATIONS,
        singular=names.SINGULAR_FEDERATED_KUSTOMIZATION,
        scope="Namespaced",
        short_names=["fks", "fkustomization"],
        spec_schema=_federated_spec(_obj({"spec": spec, "metadata": _PRESERVE})),
        status_schema=_FEDERATED_STATUS,
        columns=[
            _READY_COLUMN,
            _PROPAGATION_COLUMN,
            {"name": "Suspended", "type": "boolean", "jsonPath": ".spec.template.spec.suspend"},
            {
                "name": "Revision",
                "type": "string",
                "jsonPath": ".status.clusters[0].lastAppliedRevision",
            },
            _AGE_COLUMN,
        ],
    )


def crd_manifests() -> list[dict[str, Any]]:
    """Return fresh copies of all CRD manifests, in install order."""
    return copy.deepcopy(
        [
            _project_crd(),
            _kubefed_cluster_crd(),
            _federated_secret_crd(),
            _git_repository_crd(),
            _kustomization_crd(),
        ]
    )


def crd_names() -> list[str]:
    """Return the metadata.name of every CRD (`<plural>.<group>`)."""
    return [crd["metadata"]["name"] for crd in crd_manifests()]
