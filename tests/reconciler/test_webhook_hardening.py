"""Hostile webhook requests cost nothing; replays trigger nothing; a flood makes one management write per reconcile.

Issue 8 items 4 and 7 for the receiver of `gitops-tui run --webhook-listen`.
"""

from __future__ import annotations

import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.api import names
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.context import management_path
from gitops_tui.reconciler.webhook import WebhookReceiver
from tests.reconciler.test_management import get
from tests.reconciler.test_webhook import BODY, TOKEN, post, project, requested_at, sign  # noqa: F401
from tests.waiting import wait_until

MIB = 1 << 20


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def peak_rss_kib(pid: int) -> int:
    """The peak resident set size (VmHWM) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def raw_request(port: int, head: bytes, body_chunks: int = 0, wait: float = 5.0) -> bytes:
    """Send request headers, wait up to ``wait`` s for an early answer, else send ``body_chunks`` MiB; return the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        readable, _, _ = select.select([sock], [], [], wait)
        if not readable:
            chunk = b"x" * MIB
            try:
                for _ in range(body_chunks):
                    sock.sendall(chunk)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        answer = b""
        try:
            while len(answer) < 65536:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
        except OSError:
            pass
        return answer


def status_of(answer: bytes) -> int:
    """The HTTP status code of a raw answer (0 when there is none)."""
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


@pytest.fixture(scope="class")
def run_process(sandbox: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.Popen, int]]:
    """`gitops-tui run --webhook-listen` as a real process (its memory is what the tests watch)."""
    port = free_port()
    log = tmp_path_factory.mktemp("run") / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gitops_tui", "run", "--webhook-listen", f"127.0.0.1:{port}",
                                 "--lease-duration", "4"], env=sandbox.env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "webhook receiver on" in log.read_text(), timeout=20, message="the receiver to listen")
        yield proc, port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        assert "Traceback" not in log.read_text(), "a hostile client leaves no traceback"


class TestTheRunProcess:
    """Against a real `gitops-tui run` process (stopped before the tests below, whose writes it would mix with)."""

    def test_negative_content_length_with_64_mib_is_answered_400_without_reading(
            self, run_process: tuple[subprocess.Popen, int]) -> None:
        proc, port = run_process
        assert status_of(raw_request(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")) == 200
        before = peak_rss_kib(proc.pid)
        head = b"POST /hook/x/y HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"
        answer = raw_request(port, head, body_chunks=64)
        assert status_of(answer) == 400 and b"Content-Length" in answer
        assert peak_rss_kib(proc.pid) - before < 8 * 1024, "the 64 MiB were never held in memory"

    def test_a_client_sending_its_refused_body_at_once_still_reads_the_answer(
            self, run_process: tuple[subprocess.Popen, int]) -> None:
        _, port = run_process
        head = b"POST /hook/x/y HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"
        assert status_of(raw_request(port, head + b"x" * 100_000, wait=0)) == 400

    @pytest.mark.parametrize(("header", "code"), [
        (b"", 400),
        (b"Content-Length: abc\r\n", 400),
        (b"Content-Length: +5\r\n", 400),
        (b"Transfer-Encoding: chunked\r\n", 400),
        (b"Content-Length: 2097152\r\n", 413),
    ], ids=["missing", "non-numeric", "signed", "chunked", "over-1MiB"])
    def test_bad_lengths_are_answered_before_the_body(self, run_process: tuple[subprocess.Popen, int], header: bytes,
                                                     code: int) -> None:
        _, port = run_process
        answer = raw_request(port, b"POST /hook/x/y HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n", body_chunks=2)
        assert status_of(answer) == code


@pytest.fixture
def small_receiver(mgmt: Any) -> Iterator[tuple[WebhookReceiver, list[tuple[str, str]]]]:  # noqa: F811
    """An in-process receiver with 4 connection slots and a 1 s request deadline."""
    triggered: list[tuple[str, str]] = []
    hook = WebhookReceiver(mgmt, "127.0.0.1:0", trigger=lambda ns, name: triggered.append((ns, name)),
                           max_connections=4, deadline=1.0)
    hook.start()
    try:
        yield hook, triggered
    finally:
        hook.stop()


def test_a_slow_client_is_cut_at_the_deadline(small_receiver: tuple[WebhookReceiver, Any]) -> None:
    hook, _ = small_receiver
    with socket.create_connection(("127.0.0.1", hook.port), timeout=30) as sock:
        sock.sendall(b"POST /hook/x/y HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part")
        readable, _, _ = select.select([sock], [], [], 15)
        assert readable, "the server ended the connection"
        try:
            assert sock.recv(100) == b""
        except ConnectionResetError:
            pass


def test_connections_beyond_the_cap_get_503_and_take_no_thread(
        small_receiver: tuple[WebhookReceiver, Any], mgmt: Any, project: str) -> None:  # noqa: F811
    hook, triggered = small_receiver
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", hook.port), timeout=10) for _ in range(4)]
    try:
        wait_until(lambda: threading.active_count() >= before + 4, timeout=5, message="four connection threads")
        extra = [socket.create_connection(("127.0.0.1", hook.port), timeout=10) for _ in range(20)]
        try:
            for sock in extra:
                assert status_of(sock.recv(1000)) == 503
            assert threading.active_count() <= before + 4
        finally:
            for sock in extra:
                sock.close()
    finally:
        for sock in idle:
            sock.close()
    # The idle ones are cut by the deadline at the latest; then a real delivery is served.
    wait_until(lambda: post(f"{hook.url}/hook/{project}/gh", {"X-Hub-Signature-256": sign(BODY)})[0] == 202,
               timeout=10, message="a delivery to be served again")
    assert triggered == [(project, "gh")]


def fk_version(api: Any, namespace: str, name: str, kind: str = names.KIND_FEDERATED_KUSTOMIZATION) -> str:
    """The resourceVersion of a source object (changes with each write)."""
    return get(api, management_path(kind, namespace, name))["metadata"]["resourceVersion"]


@pytest.mark.parametrize(("source", "headers"), [
    ("gh", lambda d: {"X-Hub-Signature-256": sign(BODY), "X-GitHub-Event": "push", "X-GitHub-Delivery": d}),
    ("gl", lambda d: {"X-Gitlab-Token": TOKEN, "X-Gitlab-Event-UUID": d}),
    ("gen", lambda d: {"X-Signature": sign(BODY), "X-Delivery-Id": d}),
], ids=["github", "gitlab", "generic"])
def test_a_replayed_delivery_triggers_nothing(mgmt: Any, project: str, source: str, headers: Any) -> None:  # noqa: F811
    triggered: list[tuple[str, str]] = []
    first = WebhookReceiver(mgmt, "127.0.0.1:0", trigger=lambda ns, name: triggered.append((ns, name)))
    second = WebhookReceiver(mgmt, "127.0.0.1:0", trigger=lambda ns, name: triggered.append((ns, name)))
    first.start()
    second.start()
    try:
        assert post(f"{first.url}/hook/{project}/{source}", headers("delivery-1"))[0] == 202
        stamp, version = requested_at(mgmt, project, source), fk_version(mgmt, project, source)
        # Let a reconcile handle it, so only the replay check can stop the next ones.
        fk = get(mgmt, management_path(names.KIND_FEDERATED_KUSTOMIZATION, project, source))
        json_request(mgmt, "PATCH", management_path(names.KIND_FEDERATED_KUSTOMIZATION, project, source) + "/status",
                     {"status": {"lastHandledReconcileAt": fk["metadata"]["annotations"][names.ANNOTATION_REQUESTED_AT]}},
                     content_type="application/merge-patch+json")
        version = fk_version(mgmt, project, source)
        for receiver in (first, second):  # the same process, and another one that never saw it
            status, answer = post(f"{receiver.url}/hook/{project}/{source}", headers("delivery-1"))
            assert (status, answer["message"]) == (200, "delivery already received")
        assert triggered == [(project, source)]
        assert requested_at(mgmt, project, source) == stamp and fk_version(mgmt, project, source) == version
        assert post(f"{second.url}/hook/{project}/{source}", headers("delivery-2"))[0] == 202
        assert requested_at(mgmt, project, source) != stamp, "a new delivery still works"
    finally:
        first.stop()
        second.stop()


def test_a_flood_of_deliveries_makes_one_write_per_reconcile(mgmt: Any, project: str) -> None:  # noqa: F811
    triggered: list[tuple[str, str]] = []
    hook = WebhookReceiver(mgmt, "127.0.0.1:0", trigger=lambda ns, name: triggered.append((ns, name)))
    hook.start()
    url = f"{hook.url}/hook/{project}/gh"
    repo_version = fk_version(mgmt, project, "gh", names.KIND_FEDERATED_GIT_REPOSITORY)
    try:
        for round_ in range(2):  # each round: a flood, then the reconcile that handles it
            before = fk_version(mgmt, project, "gh")
            seen = set()
            for index in range(15):
                headers = {"X-Hub-Signature-256": sign(BODY), "X-GitHub-Delivery": f"flood-{round_}-{index}"}
                assert post(url, headers)[0] == 202
                seen.add(fk_version(mgmt, project, "gh"))
            assert len(seen) == 1 and before not in seen, "one write for the whole flood while it is pending"
            json_request(mgmt, "PATCH", management_path(names.KIND_FEDERATED_KUSTOMIZATION, project, "gh") + "/status",
                         {"status": {"lastHandledReconcileAt": requested_at(mgmt, project, "gh")}},
                         content_type="application/merge-patch+json")
        assert fk_version(mgmt, project, "gh", names.KIND_FEDERATED_GIT_REPOSITORY) == repo_version
        assert len(triggered) == 2, "the local reconciler is asked once per pending request"
    finally:
        hook.stop()
