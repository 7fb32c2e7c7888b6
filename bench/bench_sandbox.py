"""Benchmark the sandbox API server against trivial baselines measured in the same run.

Usage: python bench/bench_sandbox.py [server] [daemon] [ssa] [--seconds 3] [--objects 10000] [--watch-events 200]
                                     [--apps 100] [--applies 300] [--compare-with CHECKOUT] [--json FILE]

``server`` (the measures below, one ClusterServer in a helper process), ``daemon`` (the sandbox as
`sandbox up` starts it, measured through kubectl and its kubeconfig: bench/sandbox_daemon.py) and ``ssa``
(server-side apply's cost per object beside an echo server: bench/ssa_cost.py); all by default.

Measures, each beside a baseline (ratio = sandbox / baseline):
  GET       requests/s reading one ConfigMap      vs a trivial TLS http.server GET of a same-size body
  IDLE      GET requests/s while 1,000 keep-alive connections sit idle  vs the GET above (and threads)
  LIST      requests/s listing 1,000 ConfigMaps   vs the trivial server sending a same-size body
  SSA       server-side applies/s of a five-container Deployment  vs the trivial server echoing the body
  WATCH     events/s delivered to 20 watchers     vs the trivial server streaming the same lines to 20 clients
  MEMORY    RSS of the sandbox holding N objects  vs the bare interpreter's RSS
  VALIDATION  SSA and LIST rates of a sandbox validating writes  vs the same sandbox with validation off
  CONTROLLERS  RSS of a cluster holding N objects with its controllers running (vs the bare interpreter),
            the CPU they use while idle, and a 3-replica Deployment's time to Ready over GITOPS_TUI_SIM_DELAY
Server and baseline each run in their own process; the client is this process (one connection per
measurement, HTTP/1.1 keep-alive over TLS in both cases).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SANDBOX_CHILD = r"""
import json, sys
from pathlib import Path
from gitops_tui.sandbox.serving.server import ClusterServer
from gitops_tui.sandbox.serving.tls import ensure_tls
if sys.argv[3:] == ["no-validation"]:  # the validation measurement's baseline only
    from gitops_tui.sandbox.rest import fields
    fields.ENABLED = False
base = Path(sys.argv[1])
server = ClusterServer("bench", base / "bench.db", token=sys.argv[2], tls=ensure_tls(base / "tls"),
                       keep_revisions=100000)
server.start()
print(json.dumps({"port": server.port}), flush=True)
sys.stdin.read()
server.stop()
"""

BASELINE_CHILD = r"""
import json, ssl, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
cert, key, small, big, line = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
SMALL = b"x" * small
BIG = b"x" * big
LINE = b"y" * (line - 1) + b"\n"
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # as the sandbox's handler: no ~40 ms stall per keep-alive reply
    def log_message(self, *args): pass
    def _send(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path.startswith("/watch"):
            count = int(self.path.split("n=")[1])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(count):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(LINE), LINE))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return
        self._send(BIG if self.path == "/list" else SMALL)
    def do_POST(self):
        self._send(self.rfile.read(int(self.headers.get("Content-Length", 0))))
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(json.dumps({"port": server.server_address[1]}), flush=True)
import threading
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
"""


CONTROLLERS_CHILD = r"""
import json, sys
from pathlib import Path
from gitops_tui.sandbox.controllers.manager import ControllerManager, api_client_for
from gitops_tui.sandbox.serving.server import ClusterServer
from gitops_tui.sandbox.serving.tls import ensure_tls
base, token, delay = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
tls = ensure_tls(base / "tls")
server = ClusterServer("bench", base / "bench.db", token=token, tls=tls, keep_revisions=100000)
server.start()
manager = ControllerManager("bench", api_client_for(server.url, token, str(tls.ca_cert)), tls.ca_cert.read_text(),
                            delay=delay)
manager.start()
for informer in list(manager.informers.values()):
    informer.synced.wait(60)
print(json.dumps({"port": server.port}), flush=True)
sys.stdin.read()
manager.stop()
server.stop()
"""
SIM_DELAY = 0.3  # the delay the test suite uses


class Child:
    """A helper process that prints {"port": N} when ready and exits when its stdin closes."""

    def __init__(self, code: str, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=str(ROOT))
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            raise RuntimeError("helper process failed to start")
        self.port = int(json.loads(line)["port"])

    def rss_kib(self) -> int:
        """Resident set size of the process in KiB."""
        return rss_kib(self.proc.pid)

    def stop(self) -> None:
        """Close stdin and wait for the process."""
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time used so far by ``pid`` (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(pid: int, seconds: float = 10.0) -> float:
    """CPU seconds per second ``pid`` uses while nothing is asked of it."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Client:
    """One keep-alive HTTPS connection with an optional bearer token."""

    def __init__(self, port: int, ca: Path, token: str | None = None, timeout: float = 60) -> None:
        self.context = ssl.create_default_context(cafile=str(ca))
        self.port, self.token, self.timeout = port, token, timeout
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPSConnection:
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=self.timeout)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle/delayed-ACK stalls
        return conn

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """Send one request and return (status, body)."""
        sent = dict(headers or {})
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        self.conn.request(method, path, body=body, headers=sent)
        answer = self.conn.getresponse()
        return answer.status, answer.read()

    def stream(self, path: str) -> http.client.HTTPResponse:
        """Open a streaming GET on a fresh connection and return the response."""
        conn = self._connect()
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        conn.request("GET", path, headers=headers)
        return conn.getresponse()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def rate(call: Callable[[int], None], seconds: float) -> float:
    """Calls per second of ``call(i)`` run back to back for about ``seconds``."""
    call(-1)  # warm-up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        call(count)
        count += 1
    return count / (time.perf_counter() - start)


def expect(status: int, body: bytes, *ok: int) -> None:
    """Fail loudly on an unexpected status."""
    if status not in ok:
        raise RuntimeError(f"unexpected status {status}: {body[:300]!r}")


def configmap(namespace: str, name: str) -> bytes:
    """A small ConfigMap body."""
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace,
                       "labels": {"app": "bench"}}, "data": {"key": "value-" + name}}).encode()


def deployment(tag: int) -> bytes:
    """A five-container Deployment apply configuration."""
    containers = [{"name": f"c{i}", "image": f"registry.example/app{i}:{tag}",
                   "ports": [{"containerPort": 8000 + i}], "env": [{"name": "INDEX", "value": str(i)}],
                   "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}} for i in range(5)]
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": "web", "namespace": "bench", "labels": {"app": "web"}},
                       "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                                "template": {"metadata": {"labels": {"app": "web"}},
                                             "spec": {"containers": containers}}}}).encode()


JSON = {"Content-Type": "application/json"}
LOADERS = 12  # client connections used to load the objects


def load_objects(port: int, ca: Path, token: str, total: int) -> float:
    """Create the namespaces and ``total`` ConfigMaps (1,000 in 'bench'); return creates per second."""
    client = Client(port, ca, token)
    for ns in ("bench", "bulk", "watch"):
        body = json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}).encode()
        expect(*client.request("POST", "/api/v1/namespaces", body, JSON), 201, 409)
    client.close()
    names = [("bench", f"cm-{i}") for i in range(min(1000, total))]
    names += [("bulk", f"cm-{i}") for i in range(max(0, total - 1000))]
    chunks = [names[i::LOADERS] for i in range(LOADERS)]

    def worker(items: list[tuple[str, str]]) -> None:
        own = Client(port, ca, token)
        for ns, name in items:
            expect(*own.request("POST", f"/api/v1/namespaces/{ns}/configmaps", configmap(ns, name), JSON), 201)
        own.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(names) / (time.perf_counter() - start)


def watch_rate(open_stream: Callable[[], http.client.HTTPResponse], produce: Callable[[], None],
               watchers: int, events: int, is_event: Callable[[bytes], bool]) -> float:
    """Events per second delivered to ``watchers`` streams while ``produce`` makes ``events`` events."""
    counts = [0] * watchers
    done = threading.Event()
    streams = [open_stream() for _ in range(watchers)]
    lock = threading.Lock()

    def reader(index: int, stream: http.client.HTTPResponse) -> None:
        while counts[index] < events:
            line = stream.readline()
            if not line:
                break
            if is_event(line):
                counts[index] += 1
        with lock:
            if all(c >= events for c in counts):
                done.set()

    threads = [threading.Thread(target=reader, args=(i, s), daemon=True) for i, s in enumerate(streams)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    produce()
    if not done.wait(timeout=120):
        raise RuntimeError(f"watchers saw {counts} of {events} events")
    elapsed = time.perf_counter() - start
    for stream in streams:
        stream.close()
    return watchers * events / elapsed


def threads_of(pid: int) -> int:
    """Number of threads of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def idle_connections_rate(client: Client, sandbox: Child, ca: Path, token: str, seconds: float,
                          plain_rate: float) -> dict[str, Any]:
    """GET rate while 1,000 keep-alive connections sit idle (each after one request), against the plain GET rate."""
    before = threads_of(sandbox.proc.pid)
    idle = []
    try:
        for _ in range(1000):
            connection = Client(sandbox.port, ca, token)
            expect(*connection.request("GET", "/version"), 200)
            idle.append(connection)
        during = threads_of(sandbox.proc.pid)
        busy = rate(lambda i: expect(*client.request(
            "GET", f"/api/v1/namespaces/bench/configmaps/cm-{max(i, 0) % 1000}"), 200), seconds)
    finally:
        for connection in idle:
            connection.close()
    return {"sandbox": busy, "baseline": plain_rate, "threads_before": before, "threads_with_idle": during}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run every measurement and return the results."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        base, token = Path(tmp), secrets.token_urlsafe(24)
        bare = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
        time.sleep(0.3)
        bare_rss = rss_kib(bare.pid)
        bare.stdin.close()
        bare.wait(timeout=10)
        sandbox = Child(SANDBOX_CHILD, str(base), token)
        ca = base / "tls" / "ca.crt"
        try:
            empty_rss = sandbox.rss_kib()
            create_rate = load_objects(sandbox.port, ca, token, args.objects)
            full_rss = sandbox.rss_kib()
            results["memory"] = {"objects": args.objects, "sandbox_rss_mib": full_rss / 1024,
                                 "empty_sandbox_rss_mib": empty_rss / 1024, "baseline_rss_mib": bare_rss / 1024,
                                 "creates_per_s": create_rate}
            client = Client(sandbox.port, ca, token)
            sample = client.request("GET", "/api/v1/namespaces/bench/configmaps/cm-0")[1]
            listing = client.request("GET", "/api/v1/namespaces/bench/configmaps")[1]
            if len(json.loads(listing)["items"]) != 1000:
                raise RuntimeError("the bench namespace does not hold 1,000 ConfigMaps")
            event_line = len(json.dumps({"type": "ADDED", "object": json.loads(sample)})) + 1
            baseline = Child(BASELINE_CHILD, str(base / "tls" / "server.crt"), str(base / "tls" / "server.key"),
                             str(len(sample)), str(len(listing)), str(event_line))
            plain = Client(baseline.port, ca)
            try:
                results["get"] = {
                    "sandbox": rate(lambda i: expect(*client.request(
                        "GET", f"/api/v1/namespaces/bench/configmaps/cm-{max(i, 0) % 1000}"), 200), args.seconds),
                    "baseline": rate(lambda i: expect(*plain.request("GET", "/small"), 200), args.seconds)}
                results["get_1000_idle"] = idle_connections_rate(client, sandbox, ca, token, args.seconds,
                                                                 results["get"]["sandbox"])
                results["list_1000"] = {
                    "sandbox": rate(lambda i: expect(*client.request(
                        "GET", "/api/v1/namespaces/bench/configmaps"), 200), args.seconds),
                    "baseline": rate(lambda i: expect(*plain.request("GET", "/list"), 200), args.seconds)}
                apply_headers = {"Content-Type": "application/apply-patch+yaml"}
                ssa_path = "/apis/apps/v1/namespaces/bench/deployments/web?fieldManager=bench&force=true"
                results["ssa_5_containers"] = {
                    "sandbox": rate(lambda i: expect(*client.request(
                        "PATCH", ssa_path, deployment(i), apply_headers), 200, 201), args.seconds),
                    "baseline": rate(lambda i: expect(*plain.request("POST", "/echo", deployment(i), JSON), 200),
                                     args.seconds)}
                rv = json.loads(client.request("GET", "/api/v1/namespaces/watch/configmaps")[1])["metadata"][
                    "resourceVersion"]
                watch_path = f"/api/v1/namespaces/watch/configmaps?watch=1&resourceVersion={rv}"
                writer = Client(sandbox.port, ca, token)

                def produce() -> None:
                    for i in range(args.watch_events):
                        expect(*writer.request("POST", "/api/v1/namespaces/watch/configmaps",
                                               configmap("watch", f"w-{i}"), JSON), 201)

                results["watch_20"] = {
                    "watchers": 20, "events": args.watch_events,
                    "sandbox": watch_rate(lambda: Client(sandbox.port, ca, token).stream(watch_path), produce,
                                          20, args.watch_events, lambda line: b'"ADDED"' in line),
                    "baseline": watch_rate(lambda: Client(baseline.port, ca).stream(
                        f"/watch?n={args.watch_events}"), lambda: None, 20, args.watch_events,
                        lambda line: line.endswith(b"\n"))}
                writer.close()
            finally:
                plain.close()
                client.close()
                baseline.stop()
        finally:
            sandbox.stop()
    return results


def validation_rates(args: argparse.Namespace, rounds: int = 4) -> dict[str, Any]:
    """SSA and LIST rates of a sandbox with validation on, beside the same sandbox with it off.

    Both run at once and are measured in alternation (on-off, then off-on: whichever goes first is
    measurably slower on a busy machine), best of ``rounds``, so that load from other processes
    falls on both alike.
    """
    apply_headers = {"Content-Type": "application/apply-patch+yaml"}
    ssa_path = "/apis/apps/v1/namespaces/bench/deployments/web?fieldManager=bench&force=true"
    out: dict[str, Any] = {"validated": {}, "unvalidated": {}}
    with tempfile.TemporaryDirectory(prefix="bench-validation-") as tmp:
        clients, children = {}, []
        try:
            for label, extra in (("validated", ()), ("unvalidated", ("no-validation",))):
                base, token = Path(tmp) / label, secrets.token_urlsafe(24)
                base.mkdir()
                child = Child(SANDBOX_CHILD, str(base), token, *extra)
                children.append(child)
                load_objects(child.port, base / "tls" / "ca.crt", token, 1000)
                clients[label] = Client(child.port, base / "tls" / "ca.crt", token)
            for round_number in range(rounds):
                order = list(clients.items())
                for label, client in order if round_number % 2 == 0 else reversed(order):
                    ssa = rate(lambda i, c=client: expect(*c.request(
                        "PATCH", ssa_path, deployment(i), apply_headers), 200, 201), args.seconds)
                    listing = rate(lambda i, c=client: expect(*c.request(
                        "GET", "/api/v1/namespaces/bench/configmaps"), 200), args.seconds)
                    best = out[label]
                    best["ssa_5_containers"] = max(best.get("ssa_5_containers", 0.0), ssa)
                    best["list_1000"] = max(best.get("list_1000", 0.0), listing)
        finally:
            for client in clients.values():
                client.close()
            for child in children:
                child.stop()
    return out


def deployment_ready_seconds(client: Client, name: str, replicas: int = 3, timeout: float = 60) -> float:
    """Seconds from creating a Deployment of ``replicas`` to all of them available (through the controllers)."""
    body = json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                       "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                                "template": {"metadata": {"labels": {"app": name}},
                                             "spec": {"containers": [{"name": "main", "image": "nginx"}]}}}}).encode()
    start = time.perf_counter()
    expect(*client.request("POST", "/apis/apps/v1/namespaces/bench/deployments", body, JSON), 201)
    while time.perf_counter() - start < timeout:
        found = json.loads(client.request("GET", f"/apis/apps/v1/namespaces/bench/deployments/{name}")[1])
        if (found.get("status") or {}).get("availableReplicas") == replicas:
            return time.perf_counter() - start
        time.sleep(0.02)
    raise RuntimeError(f"deployment {name} was not available within {timeout} s")


def measure_controllers(objects: int) -> dict[str, Any]:
    """RSS holding ``objects`` ConfigMaps with the controllers running, their idle CPU, Deployment latency."""
    with tempfile.TemporaryDirectory(prefix="bench-controllers-") as tmp:
        base, token = Path(tmp), secrets.token_urlsafe(24)
        bare = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
        time.sleep(0.3)
        bare_rss = rss_kib(bare.pid)
        bare.stdin.close()
        bare.wait(timeout=10)
        child = Child(CONTROLLERS_CHILD, str(base), token, str(SIM_DELAY))
        ca = base / "tls" / "ca.crt"
        try:
            time.sleep(1.0)
            empty_rss, empty_cpu = child.rss_kib(), idle_cpu(child.proc.pid)
            load_objects(child.port, ca, token, objects)
            client = Client(child.port, ca, token)
            ready = [deployment_ready_seconds(client, f"ready-{i}") for i in range(3)]
            client.close()
            full_rss, full_cpu = child.rss_kib(), idle_cpu(child.proc.pid)
        finally:
            child.stop()
    return {"objects": objects, "rss_mib": full_rss / 1024, "empty_rss_mib": empty_rss / 1024,
            "baseline_rss_mib": bare_rss / 1024, "idle_cpu_empty": empty_cpu, "idle_cpu_full": full_cpu,
            "deployment_ready_s": min(ready), "sim_delay_s": SIM_DELAY}


def report_controllers(item: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Rows of the controllers' figures for the report table."""
    return [(f"RSS with {item['objects']:,} objects + controllers", f"{item['rss_mib']:.1f}",
             f"{item['baseline_rss_mib']:.1f}", f"{item['rss_mib'] / item['baseline_rss_mib']:.2f}", "MiB"),
            ("RSS empty cluster + controllers", f"{item['empty_rss_mib']:.1f}", f"{item['baseline_rss_mib']:.1f}",
             f"{item['empty_rss_mib'] / item['baseline_rss_mib']:.2f}", "MiB"),
            ("idle CPU, controllers + 10k objects", f"{item['idle_cpu_full']:.4f}", "1.0",
             f"{item['idle_cpu_full']:.4f}", "CPU s/s"),
            ("Deployment of 3 Ready", f"{item['deployment_ready_s']:.2f}", f"{item['sim_delay_s']:.2f}",
             f"{item['deployment_ready_s'] / item['sim_delay_s']:.2f}", "s (vs delay)")]


def report(results: dict[str, Any]) -> str:
    """A plain-text table of the results with ratios."""
    rows = [("measurement", "sandbox", "baseline", "ratio", "unit")]
    for key, label, unit in (("get", "GET one object", "req/s"),
                             ("get_1000_idle", "GET, 1,000 idle connections (baseline: GET)", "req/s"),
                             ("list_1000", "LIST 1,000 objects", "req/s"),
                             ("ssa_5_containers", "SSA 5-container Deployment", "req/s"),
                             ("watch_20", "watch fan-out to 20", "events/s")):
        item = results[key]
        rows.append((label, f"{item['sandbox']:.1f}", f"{item['baseline']:.1f}",
                     f"{item['sandbox'] / item['baseline']:.3f}", unit))
    mem = results["memory"]
    rows.append((f"RSS with {mem['objects']:,} objects", f"{mem['sandbox_rss_mib']:.1f}",
                 f"{mem['baseline_rss_mib']:.1f}", f"{mem['sandbox_rss_mib'] / mem['baseline_rss_mib']:.2f}", "MiB"))
    rows.append(("RSS empty sandbox", f"{mem['empty_sandbox_rss_mib']:.1f}", f"{mem['baseline_rss_mib']:.1f}",
                 f"{mem['empty_sandbox_rss_mib'] / mem['baseline_rss_mib']:.2f}", "MiB"))
    checked = results.get("validation")
    if checked:
        for key, label in (("ssa_5_containers", "SSA, validation on/off"), ("list_1000", "LIST, validation on/off")):
            on, off = checked["validated"][key], checked["unvalidated"][key]
            rows.append((label, f"{on:.1f}", f"{off:.1f}", f"{on / off:.3f}", "req/s"))
    if "controllers" in results:
        rows += report_controllers(results["controllers"])
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
             for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"(loading created {mem['creates_per_s']:.0f} objects/s over {LOADERS} connections)")
    idle = results["get_1000_idle"]
    lines.append(f"(threads of the sandbox: {idle['threads_before']} before, {idle['threads_with_idle']} "
                 "with 1,000 idle connections)")
    return "\n".join(lines)


def main() -> int:
    """Parse options, measure, print the table and the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each rate measurement")
    parser.add_argument("--objects", type=int, default=10000, help="objects held for the memory measurement")
    parser.add_argument("--watch-events", type=int, default=200, help="events produced for the watch fan-out")
    parser.add_argument("--apps", type=int, default=100, help="daemon: apps (3 objects each) kubectl applies")
    parser.add_argument("--applies", type=int, default=300, help="daemon: applies per cluster, in parallel")
    parser.add_argument("--compare-with", type=Path, help="daemon: also measure this checkout's sandbox (its .venv)")
    parser.add_argument("--json", type=Path, help="also write the JSON results to this file")
    parser.add_argument("--ssa-objects", type=int, default=300, help="ssa: Deployments applied per round")
    parser.add_argument("--ssa-rounds", type=int, default=3, help="ssa: rounds (the median is kept)")
    parser.add_argument("groups", nargs="*", help="server, daemon, ssa (default: all)")
    args = parser.parse_args()
    groups = args.groups or ["server", "daemon", "ssa"]
    if set(groups) - {"server", "daemon", "ssa"}:
        parser.error("groups are server, daemon and ssa")
    if args.objects < 1000:
        parser.error("--objects must be at least 1000 (the LIST measurement needs 1,000)")
    from bench import sandbox_daemon
    from bench.machine import load_average

    print(load_average(), flush=True)
    results: dict[str, Any] = {}
    if "server" in groups:
        results = measure(args)
        results["validation"] = validation_rates(args)
        results["controllers"] = measure_controllers(args.objects)
        print(report(results), flush=True)
    if "daemon" in groups:
        results["daemon"] = sandbox_daemon.measure(args.compare_with, args.apps, args.applies)
        print(sandbox_daemon.report(results["daemon"]), flush=True)
    if "ssa" in groups:
        from bench import ssa_cost

        results["ssa"] = ssa_cost.measure(args.ssa_objects, args.ssa_rounds)
        print(ssa_cost.report(results["ssa"]), flush=True)
    print(load_average())
    text = json.dumps(results, indent=2, sort_keys=True)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
