"""In a Pod with no kubeconfig the CLI uses the Pod's ServiceAccount; a running sandbox or a flag still wins."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

import pytest

from gitops_tui.cli.common import management_client
from gitops_tui.cli.errors import CliError
from gitops_tui.kube.client import KubeconfigError
from gitops_tui.kube.in_cluster import HOST_ENV, PORT_ENV, SERVICEACCOUNT_DIR_ENV, api_client_in_cluster, in_cluster


def _pod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, ca: bool = True) -> Path:
    """Lay out a Pod's ServiceAccount files and environment (API server 10.96.0.1:443); return the folder."""
    folder = tmp_path / "serviceaccount"
    folder.mkdir()
    (folder / "token").write_text("pod-token")
    if ca:
        (folder / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv(HOST_ENV, "10.96.0.1")
    monkeypatch.setenv(PORT_ENV, "443")
    monkeypatch.setenv(SERVICEACCOUNT_DIR_ENV, str(folder))
    return folder


def _args(**flags: str) -> argparse.Namespace:
    return argparse.Namespace(kubeconfig=flags.get("kubeconfig"), context=flags.get("context"))


def test_in_cluster_needs_both_the_address_and_the_mounted_token(tmp_path: Path) -> None:
    folder = tmp_path / "sa"
    folder.mkdir()
    env = {HOST_ENV: "10.96.0.1", PORT_ENV: "443", SERVICEACCOUNT_DIR_ENV: str(folder)}
    assert not in_cluster(env), "no token mounted"
    (folder / "token").write_text("t")
    assert in_cluster(env)
    assert not in_cluster({**env, HOST_ENV: ""})
    assert not in_cluster({SERVICEACCOUNT_DIR_ENV: str(folder)})


def test_without_kubeconfig_or_sandbox_a_pod_uses_its_service_account(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _pod(tmp_path, monkeypatch)
    monkeypatch.setenv("GITOPS_TUI_HOME", str(tmp_path / "empty-home"))
    client = management_client(_args(), probe=False)
    assert client.configuration.host == "https://10.96.0.1:443"
    assert client.configuration.auth_settings()["BearerToken"]["value"].lower() == "bearer pod-token"
    assert client.default_timeout == (5.0, 30.0), "the same timeouts as every other client"


def test_a_running_sandbox_or_an_explicit_kubeconfig_wins_over_the_pod(sandbox: object, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _pod(tmp_path, monkeypatch)
    sandbox_host = management_client(_args(), probe=False).configuration.host
    assert sandbox_host.startswith("https://127.0.0.1:"), "the sandbox (GITOPS_TUI_HOME) is still the default"
    kubeconfig = str(sandbox.kubeconfig)  # type: ignore[attr-defined]
    assert management_client(_args(kubeconfig=kubeconfig, context="dev"), probe=False).configuration.host != sandbox_host


def test_outside_a_pod_the_missing_sandbox_is_still_the_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HOST_ENV, raising=False)
    monkeypatch.setenv("GITOPS_TUI_HOME", str(tmp_path / "empty-home"))
    with pytest.raises(CliError, match="the sandbox is not running"):
        management_client(_args(), probe=False)


def test_a_pod_without_its_ca_gets_one_clear_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _pod(tmp_path, monkeypatch, ca=False)
    with pytest.raises(KubeconfigError, match=r"^the in-cluster configuration cannot be used: Service certification file"):
        api_client_in_cluster()
    monkeypatch.setenv("GITOPS_TUI_HOME", str(tmp_path / "empty-home"))
    with pytest.raises(CliError, match="in-cluster configuration cannot be used"):
        management_client(_args(), probe=False)


def test_a_rotated_token_is_read_again_after_a_minute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as real

    from kubernetes.config import incluster_config

    folder = _pod(tmp_path, monkeypatch)
    client = api_client_in_cluster()
    (folder / "token").write_text("rotated-token")
    assert client.configuration.auth_settings()["BearerToken"]["value"].lower() == "bearer pod-token", "not yet"

    clock = real.datetime

    class Later(clock):
        """Two minutes from now: the loader's refresh period (one minute) is over."""

        @classmethod
        def now(cls, tz: real.tzinfo | None = None) -> real.datetime:  # type: ignore[override]
            return clock.now(tz) + real.timedelta(minutes=2)

    monkeypatch.setattr(incluster_config, "datetime", SimpleNamespace(datetime=Later, timedelta=real.timedelta))
    assert client.configuration.auth_settings()["BearerToken"]["value"].lower() == "bearer rotated-token"
