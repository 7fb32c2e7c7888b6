"""A render worker: a child process that renders charts with Helm (Go, in-process) under CPU and memory limits.

Run by ``render_pool`` as ``python -m gitops_tui.helm.render_worker MEMORY_BYTES``. It reads requests from
stdin and writes answers to stdout, each a 4-byte big-endian length and a JSON document. A reader thread
takes requests and ends the process at once when stdin closes (the reconciler is gone, even mid-render), so
a worker never outlives its reconciler. Before each render the CPU limit is set to the seconds already used
plus the render's budget (the kernel ends the process with SIGXCPU past it); the data segment is limited for
the worker's whole life (Go's allocations fail, and the runtime exits, past it). Imports nothing of
gitops_tui but this package's empty ``__init__``.
"""

from __future__ import annotations

import json
import os
import queue
import resource
import struct
import sys
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

HEADER = struct.Struct(">I")


def read_frame(stream: BinaryIO) -> bytes | None:
    """One length-prefixed frame, or None at end of stream."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    body = stream.read(size)
    return body if len(body) == size else None


def write_frame(stream: BinaryIO, payload: dict[str, Any]) -> None:
    """Write one length-prefixed JSON frame and flush it."""
    data = json.dumps(payload).encode("utf-8")
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def _limit_memory(max_bytes: int) -> None:
    """Bound the data segment (heap and anonymous mappings, Go's arenas included) and forbid core files."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if max_bytes > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (max_bytes, max_bytes))


def _limit_cpu(seconds: float) -> None:
    """Let the process use ``seconds`` more CPU from now (the soft limit; the hard one stays)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def render(request: dict[str, Any]) -> dict[str, Any]:
    """Render one request: {chart (a path), values, name, namespace, revision, cpu_seconds, max_bytes}."""
    import helm_python as helm

    try:
        chart = helm.Chart.load(request["chart"])
        try:
            revision = int(request["revision"])
            rendered = chart.render(request.get("values") or {}, name=request["name"], namespace=request["namespace"],
                                    revision=revision, is_install=revision == 1, is_upgrade=revision > 1)
        finally:
            chart.close()
    except helm.HelmError as exc:
        return {"error": {"type": type(exc).__name__, "message": str(exc)}}
    total = sum(len(text) for text in rendered.values())
    if total > int(request.get("max_bytes") or 0) > 0:
        return {"too_large": total}
    return {"rendered": rendered}


def _read_requests(stdin: BinaryIO, requests: queue.Queue[bytes]) -> None:
    """Hand each request to the main thread; end the process when the reconciler closes the pipe."""
    while True:
        frame = read_frame(stdin)
        if frame is None:
            os._exit(0)
        requests.put(frame)


def main(argv: list[str] | None = None) -> int:
    """Serve render requests until stdin closes."""
    return serve(render, argv)


def serve(handle: Callable[[dict[str, Any]], dict[str, Any]], argv: list[str] | None = None) -> int:
    """Answer each request with ``handle`` (within its ``cpu_seconds``) until stdin closes; argv[0] bounds memory."""
    args = sys.argv[1:] if argv is None else argv
    _limit_memory(int(args[0]) if args else 0)
    import helm_python  # noqa: F401 - load Helm once, before the first request

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    requests: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=_read_requests, args=(stdin, requests), name="requests", daemon=True).start()
    write_frame(stdout, {"ready": os.getpid()})
    while True:
        request = json.loads(requests.get())
        _limit_cpu(float(request.get("cpu_seconds") or 60))
        try:
            answer = handle(request)
        except MemoryError:
            answer = {"memory": True}
        write_frame(stdout, answer)


if __name__ == "__main__":
    raise SystemExit(main())
