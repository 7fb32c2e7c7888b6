"""Helm's registry client reaches a named registry only through the egress proxy, at the address the allow-list checked,
and a blob redirect to a host the allow-list does not name is refused with the URL and the flag.

The registry (Debian's docker-registry) serves TLS for ``registry.gitops-tui.test``, a name no resolver knows: the
allow-list's resolver (given by the test, as an operator's DNS would) maps it to 127.0.0.1, so the pull can only
succeed through the proxy. A second instance on the same storage redirects blob downloads to another host
(Distribution's ``redirect`` storage middleware), as registries on object stores and CDNs do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from gitops_tui.helm import oci, oci_source
from gitops_tui.helm.errors import HelmReleaseFailed
from gitops_tui.kube.outbound import FetchPolicy
from tests.certificates import server_certificates
from tests.helm.test_oci_charts import big_chart, package
from tests.registry import Registry

NAME = "registry.gitops-tui.test"
CDN = "cdn.gitops-tui.test"


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for NAME: (ca.crt, tls.crt, tls.key)."""
    return server_certificates(folder, NAME, x509.DNSName(NAME))


@pytest.fixture
def registries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Registry, Registry]]:
    """(tls, redirecting): two TLS registries over one storage, charts pushed through a plain one; workers trust
    the test CA (the operator's SSL_CERT_FILE, read when a worker starts)."""
    ca, crt, key = certificates(tmp_path)
    pusher = Registry.start(tmp_path / "r")
    started = [pusher]
    try:
        pusher.push(package(tmp_path, "podinfo", "6.5.0"))
        pusher.push(big_chart(tmp_path, "big", 18))
        pusher.stop()
        tls = Registry.start(tmp_path / "r", tls=(crt, key))
        started.append(tls)
        middleware = f"middleware:\n  storage:\n    - name: redirect\n      options:\n        baseurl: https://{CDN}:8443/\n"
        redirecting = Registry.start(tmp_path / "r", tls=(crt, key), extra=middleware)
        started.append(redirecting)
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
        oci.restart_registry_workers()
        yield tls, redirecting
    finally:
        oci.restart_registry_workers()
        for registry in started:
            registry.stop()


def source(registry: Registry, chart: str = "podinfo", tag: str = "6.5.0") -> oci_source.OCIChartSource:
    return oci_source.from_oci_repository({"kind": "OCIRepository", "metadata": {"name": chart}, "spec": {
        "url": f"oci://{NAME}:{registry.port}/charts/{chart}", "ref": {"tag": tag}}})


def resolver(host: str, port: int) -> list[str]:
    """The operator's DNS for the test: both names are this machine's loopback."""
    assert host in (NAME, CDN), host
    return ["127.0.0.1"]


def test_a_named_registry_is_reached_through_the_proxy(registries: tuple[Registry, Registry], tmp_path: Path) -> None:
    tls, _ = registries
    policy = FetchPolicy([f"https://{NAME}:{tls.port}/*"], resolver=resolver)
    chart = oci.load_chart(source(tls), tmp_path / "cache", policy)
    assert (chart.name, chart.version) == ("podinfo", "6.5.0")


def test_a_blob_redirect_to_a_host_the_allow_list_does_not_name_is_refused(
        registries: tuple[Registry, Registry], tmp_path: Path) -> None:
    _, redirecting = registries
    policy = FetchPolicy([f"https://{NAME}:{redirecting.port}/*"], resolver=resolver)
    with pytest.raises(HelmReleaseFailed) as refused:
        oci.load_chart(source(redirecting), tmp_path / "cache", policy)
    assert refused.value.reason == "URLNotAllowed"
    message = refused.value.message
    assert f"https://{CDN}:8443/" in message and "--allow-fetch" in message, message
    assert "\n" not in message


def test_the_proxy_bounds_what_one_pull_reads(registries: tuple[Registry, Registry], tmp_path: Path) -> None:
    tls, _ = registries
    policy = FetchPolicy([f"https://{NAME}:{tls.port}/*"], resolver=resolver)
    with pytest.raises(HelmReleaseFailed) as refused:
        oci.load_chart(source(tls, "big", "1.0.0"), tmp_path / "cache", policy)
    assert "the registry sent more than 16 MiB" in refused.value.message, refused.value.message
