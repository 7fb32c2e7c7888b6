"""Stand-in charts for Flux's example repository, served for real on loopback: a TLS docker-registry for the OCI
charts (cert-manager, gateway-helm) and a Helm repository over HTTP (an ``index.yaml`` made by Helm) for podinfo.

The example's HelmRepository and OCIRepository objects change only their URLs (``with_chart_urls``); nothing else in
the repository is edited. The registry speaks TLS with a test CA that the reconciler's registry workers trust through
the operator's own trust store (``SSL_CERT_FILE``, read when a worker starts), so the example's OCIRepositories need
no ``spec.insecure``. Charts are packaged and pushed with Helm's own client; the index is made by Helm.
"""

from __future__ import annotations

import functools
import http.server
import ipaddress
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from cryptography import x509

from gitops_tui.helm import oci
from gitops_tui.kube.outbound import FetchPolicy
from tests.certificates import server_certificates
from tests.registry import Registry

CHARTS = Path(__file__).parent / "fixtures" / "flux-example-charts"
#: The chart URLs the example declares, and which stand-in serves each (the only lines the test changes).
OCI_URLS = {"oci://quay.io/jetstack/charts/cert-manager": "cert-manager",
            "oci://docker.io/envoyproxy/gateway-helm": "gateway-helm"}
HELM_REPOSITORY_URL = "https://stefanprodan.github.io/podinfo"


def loopback_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for the address 127.0.0.1: (ca.crt, tls.crt, tls.key)."""
    return server_certificates(folder, "127.0.0.1", x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                               "gitops-tui flux example CA")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the chart repository's folder without logging each request."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        return


@dataclass
class ChartServers:
    """Where the stand-ins are served: the TLS registry and the Helm repository's base URL."""

    registry: Registry
    helm_url: str
    archives: dict[str, Path]

    @property
    def allow_fetch(self) -> list[str]:
        """The operator's ``run --allow-fetch`` patterns for both loopback servers."""
        return [f"https://{self.registry.host}/*", f"{self.helm_url}/*"]

    def policy(self) -> FetchPolicy:
        """The allow-list as the reconciler reads it."""
        return FetchPolicy(self.allow_fetch)

    def urls(self) -> dict[str, str]:
        """Each URL the example declares for a chart, and the loopback URL that replaces it."""
        moved = {url: f"oci://{self.registry.host}/charts/{chart}" for url, chart in OCI_URLS.items()}
        return {**moved, HELM_REPOSITORY_URL: self.helm_url}

    def chart(self, name: str) -> helm.Chart:
        """The stand-in chart ``name`` as it was served (close it after use)."""
        return helm.Chart.load_archive(self.archives[name].read_bytes())


def with_chart_urls(files: dict[str, str], urls: dict[str, str]) -> dict[str, str]:
    """``files`` with the ``url: <old>`` line of each HelmRepository and OCIRepository pointing at its stand-in
    (manifests only: the README's examples stay as they are)."""
    changed = dict(files)
    for path, text in files.items():
        kinds = {d.get("kind") for d in yaml.safe_load_all(text) if isinstance(d, dict)} if path.endswith(
            ".yaml") else set()
        if not kinds & {"HelmRepository", "OCIRepository"}:
            continue
        for old, new in urls.items():
            text = text.replace(f"url: {old}\n", f"url: {new}\n")
        changed[path] = text
    return changed


@contextmanager
def serve_charts(work: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChartServers]:
    """Package the stand-ins with Helm, push the OCI ones to a registry that then serves TLS on the same storage,
    publish podinfo in a Helm repository over HTTP; stop both at the end (the processes this started)."""
    work.mkdir(parents=True, exist_ok=True)
    archives = {name: Path(helm.package(CHARTS / name, destination=work)) for name in
                ("cert-manager", "gateway-helm", "podinfo")}
    ca, crt, key = loopback_certificates(work)
    pusher = Registry.start(work / "registry")
    started = [pusher]
    served = work / "helm-repo"
    served.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, name="flux-example-helm-repo", daemon=True)
    try:
        for name in OCI_URLS.values():
            pusher.push(archives[name])
        pusher.stop()
        registry = Registry.start(work / "registry", tls=(crt, key))
        started.append(registry)
        helm_url = f"http://127.0.0.1:{server.server_port}"
        (served / archives["podinfo"].name).write_bytes(archives["podinfo"].read_bytes())
        helm.repo_index_generate(served, base_url=helm_url)
        thread.start()
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        oci.restart_registry_workers()
        yield ChartServers(registry, helm_url, archives)
    finally:
        oci.restart_registry_workers()
        if thread.is_alive():
            server.shutdown()
            thread.join(timeout=5)
        server.server_close()
        for started_registry in started:
            started_registry.stop()
