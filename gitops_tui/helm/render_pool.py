"""A small pool of long-lived render workers (child processes), killed at a render's deadline and then replaced.

Helm's template engine is Go loaded into the process; a template that loops forever cannot be stopped from
Python, and a thread left to it burns a core until the process ends. So charts are rendered in workers
(``render_worker``) with CPU and memory limits: a render that passes its deadline has its worker killed (and
reaped), and the next render starts a fresh one. Waiting for an answer takes no thread: the caller waits on
the worker's pipe. At most ``max_workers`` render at once; ``keep_idle`` stay between renders, so a normal
render pays a pipe round trip, not an interpreter start.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_tui.helm.render_worker import HEADER

#: Renders running at once (more wait, within their deadline); workers kept between renders.
MAX_WORKERS = 8
KEEP_IDLE = 2
#: The data segment each worker may use (Go's heap and arenas, Python's).
MEMORY_BYTES = 512 * 1024 * 1024
_ROOT = str(Path(__file__).resolve().parents[2])
WORKER_MODULE = "gitops_tui.helm.render_worker"
#: Seconds to wait for a killed worker to be reaped.
_REAP_SECONDS = 5.0


class RenderStopped(Exception):
    """A render was stopped: ``why`` is "deadline", "cpu", "memory" or "died"; ``detail`` what the worker said."""

    def __init__(self, why: str, detail: str = "") -> None:
        super().__init__(why)
        self.why = why
        self.detail = detail


@dataclass
class Answer:
    """What a worker answered: templates, a Helm error (its type name and message), or a size past the limit."""

    rendered: dict[str, str] | None = None
    error_type: str = ""
    error: str = ""
    too_large: int = 0


class _Worker:
    """One worker process and its pipes; ``token`` is its own (a pool may hand it to the worker's environment)."""

    def __init__(self, memory_bytes: int, module: str = WORKER_MODULE,
                 environment: Callable[[str], dict[str, str]] | None = None) -> None:
        self.token = secrets.token_hex(16)
        env = {"PATH": os.environ.get("PATH", ""), "GOMAXPROCS": "1", "GOTRACEBACK": "none", "LANG": "C.UTF-8",
               "PYTHONPATH": os.pathsep.join([_ROOT, *(p for p in sys.path if p)]),
               **(environment(self.token) if environment is not None else {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-s", "-m", module, str(memory_bytes)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, close_fds=True,
            start_new_session=True)
        self.ready = False
        self.ended = False  # its answers' pipe closed: the process is ending (a limit, or a crash)

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.proc.pid

    def send(self, payload: dict[str, Any]) -> None:
        """Write one request."""
        data = json.dumps(payload).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(HEADER.pack(len(data)) + data)
        self.proc.stdin.flush()

    def receive(self, deadline: float) -> dict[str, Any] | None:
        """One answer, or None when the deadline (monotonic) passed or the worker ended first."""
        head = self._read(HEADER.size, deadline)
        if head is None:
            return None
        body = self._read(HEADER.unpack(head)[0], deadline)
        return None if body is None else json.loads(body)

    def _read(self, size: int, deadline: float) -> bytes | None:
        assert self.proc.stdout is not None
        fd, chunks, got = self.proc.stdout.fileno(), [], 0
        while got < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, min(size - got, 1 << 20))
            if not chunk:
                self.ended = True
                return None
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def alive(self) -> bool:
        """Whether the process still runs (one whose pipe closed is given a moment to end)."""
        if self.ended:
            try:
                self.proc.wait(timeout=_REAP_SECONDS)
            except subprocess.TimeoutExpired:
                return True
        return self.proc.poll() is None

    def stop(self) -> str:
        """Kill the worker, reap it, and return what it wrote on stderr (Go's fatal error, if any)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=_REAP_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=_REAP_SECONDS)
        text = ""
        if self.proc.stderr is not None:
            try:
                os.set_blocking(self.proc.stderr.fileno(), False)
                text = (self.proc.stderr.read(65536) or b"").decode("utf-8", "replace")
            except (OSError, ValueError):
                text = ""
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        return text


class RenderPool:
    """Renders charts in worker processes, at most ``max_workers`` at once; ``render`` is safe from any thread."""

    def __init__(self, *, max_workers: int = MAX_WORKERS, keep_idle: int = KEEP_IDLE,
                 memory_bytes: int = MEMORY_BYTES, module: str = WORKER_MODULE,
                 environment: Callable[[str], dict[str, str]] | None = None) -> None:
        """``module`` is the worker's (render_worker.serve's protocol); ``environment(token)`` adds to its environment."""
        self.module = module
        self.environment = environment
        self.max_workers = max_workers
        self.keep_idle = keep_idle
        self.memory_bytes = memory_bytes
        self._idle: list[_Worker] = []
        self._busy = 0
        self._cond = threading.Condition()
        self._closed = False

    def render(self, request: dict[str, Any], deadline_seconds: float, cpu_seconds: float | None = None) -> Answer:
        """Render ``request`` (render_worker.render's fields) within ``deadline_seconds`` (waiting included), using
        at most ``cpu_seconds`` of CPU (default: the deadline).

        Raises RenderStopped when the deadline passed (the worker is killed), or the worker died (past its CPU
        or memory limit, or otherwise).
        """
        answer = self.ask(request, deadline_seconds, cpu_seconds)
        if "rendered" in answer:
            return Answer(rendered=dict(answer["rendered"]))
        if "too_large" in answer:
            return Answer(too_large=int(answer["too_large"]))
        error = answer.get("error") or {}
        return Answer(error_type=str(error.get("type") or ""), error=str(error.get("message") or ""))

    def ask(self, request: dict[str, Any], deadline_seconds: float, cpu_seconds: float | None = None, *,
            around: Callable[[str], AbstractContextManager[Any]] | None = None) -> dict[str, Any]:
        """The worker's answer to ``request``; RenderStopped as for ``render``. ``around(token)`` is entered while
        the worker holding that token works on the request (the registry pool opens its proxy session there)."""
        deadline = time.monotonic() + deadline_seconds
        worker = self._acquire(deadline)
        answer: dict[str, Any] | None = None
        with (around(worker.token) if around is not None else nullcontext()):
            try:
                if not worker.ready:
                    greeting = worker.receive(deadline)
                    worker.ready = greeting is not None and "ready" in greeting
                if worker.ready:
                    worker.send({**request, "cpu_seconds": max(1.0, cpu_seconds or deadline_seconds)})
                    answer = worker.receive(deadline)
            except (OSError, ValueError):
                answer = None
        if answer is None or "memory" in answer:
            dead = not worker.alive()
            stderr = worker.stop()
            self._release(None)
            raise _stopped(worker.proc.returncode, stderr, dead, answer) from None
        self._release(worker)
        return answer

    def _acquire(self, deadline: float) -> _Worker:
        with self._cond:
            while not self._idle and self._busy >= self.max_workers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RenderStopped("deadline")
                self._cond.wait(left)
            self._busy += 1
            if self._idle:
                return self._idle.pop()
        try:
            return _Worker(self.memory_bytes, self.module, self.environment)
        except OSError as exc:
            self._release(None)
            raise RenderStopped("died", f"cannot start a render process ({type(exc).__name__})") from None

    def _release(self, worker: _Worker | None) -> None:
        extra = None
        with self._cond:
            self._busy -= 1
            if worker is not None:
                if len(self._idle) < self.keep_idle and not self._closed:
                    self._idle.append(worker)
                else:
                    extra = worker
            self._cond.notify()
        if extra is not None:
            extra.stop()

    def workers(self) -> list[int]:
        """The process ids of the idle workers (tests and benchmarks count them)."""
        with self._cond:
            return [w.pid for w in self._idle]

    def close(self) -> None:
        """Stop every idle worker (busy ones are stopped when their render returns)."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()


def _stopped(returncode: int | None, stderr: str, dead: bool, answer: dict[str, Any] | None) -> RenderStopped:
    """Why a worker gave no answer: killed at the deadline, past its CPU or memory limit, or died."""
    if answer is not None and "memory" in answer:
        return RenderStopped("memory")
    if not dead:
        return RenderStopped("deadline")
    if returncode == -signal.SIGXCPU:
        return RenderStopped("cpu")
    if "out of memory" in stderr or "cannot allocate memory" in stderr.lower():
        return RenderStopped("memory")
    return RenderStopped("died", f"exit status {returncode}")


_POOL: RenderPool | None = None
_POOL_LOCK = threading.Lock()


def shared_pool() -> RenderPool:
    """The process's render pool (made on first use, its workers stopped at exit)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = RenderPool()
            atexit.register(_POOL.close)
        return _POOL
