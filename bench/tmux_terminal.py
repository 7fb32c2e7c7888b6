"""A process in a real terminal emulator (a tmux pane), watched from outside through tmux's control mode.

tmux parses everything the app writes, answers its queries as a terminal does, and reports each write
to its control client as an ``%output`` line; the watcher timestamps those lines as they arrive, so a
mark is "seen" once tmux has taken it into its screen. No polling: one control connection streams
every write. The interface matches ``tests.ptyconsole.PtyProcess`` where the console benchmark uses it, and
both keep what arrived in ``tests.terminal_output.TimedOutput`` (the bench imports the tests' helpers, as
bench/console_live.py and bench/bench_idle.py do).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import threading
import time
from collections.abc import Sequence

from tests.terminal_output import TimedOutput

_OCTAL = re.compile(rb"\\([0-7]{3})")


def _unescape(data: bytes) -> bytes:
    """Undo control mode's escaping (bytes below 32 and the backslash are written as \\ooo)."""
    return _OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), data)


class TmuxTerminal:
    """Runs ``argv`` in a new tmux server (its own socket) in a pane of ``size``; ``proc`` is the app's process."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], *, size: tuple[int, int] = (120, 36),
                 cwd: str | None = None) -> None:
        self.socket = f"bench-{os.getpid()}-{time.monotonic_ns()}"
        self._received = TimedOutput()
        self.output = self._received.data
        """Every byte the app wrote, as tmux reported it."""
        command = " ".join(shlex.quote(part) for part in argv)
        if cwd:
            command = f"cd {shlex.quote(cwd)} && exec {command}"
        else:
            command = f"exec {command}"
        self.started = time.monotonic()
        """time.monotonic() just before tmux (and through it the app) was started."""
        self._client = subprocess.Popen(
            ["tmux", "-L", self.socket, "-f", "/dev/null", "-C", "new-session", "-x", str(size[0]), "-y",
             str(size[1]), "-s", "bench", command],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self._reader = threading.Thread(target=self._read, name="tmux control reader", daemon=True)
        self._reader.start()
        self.proc = _PaneProcess(self._pane_pid())

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30,
                              check=False).stdout

    def _pane_pid(self) -> int:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = self._tmux("list-panes", "-a", "-F", "#{pane_pid}").strip()
            if found.isdigit():
                return int(found)
            time.sleep(0.005)
        raise RuntimeError("tmux did not start the app")

    def _read(self) -> None:
        assert self._client.stdout is not None
        for line in self._client.stdout:
            if not line.startswith(b"%output "):
                continue
            now = time.monotonic()
            self._received.add(_unescape(line.rstrip(b"\n").split(b" ", 2)[2]), now)

    def seen_at(self, text: str) -> float | None:
        """time.monotonic() when ``text`` was first complete in what tmux received (None when not yet)."""
        return self._received.seen_at(text)

    def end(self) -> None:
        """Stop the tmux server (and with it whatever still runs in the pane)."""
        self._tmux("kill-server")
        try:
            self._client.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._client.kill()
            self._client.wait(timeout=10)
        folder = os.environ.get("TMUX_TMPDIR", "/tmp")
        try:  # the server's socket file, which a killed server leaves behind
            os.unlink(os.path.join(folder, f"tmux-{os.getuid()}", self.socket))
        except OSError:
            pass


class _PaneProcess:
    """The app in the pane, by pid: what the benchmark asks of a subprocess (signal, wait, poll)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        """None while the process lives."""
        return None if os.path.exists(f"/proc/{self.pid}") else 0

    def send_signal(self, signum: int) -> None:
        """Signal the app, if it still runs."""
        try:
            os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def wait(self, timeout: float) -> int:
        """Wait (bounded) for the app to end; raises subprocess.TimeoutExpired as Popen.wait does."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return 0
