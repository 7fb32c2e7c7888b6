"""Outbound fetches from tenant content go only where the operator allows (issue 18, attack G).

Before the fix, a HelmRepository URL from a tenant's repository was fetched from the reconciler's network:
``http://127.0.0.1:PORT`` was contacted, and "connection refused" made a port scanner. Each test holds a real
listener on loopback that counts the connections it accepts.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from gitops_tui.api import names
from gitops_tui.cli import build_parser, main
from gitops_tui.kube import pinned_http
from gitops_tui.kube.outbound import ALLOW_FETCH_ENV, FetchPolicy, FetchRefused, sandbox_ports
from tests.listener import CountingListener
from tests.world import CLUSTERS, World, configmap

FLAG_HINT = "the operator allows it with `gitops-tui run --allow-fetch PATTERN`"


@pytest.fixture
def listener() -> Iterator[CountingListener]:
    """A loopback listener counting accepted connections."""
    server = CountingListener().start()
    try:
        yield server
    finally:
        server.stop()


def helm_repository(url: str) -> str:
    """A tenant's HelmRepository and a HelmRelease pulling a chart from it."""
    return yaml.safe_dump_all([
        {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository", "metadata": {"name": "charts"},
         "spec": {"interval": "5m", "url": url}},
        {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "web"},
         "spec": {"interval": "5m", "chart": {"spec": {"chart": "web", "version": "1.0.0",
                                                       "sourceRef": {"kind": "HelmRepository", "name": "charts"}}}}},
    ])


def test_a_tenants_helm_repository_on_loopback_is_refused_without_a_connection(
        world: World, listener: CountingListener) -> None:
    repo = world.repo("apps", {"deploy/charts.yaml": helm_repository(listener.url()),
                               "deploy/cm.yaml": configmap("innocent")})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    cond = world.condition("apps", names.READY)
    assert cond["status"] == "False" and cond["reason"] == "URLNotAllowed", cond
    assert cond["message"] == (f"HelmRelease/web: HelmRepository URL {listener.url()} is not fetched: plain http URLs "
                               f"from a repository's content are fetched only when a pattern allows them; "
                               f"{FLAG_HINT} (docs/security.md)"), cond
    assert listener.accepted == 0, "no connection was opened"
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "innocent") is None, "a refused revision applies nothing"

    # No port scanner: an open port and a closed one get the same answer (no connection is tried at all).
    closed = CountingListener()
    closed_url = closed.url()
    closed.stop()
    https = f"https://127.0.0.1:{listener.port}/"
    answers = []
    for url in (https, closed_url.replace("http://", "https://")):
        with pytest.raises(FetchRefused) as caught:
            FetchPolicy().check(url, "HelmRepository URL")
        answers.append(caught.value.message.replace(url, "URL"))
    assert answers[0] == answers[1] and "127.0.0.1 is a loopback address" in answers[0]
    assert listener.accepted == 0


def test_names_that_resolve_to_private_addresses_are_checked_by_address(listener: CountingListener,
                                                                         sandbox: Any) -> None:
    policy = FetchPolicy(resolver=lambda host, port: {"localhost": ["127.0.0.1"],
                                                      "metadata.internal": ["169.254.169.254"],
                                                      "mixed.example": ["93.184.216.34", "10.1.2.3"]}[host])
    for url, kind in (("https://localhost:8443/index.yaml", "a loopback address (127.0.0.1)"),
                      ("https://metadata.internal/latest", "a link-local address (169.254.169.254)"),
                      ("https://mixed.example/charts", "a private address (10.1.2.3)")):
        with pytest.raises(FetchRefused, match=kind.replace("(", r"\(").replace(")", r"\)")):
            policy.check(url)
    # A wildcard does not open private ranges; naming the host does, and a sandbox port needs naming the port too.
    with pytest.raises(FetchRefused):
        FetchPolicy(["http://*:*/*"]).check(listener.url())
    assert FetchPolicy([f"http://127.0.0.1:{listener.port}/*"]).check(listener.url()).addresses == ("127.0.0.1",)
    management_port = min(sandbox_ports())  # the session's sandbox is the current one (GITOPS_TUI_HOME)
    with pytest.raises(FetchRefused, match="is the sandbox's API server"):
        FetchPolicy(["https://127.0.0.1:*/*"]).check(f"https://127.0.0.1:{management_port}/api")
    FetchPolicy([f"https://127.0.0.1:{management_port}/*"]).check(f"https://127.0.0.1:{management_port}/api")
    assert listener.accepted == 0


def test_the_connection_goes_to_the_address_that_was_checked(listener: CountingListener) -> None:
    """DNS rebinding: the name is looked up once, by the check; the connection goes there, whatever DNS says next."""
    answers = iter([["127.0.0.1"], ["10.66.66.66"], ["10.66.66.66"]])
    looked_up: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return next(answers)

    policy = FetchPolicy([f"http://charts.rebind.test:{listener.port}/*"], resolver=rebinding)
    with pytest.raises(pinned_http.FetchFailed, match="answered HTTP 404"):
        pinned_http.get(policy, f"http://charts.rebind.test:{listener.port}/index.yaml", "HelmRepository URL",
                        max_bytes=1024)
    assert looked_up == ["charts.rebind.test"], "one lookup, by the check"
    assert listener.accepted == 1
    assert b"Host: charts.rebind.test" in listener.received[0]


def test_a_tenants_git_repository_goes_through_the_allow_list_and_to_the_checked_address(
        world: World, listener: CountingListener) -> None:
    declared = yaml.safe_dump({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                               "metadata": {"name": "other", "namespace": "flux-system"},
                               "spec": {"interval": "1m", "url": f"http://git.rebind.test:{listener.port}/x.git",
                                        "ref": {"branch": "main"}}})
    child = yaml.safe_dump({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                            "metadata": {"name": "apps", "namespace": "flux-system"},
                            "spec": {"interval": "5m", "path": "./deploy", "prune": True,
                                     "sourceRef": {"kind": "GitRepository", "name": "other"}}})
    repo = world.repo("flux", {"clusters/repo.yaml": declared, "clusters/apps.yaml": child,
                               "clusters/cm.yaml": configmap("parent-config")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    cond = world.condition("root", names.READY)
    assert cond["reason"] == "URLNotAllowed" and cond["message"] == (
        f"GitRepository/other in clusters/repo.yaml: the URL http://git.rebind.test:{listener.port}/x.git is not "
        f"fetched: plain http URLs from a repository's content are fetched only when a pattern allows them; "
        f"{FLAG_HINT} (docs/security.md)"), cond
    assert world.source("apps").kustomization is None and listener.accepted == 0
    assert world.get("dev", "configmaps", "parent-config") is None

    # The operator allows that host; its name resolves (for this test) to the listener: git connects there.
    world.ctx.fetch_policy = FetchPolicy([f"http://git.rebind.test:{listener.port}/*"],
                                         resolver=lambda host, port: ["127.0.0.1"])
    world.reconcile("root")
    assert world.condition("root", names.READY)["status"] == "True"
    world.reconcile("apps")
    cond = world.condition("apps", names.READY)
    assert cond["status"] == "False" and cond["reason"] == "GitOperationFailed", cond
    assert listener.accepted >= 1 and b"Host: git.rebind.test" in listener.received[0], listener.received


def test_run_and_the_console_take_allow_fetch(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    args = build_parser().parse_args(["run", "--allow-fetch", "https://charts.example.com/*",
                                      "--allow-fetch", "http://10.0.0.5:8080/*"])
    assert args.allow_fetch == ["https://charts.example.com/*", "http://10.0.0.5:8080/*"]
    root: argparse.Namespace = build_parser(verbs=False).parse_args(["--allow-fetch", "http://127.0.0.1:9/*"])
    assert root.fetch_patterns == ["http://127.0.0.1:9/*"]
    monkeypatch.delenv(ALLOW_FETCH_ENV, raising=False)
    assert main(["--allow-fetch", "charts.example.com", "get", "projects"]) == 2
    assert "--allow-fetch 'charts.example.com' is not a pattern of the form scheme://host" in capsys.readouterr().err
    monkeypatch.setenv(ALLOW_FETCH_ENV, "http://127.0.0.1:9/*")
    assert FetchPolicy.from_env().check("http://127.0.0.1:9/x").addresses == ("127.0.0.1",)
    assert os.environ[ALLOW_FETCH_ENV]
    with pytest.raises(FetchRefused):
        FetchPolicy.from_env(["https://other.example/*"]).check("http://127.0.0.1:9/x")


def test_public_https_needs_no_pattern_and_plain_http_does() -> None:
    policy = FetchPolicy(resolver=lambda host, port: ["93.184.216.34"])
    assert policy.check("https://charts.example.com/index.yaml").addresses == ("93.184.216.34",)
    with pytest.raises(FetchRefused, match="plain http URLs"):
        policy.check("http://charts.example.com/index.yaml")
