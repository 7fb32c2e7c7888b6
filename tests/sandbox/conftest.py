"""Fixtures for the sandbox: a started ClusterServer, its kubeconfig, kubectl and the Python DynamicClient."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gitops_tui.sandbox.kubeconfig import KubeconfigEntry, write_kubeconfig
from gitops_tui.sandbox.server import ClusterServer
from gitops_tui.sandbox.tls import ensure_tls

KubectlRunner = Callable[..., subprocess.CompletedProcess]


def start_sandbox(base: Path, **options: object) -> ClusterServer:
    """Start a ClusterServer named "sandbox" with its store and certificates under ``base``."""
    tls = ensure_tls(base / "tls")
    server = ClusterServer(
        "sandbox", base / "sandbox.db", token=secrets.token_urlsafe(24), tls=tls, **options
    )
    server.start()
    return server


def kubeconfig_for(server: ClusterServer, path: Path, token: str | None = None) -> Path:
    """Write a kubeconfig with the single context "sandbox" for ``server``."""
    entry = KubeconfigEntry("sandbox", server.url, token or server.token)
    return write_kubeconfig(path, [entry], server.tls.ca_cert, "sandbox")


def kubectl_runner(kubeconfig: Path, cache_dir: Path) -> KubectlRunner:
    """Return kubectl(*args, input=None, check=True) bound to ``kubeconfig``."""

    def run(*args: str, input: str | None = None, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = ["kubectl", f"--kubeconfig={kubeconfig}", f"--cache-dir={cache_dir}", *args]
        result = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}{result.stdout}"
            )
        return result

    return run


@pytest.fixture(scope="module")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterServer]:
    """A started sandbox ClusterServer in a temporary directory (short bookmark interval)."""
    server = start_sandbox(tmp_path_factory.mktemp("sandbox"), bookmark_interval=0.5)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def sandbox_kubeconfig(sandbox_server: ClusterServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kubeconfig (mode 0600) whose context "sandbox" points at ``sandbox_server``."""
    return kubeconfig_for(sandbox_server, tmp_path_factory.mktemp("kube") / "config")


@pytest.fixture(scope="module")
def kubectl(sandbox_kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory) -> KubectlRunner:
    """kubectl(*args, input=None, check=True) -> CompletedProcess against the sandbox."""
    return kubectl_runner(sandbox_kubeconfig, tmp_path_factory.mktemp("kubecache"))


@pytest.fixture(scope="module")
def dynamic_client(sandbox_kubeconfig: Path) -> Iterator[object]:
    """The official Python client's DynamicClient on the sandbox."""
    from kubernetes import config
    from kubernetes.dynamic import DynamicClient

    api_client = config.new_client_from_config(config_file=str(sandbox_kubeconfig), context="sandbox")
    try:
        yield DynamicClient(api_client)
    finally:
        api_client.close()
