"""The skeleton every CustomResourceDefinition manifest of the code base shares: names, one served version, schema."""

from __future__ import annotations

from typing import Any


def typed_object(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    """An object's top-level schema: apiVersion, kind, metadata, the ``spec`` schema and the ``status`` one if given."""
    properties: dict[str, Any] = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                  "metadata": {"type": "object"}, "spec": spec}
    if status is not None:
        properties["status"] = status
    return {"type": "object", "properties": properties}


def crd_manifest(group: str, version: str, kind: str, plural: str, *, schema: dict[str, Any],
                 columns: list[dict[str, Any]], scope: str = "Namespaced", short_names: list[str] | None = None,
                 categories: list[str] | None = None, labels: dict[str, str] | None = None,
                 status: bool = True) -> dict[str, Any]:
    """A CRD serving one version (``schema`` its openAPIV3Schema) with printer ``columns``, and a status
    subresource when ``status``."""
    metadata: dict[str, Any] = {"name": f"{plural}.{group}"}
    if labels:
        metadata["labels"] = labels
    crd_names: dict[str, Any] = {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()}
    if short_names is not None:
        crd_names["shortNames"] = short_names
    if categories is not None:
        crd_names["categories"] = categories
    served: dict[str, Any] = {"name": version, "served": True, "storage": True}
    if status:
        served["subresources"] = {"status": {}}
    served["additionalPrinterColumns"] = columns
    served["schema"] = {"openAPIV3Schema": schema}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": metadata,
        "spec": {"group": group, "scope": scope, "names": crd_names, "versions": [served]},
    }
