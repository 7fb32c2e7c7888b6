"""helm_step.prepare_clusters: every cluster is prepared before deciding; an unreachable one is only set aside."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.dynamic import DynamicClient

from gitops_tui.kube.client import api_client_from_kubeconfig
from gitops_tui.kube.client import dynamic_client as new_dynamic_client
from gitops_tui.reconciler import helm_step
from tests.helm.charts import write_chart
from tests.reconciler.test_management import _kubeconfig
from tests.world import World


@pytest.fixture
def gone_cluster(tmp_path: Path) -> Iterator[DynamicClient]:
    """A DynamicClient of a real cluster server that has stopped answering."""
    from gitops_tui.sandbox.serving.server import ClusterServer
    from gitops_tui.sandbox.serving.tls import ensure_tls

    tls = ensure_tls(tmp_path / "tls")
    server = ClusterServer("gone", tmp_path / "gone.db", "gone-token", tls, 0)
    server.start()
    try:
        api = api_client_from_kubeconfig(_kubeconfig(tmp_path, "gone", server.url, "gone-token", tls.ca_cert), "gone")
        dynamic = new_dynamic_client(api)
    finally:
        server.stop()
    yield dynamic
    api.close()


def _release(namespace: str, values: dict[str, Any]) -> dict[str, Any]:
    return yaml.safe_load(yaml.safe_dump({
        "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "shop", "namespace": namespace},
        "spec": {"chart": {"spec": {"chart": "./charts/web", "sourceRef": {"kind": "GitRepository", "name": "x"}}},
                 "values": values}}))


def test_unreachable_cluster_is_set_aside_and_failures_name_every_cluster(world: World,  # noqa: F811
                                                                         gone_cluster: DynamicClient) -> None:
    checkout = world.tmp / "checkout"
    write_chart(checkout / "charts")
    connections = {c: world.tenant(c) for c in ("dev", "prod")}
    connections["gone"] = gone_cluster
    cache = world.tmp / "helm-cache"

    prepared, unreachable = helm_step.prepare_clusters(connections, [_release(world.namespace, {})], checkout, cache)
    assert sorted(prepared) == ["dev", "prod"] and all(len(p) == 1 for p in prepared.values())
    assert list(unreachable) == ["gone"] and unreachable["gone"].startswith("cannot reach the cluster ("), unreachable

    with pytest.raises(helm_step.HelmRefused) as refused:
        helm_step.prepare_clusters(connections, [_release(world.namespace, {"replicaCount": "many"})], checkout, cache)
    assert sorted(refused.value.failed) == ["dev", "prod"], "every reachable cluster was prepared and failed"
    assert list(refused.value.unreachable) == ["gone"]
    message = refused.value.failure.message
    assert message.startswith("HelmRelease/shop: ") and "replicaCount" in message, message
    assert refused.value.failure.stalled
