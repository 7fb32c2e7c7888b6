"""Run git so that neither it nor what it starts (ssh, remote helpers) outlives the reconciler.

Each git runs under a small ``sh`` guard that leads a process group of its own. The guard gets SIGTERM
when the reconciler dies, even by ``kill -9`` (Linux ``PR_SET_PDEATHSIG``, set between fork and exec),
and then kills its whole group: git, ssh and any helper. A timeout kills the group the same way.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import git

_PR_SET_PDEATHSIG = 1
#: Runs "$@" in the background and kills the whole group when told to stop (or when the reconciler dies).
_GUARD = 'trap "kill -KILL 0" TERM HUP INT; "$@" & child=$!; wait "$child"'
_LIBC: Any = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with(parent: int) -> Callable[[], None]:
    """A preexec function: SIGTERM this child when ``parent`` dies (and give up if it already did)."""

    def preexec() -> None:
        """Runs in the child between fork and exec."""
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


def run_git(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float,
            stdout: IO[bytes] | None = None) -> str:
    """Run ``git ARGS`` in ``cwd`` with ``env`` over this process's environment; return its output (or write it
    to ``stdout``).

    Raises git.GitCommandError (status -9 and a "Timeout:" stderr when ``timeout`` passed).
    """
    command = ["sh", "-c", _GUARD, "sh", "git", *args]
    process = subprocess.Popen(  # noqa: S603 - fixed command, arguments never pass through a shell parser
        command, cwd=str(cwd), env={**os.environ, **env}, stdin=subprocess.DEVNULL,
        stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True, preexec_fn=_die_with(os.getpid()),  # noqa: PLW1509 - only prctl and getppid
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        _, err = process.communicate()
        raise git.GitCommandError(["git", *args], -9, (err or b"") + b"\nTimeout: git was stopped") from None
    except BaseException:
        kill_group(process)
        process.wait()
        raise
    if process.returncode != 0:
        raise git.GitCommandError(["git", *args], process.returncode, err or b"")
    return (out or b"").decode("utf-8", errors="replace").strip()


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the process group ``process`` leads (git and everything it started)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
