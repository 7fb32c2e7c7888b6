"""Hostile requests cost the sandbox API server nothing (issue 8 item 4).

Idle connections hold no thread, a full server answers 429 like kube-apiserver's max-in-flight filter,
slow heads and bodies time out, NaN / Infinity / deep nesting are 400s, and hang-ups leave no traceback.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.sandbox.serving.server import ClusterServer
from tests.sandbox.conftest import raw_request, start_sandbox
from tests.waiting import wait_until

JSON = {"Content-Type": "application/json"}
DEPLOYMENTS = "/apis/apps/v1/namespaces/default/deployments"
MIB = 1 << 20


def deployment(name: str, replicas: str = "1") -> str:
    """A Deployment body with ``replicas`` written verbatim (so it may be NaN)."""
    return ('{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"' + name + '"},"spec":{"replicas":'
            + replicas + ',"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},'
            '"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}')


def tls_connect(server: ClusterServer, timeout: float = 10) -> ssl.SSLSocket:
    """A TLS connection to ``server`` trusting its CA."""
    context = ssl.create_default_context(cafile=str(server.tls.ca_cert))
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    return context.wrap_socket(raw, server_hostname="localhost")


def http_get(sock: ssl.SSLSocket, path: str, token: str) -> bytes:
    """Send a keep-alive GET on an open connection and read its whole answer (Content-Length framed)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes ``sock`` within ``within`` seconds (reads and drops anything it sends)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], deadline - time.monotonic())
        if not readable:
            return False
        try:
            if not sock.recv(65536):
                return True
        except ssl.SSLWantReadError:
            continue
        except OSError:
            return True
    return False


def process_threads(pid: int) -> int:
    """Number of threads of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


@pytest.fixture
def tight_server(tmp_path: Path) -> Iterator[ClusterServer]:
    """A server with one worker, one request in flight, two watches and short timeouts."""
    server = start_sandbox(tmp_path, limits={"workers": 1, "max_in_flight": 1, "max_watches": 2,
                                             "header_timeout": 1.0, "idle_timeout": 1.0, "io_timeout": 1.0})
    try:
        yield server
    finally:
        server.stop()


# -- bodies ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "content_type"), [
    (deployment("nan", "NaN"), "application/json"),
    (deployment("inf", "Infinity"), "application/json"),
    (deployment("neg-inf", "-Infinity"), "application/json"),
    (deployment("huge", "1e999"), "application/json"),
    (deployment("yaml-nan", ".nan"), "application/yaml"),
], ids=["NaN", "Infinity", "-Infinity", "1e999", "yaml-.nan"])
def test_nan_and_infinity_are_refused_with_400(sandbox_http: Any, kubectl: Any, body: str,
                                               content_type: str) -> None:
    answer = sandbox_http("POST", DEPLOYMENTS, body, headers={"Content-Type": content_type})
    assert answer.status == 400 and answer.json()["reason"] == "BadRequest"
    listed = kubectl("get", "deployments", "-n", "default", "-o", "json")
    assert json.loads(listed.stdout)["kind"] == "List", "kubectl get still works for the namespace"


def test_nan_in_a_server_side_apply_is_refused(sandbox_http: Any) -> None:
    body = deployment("ssa", "0").replace('"replicas":0', '"replicas": .nan')  # YAML's NaN
    answer = sandbox_http("PATCH", DEPLOYMENTS + "/ssa?fieldManager=t", body,
                          headers={"Content-Type": "application/apply-patch+yaml"})
    assert answer.status == 400


@pytest.mark.parametrize(("body", "content_type"), [
    ("[" * 5000 + "]" * 5000, "application/json"),
    ('{"a":' * 5000 + "1" + "}" * 5000, "application/json"),
    ("[" * 500 + "]" * 500, "application/yaml"),
    ('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":' + "[" * 250 + "]" * 250 + "}",
     "application/json"),
], ids=["json-array", "json-object", "yaml", "250-levels"])
def test_deep_nesting_is_a_400_not_a_500(sandbox_http: Any, body: str, content_type: str) -> None:
    answer = sandbox_http("POST", "/api/v1/namespaces/default/configmaps", body,
                          headers={"Content-Type": content_type})
    assert answer.status == 400 and "nesting deeper than" in answer.json()["message"]


def test_deep_but_legal_objects_still_work(sandbox_http: Any) -> None:
    """Deep custom resources (deeply nested CRD schemas exist) are stored and read back under the limit."""
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "deeps.walls.example.com"},
           "spec": {"group": "walls.example.com", "scope": "Namespaced",
                    "names": {"kind": "Deep", "plural": "deeps", "singular": "deep", "listKind": "DeepList"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {
                            "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]}}
    assert sandbox_http("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json.dumps(crd),
                        headers=JSON).status == 201
    nested: Any = "leaf"
    for _ in range(190):
        nested = {"a": nested}
    body = {"apiVersion": "walls.example.com/v1", "kind": "Deep", "metadata": {"name": "d"}, "spec": nested}
    path = "/apis/walls.example.com/v1/namespaces/default/deeps/d"
    wait_until(lambda: sandbox_http("PATCH", path + "?fieldManager=t", json.dumps(body),
                                    headers={"Content-Type": "application/apply-patch+yaml"}).status == 201,
               timeout=10, message="the deep object to be applied once the CRD is served")
    assert sandbox_http("GET", path).json()["spec"] == nested


def test_a_yaml_alias_bomb_is_refused(sandbox_http: Any) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    answer = sandbox_http("PATCH", "/api/v1/namespaces/default/configmaps/bomb?fieldManager=t",
                          "\n".join(lines) + "\n", headers={"Content-Type": "application/apply-patch+yaml"})
    assert answer.status == 400 and "values" in answer.json()["message"]


def test_negative_length_with_64_mib_is_a_400_and_costs_no_memory(sandbox_server: ClusterServer) -> None:
    def peak() -> int:
        text = Path("/proc/self/status").read_text()
        return int(next(line.split()[1] for line in text.splitlines() if line.startswith("VmHWM:")))

    before = peak()
    chunk = b"x" * MIB
    with tls_connect(sandbox_server, timeout=30) as sock:
        sock.sendall(f"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                     f"Authorization: Bearer {sandbox_server.token}\r\nContent-Type: application/json\r\n"
                     "Content-Length: -1\r\n\r\n".encode())
        answer = b""
        readable, _, _ = select.select([sock], [], [], 10)
        if readable:
            answer = sock.recv(65536)
        try:
            for _ in range(64):
                sock.sendall(chunk)
        except OSError:
            pass
    assert answer.startswith(b"HTTP/1.1 400"), answer[:100]
    assert peak() - before < 16 * 1024, "the body was never read into memory"


# -- connections and threads ------------------------------------------------------------------------

def test_a_thousand_idle_connections_hold_no_threads(sandbox: Any) -> None:
    """Against the real sandbox daemon: 1,000 keep-alive connections, each after one request, then a fresh request.

    It takes 3 to 10 s (a thousand TLS handshakes): the point of the test.
    """
    from gitops_tui.sandbox import manager

    pid = next(c.pid for c in manager.status(home=sandbox.home).clusters if c.name == "dev")  # dev's own process
    assert pid
    server = _dev_server(sandbox)
    before = process_threads(pid)
    connections = []
    try:
        for _ in range(1000):
            sock = tls_connect(server)
            assert http_get(sock, "/version", server.token).startswith(b"HTTP/1.1 200")
            connections.append(sock)
        assert process_threads(pid) <= before + 16, "idle connections hold no thread"
        fresh = raw_request(server, "GET", "/api/v1/namespaces", timeout=10)
        assert fresh.status == 200
        again = http_get(connections[0], "/version", server.token)
        assert again.startswith(b"HTTP/1.1 200"), "an idle keep-alive connection still serves"
    finally:
        for sock in connections:
            sock.close()


class _DevServer:
    """What raw_request and tls_connect need of a daemon's cluster: port, token and CA."""

    def __init__(self, port: int, token: str, ca_cert: Path) -> None:
        self.port = port
        self.token = token
        self.tls = type("Tls", (), {"ca_cert": ca_cert})()


def _dev_server(sandbox: Any) -> Any:
    import yaml

    config = yaml.safe_load(sandbox.kubeconfig.read_text())
    server = next(c["cluster"]["server"] for c in config["clusters"] if c["name"] == "dev")
    token = next(u["user"]["token"] for u in config["users"] if u["name"] == "dev")
    return _DevServer(int(server.rsplit(":", 1)[1]), token, sandbox.ca_cert)


def test_a_full_server_answers_429_with_a_status_body(tight_server: ClusterServer) -> None:
    slow = tls_connect(tight_server)
    try:
        slow.sendall(f"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\n"
                     f"Authorization: Bearer {tight_server.token}\r\nContent-Length: 100\r\n\r\n{{".encode())
        wait_until(lambda: tight_server._httpd.in_flight == 1, timeout=10,
                   message="the slow request to hold the only slot (until its body times out)")
        answer = raw_request(tight_server, "GET", "/api/v1/namespaces")
        assert answer.status == 429
        assert answer.headers.get("Retry-After") == "1"
        assert answer.json()["reason"] == "TooManyRequests" and answer.json()["code"] == 429
        assert closed_by_server(slow, within=10), "the slow body times out"
    finally:
        slow.close()
    wait_until(lambda: raw_request(tight_server, "GET", "/api/v1/namespaces").status == 200, timeout=10,
               message="the server to answer again")


def test_watches_are_bounded_separately(tight_server: ClusterServer) -> None:
    watches = []
    try:
        for _ in range(2):
            sock = tls_connect(tight_server)
            sock.sendall(f"GET /api/v1/namespaces/default/configmaps?watch=1 HTTP/1.1\r\nHost: x\r\n"
                         f"Authorization: Bearer {tight_server.token}\r\n\r\n".encode())
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            watches.append(sock)
        third = raw_request(tight_server, "GET", "/api/v1/namespaces/default/configmaps?watch=1")
        assert third.status == 429 and third.json()["reason"] == "TooManyRequests"
        assert raw_request(tight_server, "GET", "/api/v1/namespaces").status == 200, "ordinary requests still go"
    finally:
        for sock in watches:
            sock.close()


def test_slow_heads_and_idle_connections_are_closed(tight_server: ClusterServer) -> None:
    with socket.create_connection(("127.0.0.1", tight_server.port), timeout=10) as raw:
        assert closed_by_server(raw, within=10), "a connection that never handshakes is closed"
    with tls_connect(tight_server) as sock:
        sock.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n")  # never finished
        assert closed_by_server(sock, within=10), "an unfinished head is closed"
    with tls_connect(tight_server) as sock:
        assert http_get(sock, "/version", tight_server.token).startswith(b"HTTP/1.1 200")
        assert closed_by_server(sock, within=10), "an idle keep-alive connection is closed"


def test_clients_that_hang_up_leave_no_traceback(sandbox_server: ClusterServer,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="gitops_tui.sandbox")
    head = (f"POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            f"{sandbox_server.token}\r\nContent-Type: application/json\r\n").encode()
    for data in (head + b"Content-Length: 500\r\n\r\n{\"a\":", head + b"Transfer-Encoding: chunked\r\n\r\n5\r\nab",
                 b"GET /api/v1/namespaces/default/configmaps?watch=1 HTTP/1.1\r\nHost: x\r\n"
                 + f"Authorization: Bearer {sandbox_server.token}\r\n\r\n".encode(), b"GET /vers"):
        sock = tls_connect(sandbox_server)
        sock.sendall(data)
        sock.close()
    with socket.create_connection(("127.0.0.1", sandbox_server.port)) as raw:
        raw.sendall(b"\x16\x03\x01\x00")  # half a TLS hello
    wait_until(lambda: raw_request(sandbox_server, "GET", "/version").status == 200, timeout=10,
               message="the server to keep serving")
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == [], [r.getMessage() for r in loud]
