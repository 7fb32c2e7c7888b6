"""Suite-wide fixtures: an isolated data directory and shared sandboxes (plain and with the demo)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.reconciler.source_urls import ALLOW_ENV
from gitops_tui.sandbox import manager

pytest_plugins = ["tests.fast"]  # the `fast` marker (scripts/test --fast)

#: Every sandbox home started in this session, stopped at the end whatever happened.
_HOMES: list[Path] = []

# Daemons started by this session (or by CLI subprocesses it runs) exit when pytest is gone.
os.environ[manager.OWNER_PID_ENV] = str(os.getpid())
os.environ.setdefault("GITOPS_TUI_SIM_DELAY", "0.3")


@dataclass
class Sandbox:
    """A running sandbox for tests: its data directory, kubeconfig and client helpers."""

    home: Path
    kubeconfig: Path
    clusters: list[str]
    contexts: list[str] = field(default_factory=list)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def env(self) -> dict[str, str]:
        """Environment for subprocesses that must use this sandbox (GITOPS_TUI_HOME, KUBECONFIG)."""
        env = dict(os.environ)
        env["GITOPS_TUI_HOME"] = str(self.home)
        env["KUBECONFIG"] = str(self.kubeconfig)
        return env

    @property
    def ca_cert(self) -> Path:
        """The sandbox CA certificate (trust it to talk TLS to the clusters)."""
        return self.home / "sandbox" / "tls" / "ca.crt"

    def server_url(self, context: str) -> str:
        """Return the https URL of a context's cluster."""
        import yaml

        config = yaml.safe_load(self.kubeconfig.read_text())
        return next(c["cluster"]["server"] for c in config["clusters"] if c["name"] == context)

    def api_client(self, context: str = "management") -> Any:
        """Return an official-client ApiClient for a context (management, dev, ...), cached."""
        if context not in self._clients:
            from kubernetes import config

            self._clients[context] = config.new_client_from_config(
                config_file=str(self.kubeconfig), context=context, persist_config=False)
        return self._clients[context]

    def dynamic(self, context: str = "management") -> Any:
        """Return a DynamicClient for a context, cached (call .resources.invalidate_cache() after new CRDs)."""
        from gitops_tui.kube.client import dynamic_client as new_dynamic_client

        key = f"dynamic:{context}"
        if key not in self._clients:
            self._clients[key] = new_dynamic_client(self.api_client(context))
        return self._clients[key]

    def kubectl(self, context: str, *args: str, input: str | None = None,
                check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run real kubectl against a context of this sandbox; return the completed process."""
        cmd = ["kubectl", "--kubeconfig", str(self.kubeconfig), "--context", context, *args]
        proc = subprocess.run(cmd, input=input, capture_output=True, text=True, env=self.env,
                              timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def cli(self, *args: str, input: str | None = None, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess:
        """Run `python -m gitops_tui ARGS` against this sandbox; return the completed process."""
        proc = subprocess.run([sys.executable, "-m", "gitops_tui", *args], input=input,
                              capture_output=True, text=True, env=self.env, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"gitops-tui {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc


def start_sandbox(home: Path, clusters: list[str], seed_demo: bool) -> Sandbox:
    """Start a sandbox in `home` (stopped by the session's end) and return its handle."""
    _HOMES.append(home)
    result = manager.up(clusters=clusters, seed_demo=seed_demo, home=home)
    return Sandbox(home=home, kubeconfig=result.kubeconfig, clusters=list(clusters),
                   contexts=["management", *clusters])


def stop_sandbox(home: Path) -> None:
    """Stop the sandbox of `home` if it runs (best effort)."""
    try:
        manager.down(home=home)
    except Exception:  # noqa: BLE001 - cleanup must go on
        pass


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point GITOPS_TUI_HOME at an empty folder so no test touches the user's data."""
    home = tmp_path_factory.mktemp("default-home")
    previous = os.environ.get("GITOPS_TUI_HOME")
    os.environ["GITOPS_TUI_HOME"] = str(home)
    # Tests make their git repositories under pytest's temporary folder: allow local sources there.
    os.environ[ALLOW_ENV] = str(tmp_path_factory.getbasetemp().resolve())
    yield home
    if previous is None:
        os.environ.pop("GITOPS_TUI_HOME", None)
    else:
        os.environ["GITOPS_TUI_HOME"] = previous


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory, _isolated_home: Path) -> Iterator[Sandbox]:
    """A sandbox with clusters dev, staging, prod and no demo, shared by the whole session.

    While it runs, GITOPS_TUI_HOME points at it, so in-process CLI calls use it by default.
    """
    home = tmp_path_factory.mktemp("sandbox-home")
    box = start_sandbox(home, ["dev", "staging", "prod"], seed_demo=False)
    os.environ["GITOPS_TUI_HOME"] = str(home)
    try:
        yield box
    finally:
        os.environ["GITOPS_TUI_HOME"] = str(_isolated_home)
        stop_sandbox(home)


@pytest.fixture(scope="session")
def demo_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A separate sandbox (own home) with the demo project seeded; use its .env for subprocesses."""
    home = tmp_path_factory.mktemp("demo-home")
    box = start_sandbox(home, ["dev", "staging", "prod"], seed_demo=True)
    try:
        yield box
    finally:
        stop_sandbox(home)


@pytest.fixture
def use_demo_sandbox(demo_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """Point GITOPS_TUI_HOME at the demo sandbox for one test (in-process CLI / console)."""
    monkeypatch.setenv("GITOPS_TUI_HOME", str(demo_sandbox.home))
    return demo_sandbox


@pytest.fixture(scope="session")
def cluster_connections(sandbox: Sandbox) -> Iterator[Any]:
    """Workload-cluster connections shared by the session (discovery runs once per cluster)."""
    from gitops_tui.kube.client import ClusterConnections
    from gitops_tui.kube.management_api import ensure_management_api

    api = sandbox.api_client("management")
    ensure_management_api(api)
    connections = ClusterConnections(api)
    try:
        yield connections
    finally:
        connections.close()


@pytest.fixture
def mgmt(sandbox: Sandbox) -> Any:
    """A management ApiClient built by our own client code (kube/client.py) from the sandbox's kubeconfig."""
    from gitops_tui.kube.client import api_client_from_kubeconfig

    return api_client_from_kubeconfig(sandbox.kubeconfig, "management")

@pytest.fixture
def world(sandbox: Sandbox, tmp_path: Path, cluster_connections: Any) -> Iterator[Any]:
    """A fresh project on dev, staging and prod in the shared sandbox (tests/world.py)."""
    from tests.world import World

    w = World(sandbox, tmp_path, cluster_connections)
    try:
        yield w
    finally:
        w.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Make sure no sandbox daemon started by this session outlives it."""
    for home in _HOMES:
        stop_sandbox(home)
