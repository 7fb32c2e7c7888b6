"""Discovery is never inherited from another cluster that once answered on the same loopback port."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from kubernetes.dynamic.exceptions import ResourceNotFoundError

from gitops_tui.helm.crds import helm_crd_manifests
from gitops_tui.kube.apply import apply_object
from gitops_tui.kube.client import api_client_from_kubeconfig, dynamic_client
from gitops_tui.sandbox.serving.server import ClusterServer
from gitops_tui.sandbox.serving.tls import ensure_tls
from tests.sandbox.conftest import kubeconfig_for


def _client(server: ClusterServer, path: Path):
    return dynamic_client(api_client_from_kubeconfig(kubeconfig_for(server, path), "sandbox"))


def test_a_new_cluster_on_a_reused_port_is_discovered_afresh(tmp_path: Path) -> None:
    tls = ensure_tls(tmp_path / "tls")
    first = ClusterServer("sandbox", tmp_path / "first.db", token=secrets.token_urlsafe(16), tls=tls)
    first.start()
    try:
        dynamic = _client(first, tmp_path / "first.kubeconfig")
        for crd in helm_crd_manifests():
            apply_object(dynamic, crd)
        dynamic.resources.invalidate_cache()
        assert dynamic.resources.get(api_version="helm.toolkit.fluxcd.io/v2", kind="HelmRelease")
        port = first.port
    finally:
        first.stop()
    second = ClusterServer("sandbox", tmp_path / "second.db", token=secrets.token_urlsafe(16), tls=tls, port=port)
    second.start()
    try:
        fresh = _client(second, tmp_path / "second.kubeconfig")
        with pytest.raises(ResourceNotFoundError):
            fresh.resources.get(api_version="helm.toolkit.fluxcd.io/v2", kind="HelmRelease")
    finally:
        second.stop()
