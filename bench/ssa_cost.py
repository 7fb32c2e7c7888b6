"""Server-side apply's cost per object in the sandbox's API server, beside a server that only echoes the body.

One cluster's API server (no controllers) and a trivial TLS echo server run in their own processes; this
process applies N Deployments as kubectl sends them (apply-patch+yaml, fieldManager kubectl, force), then
changes each one, over one keep-alive connection, and sends the same bodies to the echo server. Per
object: wall milliseconds, and the CPU milliseconds of the serving process (CPU is the figure that holds
on a loaded machine: wall time there is mostly waiting for a core). The sandbox's part is the sandbox's
figure minus the echo server's. Target (issue 21 item 4): at most 5 ms per object.

Usage: .venv/bin/python bench/bench_sandbox.py ssa [--ssa-objects 300] [--ssa-rounds 3]
"""

from __future__ import annotations

import json
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_sandbox import BASELINE_CHILD, JSON, SANDBOX_CHILD, Child, Client, cpu_seconds, expect
from bench.machine import load_average

TARGET_MS = 5.0
APPLY = {"Content-Type": "application/apply-patch+yaml"}


def deployment(index: int, tag: str) -> bytes:
    """A Deployment as a kustomize render gives it to kubectl: labels, one container with ports, env, requests."""
    name = f"app-{index:04d}"
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name, "rev": tag}},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "web", "image": f"ghcr.io/example/{name}:{tag}",
                                                       "ports": [{"containerPort": 8080, "name": "http"}],
                                                       "env": [{"name": "INDEX", "value": str(index)}],
                                                       "resources": {"requests": {"cpu": "10m"}}}]}}}}).encode()


def _timed(pid: int, send: Any, count: int, tag: str) -> tuple[float, float]:
    """(wall ms, server CPU ms) per object of ``count`` sends."""
    bodies = [deployment(i, tag) for i in range(count)]
    cpu, start = cpu_seconds(pid), time.perf_counter()
    for index, body in enumerate(bodies):
        send(index, body)
    wall = time.perf_counter() - start
    return wall / count * 1000, (cpu_seconds(pid) - cpu) / count * 1000


def measure(objects: int = 300, rounds: int = 3) -> dict[str, Any]:
    """Create and change ``objects`` Deployments per round, on the sandbox and on the echo server, alternating."""
    result: dict[str, Any] = {"objects": objects, "rounds": rounds, "load_before": load_average(),
                              "target_ms_per_object": TARGET_MS}
    samples: dict[str, list[tuple[float, float]]] = {"create": [], "change": [], "echo": []}
    with tempfile.TemporaryDirectory(prefix="bench-ssa-") as tmp:
        base, token = Path(tmp), secrets.token_urlsafe(24)
        sandbox = Child(SANDBOX_CHILD, str(base), token)
        ca = base / "tls" / "ca.crt"
        echo = Child(BASELINE_CHILD, str(base / "tls" / "server.crt"), str(base / "tls" / "server.key"), "1", "1", "2")
        client, plain = Client(sandbox.port, ca, token), Client(echo.port, ca)
        try:
            for round_ in range(rounds):
                namespace = f"ssa-{round_}"
                expect(*client.request("POST", "/api/v1/namespaces",
                                       json.dumps({"metadata": {"name": namespace}}).encode(), JSON), 201)

                def apply(index: int, body: bytes, namespace: str = namespace) -> None:
                    path = (f"/apis/apps/v1/namespaces/{namespace}/deployments/app-{index:04d}"
                            "?fieldManager=kubectl&force=true")
                    expect(*client.request("PATCH", path, body, APPLY), 200, 201)

                def echoed(index: int, body: bytes) -> None:
                    expect(*plain.request("POST", "/echo", body, JSON), 200)

                samples["create"].append(_timed(sandbox.proc.pid, apply, objects, "1"))
                samples["echo"].append(_timed(echo.proc.pid, echoed, objects, "1"))
                samples["change"].append(_timed(sandbox.proc.pid, apply, objects, "2"))
        finally:
            client.close()
            plain.close()
            sandbox.stop()
            echo.stop()
    echo_wall = statistics.median(s[0] for s in samples["echo"])
    echo_cpu = statistics.median(s[1] for s in samples["echo"])
    result["echo"] = {"wall_ms_per_object": round(echo_wall, 2), "cpu_ms_per_object": round(echo_cpu, 2)}
    for phase in ("create", "change"):
        wall = statistics.median(s[0] for s in samples[phase])
        cpu = statistics.median(s[1] for s in samples[phase])
        result[phase] = {"wall_ms_per_object": round(wall, 2), "cpu_ms_per_object": round(cpu, 2),
                         "wall_ratio_to_echo": round(wall / echo_wall, 2), "cpu_ratio_to_echo": round(cpu / echo_cpu, 2),
                         "sandbox_part_wall_ms": round(wall - echo_wall, 2),
                         "sandbox_part_cpu_ms": round(cpu - echo_cpu, 2),
                         "runs_wall_ms": [round(s[0], 2) for s in samples[phase]],
                         "runs_cpu_ms": [round(s[1], 2) for s in samples[phase]]}
    result["load_after"] = load_average()
    return result


def report(result: dict[str, Any]) -> str:
    """The SSA figures as lines of text."""
    echo = result["echo"]
    lines = [result["load_before"],
             f"server-side apply of {result['objects']} Deployments, median of {result['rounds']} rounds "
             f"(target: at most {result['target_ms_per_object']} ms/object):",
             f"  echo server: {echo['wall_ms_per_object']} ms/object wall, {echo['cpu_ms_per_object']} ms CPU"]
    for phase in ("create", "change"):
        item = result[phase]
        lines.append(f"  {phase}: {item['wall_ms_per_object']} ms/object wall (x{item['wall_ratio_to_echo']} echo), "
                     f"{item['cpu_ms_per_object']} ms CPU (x{item['cpu_ratio_to_echo']}); the sandbox's part "
                     f"{item['sandbox_part_wall_ms']} ms wall, {item['sandbox_part_cpu_ms']} ms CPU; "
                     f"runs {item['runs_wall_ms']} / CPU {item['runs_cpu_ms']}")
    lines.append(result["load_after"])
    return "\n".join(lines)
