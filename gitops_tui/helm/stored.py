"""A release's stored revisions on a cluster (Helm's storage Secrets), read without loading Helm's Go library.

The reconciler's ownership check asks whether a release still lives for every claimed object a release owns;
``installer`` (which loads ``helm_python``) is for installs and upgrades only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitops_tui.helm import storage

if TYPE_CHECKING:
    from kubernetes.dynamic import DynamicClient


def stored_releases(dynamic: DynamicClient, namespace: str, release: str) -> list[dict[str, Any]]:
    """Return every stored revision of a release on the cluster, oldest first."""
    secrets = dynamic.resources.get(api_version="v1", kind="Secret")
    listed = secrets.get(namespace=namespace, label_selector=f"owner=helm,name={release}").to_dict()
    releases = [storage.release_from_secret(s) for s in listed.get("items") or []]
    return sorted(releases, key=lambda r: int(r.get("version", 0)))
