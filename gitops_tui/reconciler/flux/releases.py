"""HelmRelease dependsOn: a revision's releases install dependencies first; others must be Ready on the cluster."""

from __future__ import annotations

from typing import Any

from kubernetes.dynamic import DynamicClient

from gitops_tui.kube.apply import get_object

HELM_RELEASE_API = "helm.toolkit.fluxcd.io/v2"
REASON_DEPENDENCY_NOT_READY = "DependencyNotReady"


class ReleaseOrderError(ValueError):
    """A dependsOn cycle among the releases of a revision, or a dependency that is not Ready."""

    def __init__(self, release: str, message: str) -> None:
        super().__init__(message)
        self.release = release
        self.message = message


def _key(release: dict[str, Any]) -> tuple[str, str]:
    meta = release.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def dependencies(release: dict[str, Any]) -> list[tuple[str, str]]:
    """(namespace, name) of each release ``release`` depends on (its own namespace by default)."""
    namespace = _key(release)[0]
    return [(str(dep.get("namespace") or namespace), str(dep.get("name")))
            for dep in (release.get("spec") or {}).get("dependsOn") or [] if isinstance(dep, dict) and dep.get("name")]


def install_order(releases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The releases with every dependency of the same revision before its dependents; ReleaseOrderError on a cycle."""
    by_key = {_key(r): r for r in releases}
    ordered: list[dict[str, Any]] = []
    state: dict[tuple[str, str], str] = {}

    def visit(key: tuple[str, str], path: list[str]) -> None:
        if state.get(key) == "done":
            return
        if state.get(key) == "visiting":
            raise ReleaseOrderError(key[1], f"dependsOn makes a cycle: {' -> '.join([*path, key[1]])}")
        state[key] = "visiting"
        for dep in dependencies(by_key[key]):
            if dep in by_key:
                visit(dep, [*path, key[1]])
        state[key] = "done"
        ordered.append(by_key[key])

    for release in releases:
        visit(_key(release), [])
    return ordered


def outside_dependencies_ready(dynamic: DynamicClient, release: dict[str, Any],
                               in_revision: set[tuple[str, str]]) -> None:
    """Raise ReleaseOrderError unless every dependency outside the revision is a HelmRelease Ready on the cluster.

    A dependency outside the revision in another namespace is refused before any request, whatever it is.
    """
    own = _key(release)[0]
    for namespace, name in dependencies(release):
        if (namespace, name) in in_revision:
            continue
        if namespace != own:  # never asked: the answer would tell whether another project's release exists
            raise ReleaseOrderError(_key(release)[1], f"spec.dependsOn: can't access 'HelmRelease/{namespace}/{name}', "
                                                      "cross-namespace references have been blocked")
        live = get_object(dynamic, HELM_RELEASE_API, "HelmRelease", name, namespace)
        ready: dict[str, Any] = next((c for c in ((live or {}).get("status") or {}).get("conditions") or []
                      if c.get("type") == "Ready"), {})
        if ready.get("status") != "True":
            why = "does not exist" if live is None else f"is not ready ({ready.get('message') or 'no status yet'})"
            raise ReleaseOrderError(_key(release)[1], f"dependency HelmRelease {namespace}/{name} {why}")
