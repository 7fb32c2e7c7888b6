"""`run --health-listen`: /healthz and /readyz answer from the checks over real HTTP; bad or taken addresses are refused."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from gitops_tui.cli import main
from gitops_tui.reconciler.probes import ProbeServer, reconciler_checks
from tests.waiting import wait_until


def _get(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return int(answer.status), json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), json.loads(exc.read())


@pytest.fixture
def state() -> Iterator[tuple[ProbeServer, dict[str, bool], threading.Event]]:
    """A probe server over reconciler_checks, with a switch for 'synced' and the stopping event."""
    synced = {"value": False}
    stopping = threading.Event()
    server = ProbeServer("127.0.0.1:0", *reconciler_checks(lambda: synced["value"], stopping))
    server.start()
    try:
        yield server, synced, stopping
    finally:
        server.stop()


def test_ready_only_once_the_watches_are_synced_and_neither_while_stopping(
        state: tuple[ProbeServer, dict[str, bool], threading.Event]) -> None:
    server, synced, stopping = state
    assert _get(f"{server.url}/healthz") == (200, {"message": "running"})
    assert _get(f"{server.url}/readyz") == (503, {"message": "the management API has not been read yet"})
    synced["value"] = True
    assert _get(f"{server.url}/readyz")[0] == 200
    assert _get(f"{server.url}/readyz/")[0] == 200 and _get(f"{server.url}/readyz?verbose")[0] == 200
    stopping.set()
    assert _get(f"{server.url}/healthz") == (503, {"message": "stopping"})
    assert _get(f"{server.url}/readyz") == (503, {"message": "stopping"})


def test_unknown_paths_are_404_and_a_raising_check_is_503_without_its_text() -> None:
    def broken() -> tuple[bool, str]:
        raise RuntimeError("token=s3cret")

    server = ProbeServer("127.0.0.1:0", broken, lambda: (True, "ok"))
    server.start()
    try:
        assert _get(f"{server.url}/metrics")[0] == 404
        status, body = _get(f"{server.url}/healthz")
        assert status == 503 and body == {"message": "the check failed (RuntimeError)"}
        assert _get(f"{server.url}/readyz")[0] == 200, "one broken check does not break the server"
    finally:
        server.stop()


def test_run_refuses_a_bad_or_taken_health_address(sandbox: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--health-listen", "nowhere"]) == 2
    assert "cannot listen on nowhere: listen address 'nowhere' is not HOST:PORT" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["run", "--health-listen", f"127.0.0.1:{port}"]) == 2
        assert f"cannot listen on 127.0.0.1:{port}: [Errno 98]" in capsys.readouterr().err
        assert main(["run", "--webhook-listen", f"127.0.0.1:{port}"]) == 2, "the webhook's bind fails as cleanly"
        assert f"cannot listen on 127.0.0.1:{port}: [Errno 98]" in capsys.readouterr().err


def test_connections_are_capped_and_a_silent_one_is_closed_at_its_deadline() -> None:
    server = ProbeServer("127.0.0.1:0", lambda: (True, "ok"), lambda: (True, "ok"), max_connections=2, deadline=0.5)
    server.start()
    host, port = server.url.removeprefix("http://").split(":")
    silent = [socket.create_connection((host, int(port)), timeout=5) for _ in range(2)]
    try:
        wait_until(lambda: _get(f"{server.url}/healthz")[0] == 503, timeout=5, message="the third connection refused")
        for conn in silent:
            assert conn.recv(1024) == b"", "closed by the server once its deadline passed"
        # The server closes a connection, then gives its slot back: the next request may come in between.
        wait_until(lambda: _get(f"{server.url}/healthz")[0] == 200, timeout=5, message="the slots free again")
    finally:
        for conn in silent:
            conn.close()
        server.stop()
