"""A sandbox cluster whose controllers read a clock the tests move by hand (CronJob and HPA tests)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kubernetes import client

from gitops_tui.sandbox.controllers.manager import ControllerManager, api_client_for
from tests.clock import FakeClock
from tests.sandbox.conftest import kubeconfig_for, kubectl_runner, start_sandbox
from tests.sandbox.controlled import DELAY


class Clocked:
    """A cluster whose controllers read a clock the test moves."""

    def __init__(self, base: Path) -> None:
        self.server = start_sandbox(base, bookmark_interval=0.5)
        self.api_client = api_client_for(self.server.url, self.server.token, str(self.server.tls.ca_cert))
        self.clock = FakeClock()
        self.manager = ControllerManager("sandbox", self.api_client, self.server.tls.ca_cert.read_text(),
                                         delay=DELAY, clock=self.clock)
        self.manager.start()
        self.kubectl = kubectl_runner(kubeconfig_for(self.server, base / "kubeconfig"), base / "cache")
        self.batch = client.BatchV1Api(self.api_client)
        self.apps = client.AppsV1Api(self.api_client)
        self.core = client.CoreV1Api(self.api_client)

    def at(self, when: datetime) -> None:
        """Move the controllers' clock to ``when`` and tell them."""
        self.clock.now = when
        self.manager.clock_moved()

    def close(self) -> None:
        """Stop the controllers and the server."""
        self.manager.stop()
        self.server.stop()
        self.api_client.close()


@pytest.fixture(scope="module")
def clocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clocked]:
    """One cluster with every controller, on a hand-moved clock."""
    cluster = Clocked(tmp_path_factory.mktemp("cron"))
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def ns(clocked: Clocked) -> Iterator[str]:
    """A fresh namespace, and the clock back at the real time (objects are created at the server's time)."""
    clocked.at(datetime.now(UTC).replace(microsecond=0))
    name = f"t-{uuid.uuid4().hex[:8]}"
    clocked.kubectl("create", "namespace", name)
    yield name
    clocked.kubectl("delete", "namespace", name, "--wait=false", check=False)
