"""Run git so that neither it nor what it starts (ssh, remote helpers) outlives the reconciler.

Every git joins the process group of a small ``sh`` guard started once per process (the child joins
before it executes git, so there is no window). The guard reads a pipe whose only writer is this
process: when this process ends, even by ``kill -9``, the guard reads end-of-file and kills its
whole group, every git and ssh included. A timeout kills that one git and its descendants.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import IO, Any

import git

#: Waits for end-of-file on its input (this process gone), then kills its own process group.
_GUARD = 'while read -r _; do :; done; kill -KILL 0'


class _Guard:
    """The guard process of this process (started on first use, restarted if it died)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._owner = 0

    def group(self) -> int:
        """The process group every git must join (the guard's)."""
        with self._lock:
            if self._process is None or self._process.poll() is not None or self._owner != os.getpid():
                self._process = subprocess.Popen(["sh", "-c", _GUARD], stdin=subprocess.PIPE,  # noqa: S603, S607
                                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                                 process_group=0)
                self._owner = os.getpid()
            return self._process.pid

    def forget(self) -> None:
        """Start a new guard next time (the group could not be joined)."""
        with self._lock:
            self._process = None


_guard = _Guard()


def spawn(command: list[str], **options: Any) -> subprocess.Popen:
    """Start ``command`` in the guard's process group (it dies with this process); Popen's ``options``."""
    for attempt in range(2):
        try:
            return subprocess.Popen(command, process_group=_guard.group(), **options)  # noqa: S603
        except (OSError, subprocess.SubprocessError):
            if attempt:
                raise
            _guard.forget()
    raise AssertionError("unreachable")


def run_git(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float,
            stdout: IO[bytes] | None = None) -> str:
    """Run ``git ARGS`` in ``cwd`` with ``env`` over this process's environment; return its output (or write it
    to ``stdout``).

    Raises git.GitCommandError (status -9 and a "Timeout:" stderr when ``timeout`` passed).
    """
    process = spawn(["git", *args], cwd=str(cwd), env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                     stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_tree(process.pid)
        _, err = process.communicate()
        raise git.GitCommandError(["git", *args], -9, (err or b"") + b"\nTimeout: git was stopped") from None
    except BaseException:
        kill_tree(process.pid)
        process.wait()
        raise
    if process.returncode != 0:
        raise git.GitCommandError(["git", *args], process.returncode, err or b"")
    return (out or b"").decode("utf-8", errors="replace").strip()


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and every process descended from it (git's ssh and remote helpers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    doomed, queue = [], [pid]
    while queue:
        current = queue.pop()
        doomed.append(current)
        queue.extend(children.get(current, []))
    for victim in doomed:
        try:
            os.kill(victim, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
