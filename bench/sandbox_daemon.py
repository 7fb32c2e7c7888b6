"""The sandbox as its users meet it (`sandbox up`, kubeconfig, kubectl), each figure beside a baseline of the same run.

- kubectl: `kubectl apply --server-side -f` of N objects (a ConfigMap, a Service and a Deployment per app) to
  one cluster, beside the same kubectl command against a replay server that answers every apply at once
  (discovery and OpenAPI replayed from the sandbox, so kubectl does exactly the same work on its side).
  The sandbox's cost per object is the difference of the two, divided by N; its CPU per object is read
  from the process serving the cluster.
- parallel: server-side applies to dev, staging and prod, one cluster after another, then to the three at
  once (a light client process per cluster): the speed-up, and the CPU the cluster processes used together
  per second (above 1 only when they run at once).
- start and memory: `sandbox up` wall time, and the RSS and PSS of every sandbox process at idle.

With ``--compare-with CHECKOUT`` the parallel, start and memory figures are also taken from that checkout's
sandbox (its own ``.venv``) in the same run, alternating, e.g. ``--compare-with /work/main``.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.machine import cpu_seconds, load_average, memory_mib, total_cpu

ROOT = Path(__file__).resolve().parent.parent
CLUSTERS = ("dev", "staging", "prod")

REPLAY_CHILD = r"""
import http.client, json, ssl, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
cert, key, ca, upstream, token = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
client_context = ssl.create_default_context(cafile=ca)
cache, lock = {}, threading.Lock()
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *args): pass
    def _send(self, code, body, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):  # discovery and OpenAPI, fetched from the sandbox once and replayed
        key = (self.path, self.headers.get("Accept", ""))
        with lock:
            hit = cache.get(key)
        if hit is None:
            conn = http.client.HTTPSConnection("127.0.0.1", upstream, context=client_context, timeout=60)
            conn.request("GET", self.path, headers={"Authorization": "Bearer " + token, "Accept": key[1] or "*/*"})
            answer = conn.getresponse()
            hit = (answer.status, answer.read(), answer.getheader("Content-Type", "application/json"))
            conn.close()
            with lock:
                cache[key] = hit
        self._send(*hit)
    def do_PATCH(self):  # an apply: answered at once with the configuration itself
        self._send(200, self.rfile.read(int(self.headers.get("Content-Length", 0))), "application/json")
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
server.socket = context.wrap_socket(server.socket, server_side=True)
print(json.dumps({"port": server.server_address[1]}), flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
"""

APPLIER_CHILD = r"""
import http.client, json, ssl, sys, time
port, ca, token, namespace, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
conn = http.client.HTTPSConnection("127.0.0.1", port, context=ssl.create_default_context(cafile=ca), timeout=120)
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/apply-patch+yaml"}
bodies = []
for i in range(count):
    name = f"app-{i:04d}"
    bodies.append((f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}?fieldManager=bench&force=true",
                   json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                               "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                                        "template": {"metadata": {"labels": {"app": name}},
                                                     "spec": {"containers": [{"name": "web", "image": f"web:{i}",
                                                              "ports": [{"containerPort": 8080}]}]}}}}).encode()))
print("ready", flush=True)
sys.stdin.readline()
start = time.perf_counter()
for path, body in bodies:
    conn.request("PATCH", path, body=body, headers=headers)
    answer = conn.getresponse()
    answer.read()
    if answer.status not in (200, 201):
        raise SystemExit(f"apply answered {answer.status}")
print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
"""


# -- a sandbox started as an operator starts it -----------------------------------------------------


class Sandbox:
    """A sandbox under its own data directory, started with ``CHECKOUT/.venv/bin/python -m gitops_tui sandbox up``."""

    def __init__(self, checkout: Path, label: str) -> None:
        self.checkout, self.label = checkout, label
        self.home = Path(tempfile.mkdtemp(prefix=f"bench-daemon-{label}-"))
        self.env = {**os.environ, "GITOPS_TUI_HOME": str(self.home), "GITOPS_TUI_NO_DEMO": "1",
                    "GITOPS_TUI_SANDBOX_OWNER_PID": str(os.getpid())}
        self.env.pop("PYTHONPATH", None)
        python = checkout / ".venv" / "bin" / "python"
        started = time.perf_counter()
        subprocess.run([str(python), "-m", "gitops_tui", "sandbox", "up", "--clusters", ",".join(CLUSTERS)],
                       env=self.env, cwd=str(checkout), check=True, capture_output=True, timeout=300)
        self.up_seconds = time.perf_counter() - started
        self.kubeconfig = self.home / "sandbox" / "kubeconfig"
        self.ca = self.home / "sandbox" / "tls" / "ca.crt"
        config = yaml.safe_load(self.kubeconfig.read_text())
        self.ports = {c["name"]: int(c["cluster"]["server"].rsplit(":", 1)[1]) for c in config["clusters"]}
        self.tokens = {u["name"]: u["user"]["token"] for u in config["users"]}
        state = json.loads((self.home / "sandbox" / "state.json").read_text())
        self.daemon = int(state["pid"])

    def pids(self) -> list[int]:
        """The daemon and every process it started (its cluster processes, if it has any)."""
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == self.daemon:
                    found.append(int(entry.name))
            except OSError:
                continue
        return [self.daemon, *sorted(found)]

    def serving(self, cluster: str) -> int:
        """The pid of the process serving ``cluster`` (the daemon itself when it serves every cluster)."""
        processes = self.home / "sandbox" / "processes.json"
        if processes.exists():
            return int(json.loads(processes.read_text())["clusters"][cluster]["pid"])
        return self.daemon

    def namespace(self, cluster: str, name: str) -> None:
        """Create namespace ``name`` on ``cluster``."""
        subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), "--context", cluster, "create",
                        "namespace", name], check=True, capture_output=True, timeout=60)

    def close(self) -> None:
        """Stop it and remove its data."""
        python = self.checkout / ".venv" / "bin" / "python"
        subprocess.run([str(python), "-m", "gitops_tui", "sandbox", "down"], env=self.env, cwd=str(self.checkout),
                       capture_output=True, timeout=120, check=False)
        shutil.rmtree(self.home, ignore_errors=True)


class Helper:
    """A helper process that prints a first line when ready and ends when its stdin closes."""

    def __init__(self, code: str, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.first = self.proc.stdout.readline() if self.proc.stdout else ""
        if not self.first:
            raise RuntimeError("helper process failed to start")

    def stop(self) -> None:
        """Close stdin and wait."""
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# -- kubectl apply --server-side, per object --------------------------------------------------------


def manifests(folder: Path, apps: int, tag: str) -> Path:
    """A file of ``apps`` apps (ConfigMap, Service, Deployment each) in no namespace; ``tag`` changes every object."""
    docs = []
    for index in range(apps):
        name = f"app-{index:04d}"
        labels = {"app": name}
        docs += [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"rev": tag}},
             "data": {"index": str(index), "tag": tag}},
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": {**labels, "rev": tag}},
             "spec": {"selector": labels, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {**labels, "rev": tag}},
             "spec": {"replicas": 0, "selector": {"matchLabels": labels},
                      "template": {"metadata": {"labels": labels},
                                   "spec": {"containers": [{"name": "web", "image": f"ghcr.io/example/{name}:{tag}",
                                                            "ports": [{"containerPort": 8080, "name": "http"}],
                                                            "env": [{"name": "INDEX", "value": str(index)}],
                                                            "resources": {"requests": {"cpu": "10m"}}}]}}}},
        ]
    path = folder / f"apps-{apps}-{tag}.yaml"
    path.write_text("\n---\n".join(yaml.safe_dump(doc, sort_keys=False) for doc in docs))
    return path


def _kubectl_apply(kubeconfig: Path, context: str, namespace: str, path: Path, cache: Path,
                   serving: int | None) -> dict[str, float]:
    """Run one `kubectl apply --server-side`; wall seconds, kubectl's CPU seconds and the server's."""
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = cpu_seconds(serving) if serving else 0.0
    start = time.perf_counter()
    out = subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "--context", context, "--cache-dir", str(cache),
                          "apply", "--server-side", "-n", namespace, "-f", str(path)],
                         capture_output=True, text=True, timeout=900, check=False)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"kubectl apply failed: {out.stderr[-500:]}")
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    kubectl_cpu = (after_children.ru_utime + after_children.ru_stime
                   - before_children.ru_utime - before_children.ru_stime)
    return {"wall": wall, "kubectl_cpu": kubectl_cpu,
            "server_cpu": (cpu_seconds(serving) - server_before) if serving else 0.0}


def _replay_kubeconfig(box: Sandbox, port: int, folder: Path) -> Path:
    """A kubeconfig whose context ``replay`` points at the replay server (same CA, same token)."""
    config = yaml.safe_load(box.kubeconfig.read_text())
    cluster = next(c for c in config["clusters"] if c["name"] == "dev")
    user = next(u for u in config["users"] if u["name"] == "dev")
    replay = {"apiVersion": "v1", "kind": "Config", "current-context": "replay",
              "clusters": [{"name": "replay", "cluster": {**cluster["cluster"], "server": f"https://127.0.0.1:{port}"}}],
              "users": [{"name": "replay", "user": user["user"]}],
              "contexts": [{"name": "replay", "context": {"cluster": "replay", "user": "replay"}}]}
    path = folder / "replay.kubeconfig"
    path.write_text(yaml.safe_dump(replay))
    path.chmod(0o600)
    return path


def kubectl_apply(box: Sandbox, apps: int = 100, rounds: int = 2) -> dict[str, Any]:
    """kubectl's server-side apply of ``3 x apps`` objects to dev: created, then each changed; beside the replay server."""
    folder = Path(tempfile.mkdtemp(prefix="bench-kubectl-"))
    tls = box.home / "sandbox" / "tls"
    replay = Helper(REPLAY_CHILD, str(tls / "server.crt"), str(tls / "server.key"), str(box.ca),
                    str(box.ports["dev"]), box.tokens["dev"])
    try:
        replay_config = _replay_kubeconfig(box, json.loads(replay.first)["port"], folder)
        cache = folder / "kube-cache"
        warm = manifests(folder, 1, "warm")
        box.namespace("dev", "warm")
        for kubeconfig, context in ((box.kubeconfig, "dev"), (replay_config, "replay")):
            _kubectl_apply(kubeconfig, context, "warm", warm, cache, None)  # discovery and OpenAPI cached
        samples: dict[str, list[dict[str, float]]] = {"create": [], "change": [], "replay": []}
        serving = box.serving("dev")
        for index in range(rounds):
            namespace = f"bench-{index}"
            box.namespace("dev", namespace)
            for phase, tag in (("create", "1"), ("change", "2")):
                path = manifests(folder, apps, tag)
                samples[phase].append(_kubectl_apply(box.kubeconfig, "dev", namespace, path, cache, serving))
                samples["replay"].append(_kubectl_apply(replay_config, "replay", namespace, path, cache, None))
    finally:
        replay.stop()
        shutil.rmtree(folder, ignore_errors=True)
    objects = 3 * apps
    result: dict[str, Any] = {"objects": objects, "rounds": rounds}
    replay_wall = statistics.median(s["wall"] for s in samples["replay"])
    result["replay_ms_per_object"] = round(replay_wall / objects * 1000, 2)
    result["replay_kubectl_cpu_ms_per_object"] = round(
        statistics.median(s["kubectl_cpu"] for s in samples["replay"]) / objects * 1000, 2)
    for phase in ("create", "change"):
        wall = statistics.median(s["wall"] for s in samples[phase])
        result[phase] = {
            "ms_per_object": round(wall / objects * 1000, 2),
            "sandbox_ms_per_object": round((wall - replay_wall) / objects * 1000, 2),
            "ratio_to_replay": round(wall / replay_wall, 3),
            "sandbox_cpu_ms_per_object": round(statistics.median(s["server_cpu"] for s in samples[phase])
                                               / objects * 1000, 2),
            "kubectl_cpu_ms_per_object": round(statistics.median(s["kubectl_cpu"] for s in samples[phase])
                                               / objects * 1000, 2),
            "runs_ms_per_object": [round(s["wall"] / objects * 1000, 2) for s in samples[phase]],
        }
    return result


# -- clusters in parallel ---------------------------------------------------------------------------


def _appliers(box: Sandbox, clusters: tuple[str, ...], namespace: str, count: int) -> list[Helper]:
    return [Helper(APPLIER_CHILD, str(box.ports[c]), str(box.ca), box.tokens[c], namespace, str(count))
            for c in clusters]


def _run(helpers: list[Helper]) -> float:
    """Start every helper's applies at once; the wall seconds until the last is done."""
    start = time.perf_counter()
    for helper in helpers:
        assert helper.proc.stdin is not None
        helper.proc.stdin.write("go\n")
        helper.proc.stdin.flush()
    for helper in helpers:
        line = helper.proc.stdout.readline() if helper.proc.stdout else ""
        if not line:
            raise RuntimeError("an applier failed")
        helper.stop()
    return time.perf_counter() - start


def parallel(box: Sandbox, count: int = 300, rounds: int = 2) -> dict[str, Any]:
    """Server-side applies of ``count`` Deployments per cluster: the three clusters one after another, then at once."""
    sequential, together, cores = [], [], []
    for index in range(rounds):
        for cluster in CLUSTERS:
            for phase in ("s", "p"):
                box.namespace(cluster, f"par-{phase}{index}")
        sequential.append(sum(_run(_appliers(box, (c,), f"par-s{index}", count)) for c in CLUSTERS))
        helpers = _appliers(box, CLUSTERS, f"par-p{index}", count)
        pids = [box.serving(c) for c in CLUSTERS]
        before = total_cpu(set(pids))
        seconds = _run(helpers)
        together.append(seconds)
        cores.append((total_cpu(set(pids)) - before) / seconds)
    seq, par = statistics.median(sequential), statistics.median(together)
    return {"applies_per_cluster": count, "sequential_s": round(seq, 2), "parallel_s": round(par, 2),
            "speedup": round(seq / par, 2), "sandbox_cores_in_parallel": round(statistics.median(cores), 2),
            "runs_sequential_s": [round(v, 2) for v in sequential], "runs_parallel_s": [round(v, 2) for v in together]}


def start_and_memory(box: Sandbox) -> dict[str, Any]:
    """`sandbox up` seconds and the RSS / PSS of the sandbox's processes after it settles."""
    time.sleep(3.0)  # the controllers' first lists are done
    rss, pss = memory_mib(box.pids())
    return {"up_s": round(box.up_seconds, 2), "processes": len(box.pids()), "rss_mib": round(rss, 1),
            "pss_mib": round(pss, 1)}


def measure(compare_with: Path | None, apps: int, count: int) -> dict[str, Any]:
    """Every daemon measure on this checkout's sandbox (and the parallel ones on ``compare_with``'s)."""
    results: dict[str, Any] = {"load_before": load_average()}
    checkouts = [("this", ROOT)] + ([("compared", compare_with)] if compare_with else [])
    boxes = {}
    try:
        for label, checkout in checkouts:
            boxes[label] = Sandbox(checkout, label)
            results[label] = {"checkout": str(checkout), **start_and_memory(boxes[label])}
        results["this"]["kubectl"] = kubectl_apply(boxes["this"], apps)
        for label, box in boxes.items():  # measured one after the other, in the same minutes
            results[label]["parallel"] = parallel(box, count)
    finally:
        for box in boxes.values():
            box.close()
    results["load_after"] = load_average()
    return results


def report(results: dict[str, Any]) -> str:
    """The daemon figures as lines of text."""
    this = results["this"]
    kube = this["kubectl"]
    lines = [results["load_before"],
             f"kubectl apply --server-side of {kube['objects']} objects to one cluster "
             f"(median of {kube['rounds']} runs):",
             f"  replay server (kubectl's own cost): {kube['replay_ms_per_object']} ms/object "
             f"(kubectl CPU {kube['replay_kubectl_cpu_ms_per_object']} ms/object)"]
    for phase in ("create", "change"):
        item = kube[phase]
        lines.append(f"  {phase}: {item['ms_per_object']} ms/object, ratio {item['ratio_to_replay']} to the replay "
                     f"server; the sandbox's part {item['sandbox_ms_per_object']} ms/object "
                     f"(CPU of its cluster process {item['sandbox_cpu_ms_per_object']} ms/object); "
                     f"runs {item['runs_ms_per_object']}")
    for label in ("this", "compared"):
        if label not in results:
            continue
        item, par = results[label], results[label]["parallel"]
        lines.append(f"{label} ({item['checkout']}): up {item['up_s']} s; {item['processes']} processes, "
                     f"RSS {item['rss_mib']} MiB, PSS {item['pss_mib']} MiB; {par['applies_per_cluster']} applies to "
                     f"each of 3 clusters: {par['sequential_s']} s one after another, {par['parallel_s']} s at once "
                     f"(speed-up {par['speedup']}, sandbox CPU {par['sandbox_cores_in_parallel']} cores)")
    lines.append(results["load_after"])
    return "\n".join(lines)
