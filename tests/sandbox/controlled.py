"""A sandbox cluster with its controller manager running, for the kinds and controllers tests (module-scoped)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.sandbox.controllers.manager import ControllerManager, api_client_for
from gitops_tui.sandbox.serving.server import ClusterServer
from tests.sandbox.conftest import KubectlRunner, kubeconfig_for, kubectl_runner, start_sandbox

#: The delay the suite gives pods to start (as tests/conftest.py sets GITOPS_TUI_SIM_DELAY).
DELAY = 0.3


@dataclass
class Controlled:
    """A started cluster, its controllers and kubectl bound to it."""

    server: ClusterServer
    manager: ControllerManager
    kubectl: KubectlRunner

    def json(self, *args: str) -> Any:
        """`kubectl get ... -o json`, decoded."""
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def apply(self, obj: dict[str, Any], namespace: str) -> None:
        """`kubectl apply -f -` of one object."""
        self.kubectl("apply", "-n", namespace, "-f", "-", input=json.dumps(obj))


@pytest.fixture(scope="module")
def controlled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Controlled]:
    """One cluster (named "sandbox") with every controller running and its pods starting after 0.3 s."""
    base: Path = tmp_path_factory.mktemp("controlled")
    server = start_sandbox(base, bookmark_interval=0.5)
    api_client = api_client_for(server.url, server.token, str(server.tls.ca_cert))
    manager = ControllerManager("sandbox", api_client, server.tls.ca_cert.read_text(), delay=DELAY)
    manager.start()
    kubectl = kubectl_runner(kubeconfig_for(server, base / "kubeconfig"), base / "cache")
    try:
        yield Controlled(server, manager, kubectl)
    finally:
        manager.stop()
        server.stop()
        api_client.close()


@pytest.fixture
def ns(controlled: Controlled) -> Iterator[str]:
    """A fresh namespace, deleted afterwards."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    controlled.kubectl("create", "namespace", name)
    yield name
    controlled.kubectl("delete", "namespace", name, "--wait=false", check=False)


def deployment(name: str, image: str = "nginx:1.27", replicas: int = 3, **spec: Any) -> dict[str, Any]:
    """An apps/v1 Deployment whose pods carry app=<name>."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "main", "image": image,
                                                           "ports": [{"name": "http", "containerPort": 8080}]}]}},
                     **spec}}
