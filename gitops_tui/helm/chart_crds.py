"""A chart's ``crds/`` folder, installed as Helm and Flux install it: created when absent, never upgraded or deleted.

Flux's HelmRelease ``install.crds`` defaults to ``Create`` (and ``upgrade.crds`` to ``Skip``): Helm creates the
chart's CRDs before its templates on install, leaves CRDs that exist alone, keeps them out of the release's manifest
and never deletes them. CustomResourceDefinitions are cluster-scoped, so only a platform project's releases install
them (docs/helm.md); an ordinary project's chart keeps its ``crds/`` folder unapplied, as before.
"""

from __future__ import annotations

from typing import Any

import helm_python as helm
import yaml
from kubernetes.dynamic import DynamicClient

from gitops_tui.kube.apply import apply_object, get_object

CRD_API_VERSION = "apiextensions.k8s.io/v1"
CRD_KIND = "CustomResourceDefinition"


def install_crds(helm_release: dict[str, Any], chart: helm.Chart, cluster_scoped: bool) -> tuple[dict[str, Any], ...]:
    """The CRDs the release creates on install: the chart's ``crds/`` folder for a platform project's release
    (``cluster_scoped``) unless ``spec.install.crds`` is ``Skip``; ``CreateReplace`` creates the absent ones too."""
    policy = ((helm_release.get("spec") or {}).get("install") or {}).get("crds") or "Create"
    return chart_crds(chart) if cluster_scoped and policy != "Skip" else ()


def chart_crds(chart: helm.Chart) -> tuple[dict[str, Any], ...]:
    """The CustomResourceDefinitions of the chart's (and its subcharts') ``crds/`` folders."""
    found: list[dict[str, Any]] = []
    for item in chart.crds:
        for doc in yaml.safe_load_all(item.get("data") or ""):
            if isinstance(doc, dict) and doc.get("kind") == CRD_KIND and (doc.get("metadata") or {}).get("name"):
                found.append(doc)
    return tuple(found)


def create_absent(dynamic: DynamicClient, crds: tuple[dict[str, Any], ...]) -> list[str]:
    """Create each CRD the cluster does not have (Helm's install); return the names created."""
    created = []
    for crd in crds:
        name = crd["metadata"]["name"]
        if get_object(dynamic, CRD_API_VERSION, CRD_KIND, name, None) is None:
            apply_object(dynamic, crd)
            created.append(name)
    if created:
        dynamic.resources.invalidate_cache()
    return created
