"""Fixtures for the sandbox: a started ClusterServer, its kubeconfig, kubectl and the Python DynamicClient."""

from __future__ import annotations

import http.client
import json
import secrets
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.sandbox.kubeconfig import KubeconfigEntry, write_kubeconfig
from gitops_tui.sandbox.serving.server import ClusterServer
from gitops_tui.sandbox.serving.tls import ensure_tls

KubectlRunner = Callable[..., subprocess.CompletedProcess]


def start_sandbox(base: Path, token: str | None = None, **options: Any) -> ClusterServer:
    """Start a ClusterServer named "sandbox" with its store and certificates under ``base``."""
    tls = ensure_tls(base / "tls")
    server = ClusterServer(
        "sandbox", base / "sandbox.db", token=token or secrets.token_urlsafe(24), tls=tls, **options
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

    from gitops_tui.kube.client import dynamic_client as new_dynamic_client

    api_client = config.new_client_from_config(config_file=str(sandbox_kubeconfig), context="sandbox")
    try:
        yield new_dynamic_client(api_client)
    finally:
        api_client.close()


class RawResponse:
    """A raw HTTP answer: status code, headers and body (JSON decoded on demand)."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        """Return the body decoded as JSON."""
        return json.loads(self.body)


def raw_request(
    server: ClusterServer,
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    token: str | None = "server",
    timeout: float = 15,
) -> RawResponse:
    """Send one HTTPS request to ``server`` (with its token unless ``token`` is None or another value)."""
    context = ssl.create_default_context(cafile=str(server.tls.ca_cert))
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=timeout)
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {server.token if token == 'server' else token}"
    if isinstance(body, str):
        body = body.encode()
    try:
        conn.request(method, path, body=body, headers=sent)
        answer = conn.getresponse()
        return RawResponse(answer.status, dict(answer.getheaders()), answer.read())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def sandbox_http(sandbox_server: ClusterServer) -> Callable[..., RawResponse]:
    """raw(method, path, body=None, headers=None, token="server") -> RawResponse on the sandbox."""

    def run(method: str, path: str, body: bytes | str | None = None, **kwargs: Any) -> RawResponse:
        return raw_request(sandbox_server, method, path, body, **kwargs)

    return run
