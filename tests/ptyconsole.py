"""A process on a real pseudo-terminal: the bytes it draws are read (or not) by a background thread."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence

from tests.terminal_output import TimedOutput


class PtyProcess:
    """Runs ``argv`` with a pty as its terminal (stdin, stdout, stderr), in a new session.

    The session has no controlling terminal, so closing the pty sends no SIGHUP: the process
    sees only the hang-up on its descriptors. ``reading`` can be cleared to stop reading the
    terminal (it fills up, as behind a dead SSH link).
    """

    def __init__(self, argv: Sequence[str], env: dict[str, str], *, size: tuple[int, int] = (120, 36),
                 cwd: str | None = None) -> None:
        self.started = time.monotonic()
        """time.monotonic() just before the process was spawned."""
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        self._received = TimedOutput()
        self.output = self._received.data
        """Every byte drawn so far."""
        self.reading = threading.Event()
        """Set while the terminal is read; clear it to let the output back up."""
        self.reading.set()
        self.proc = subprocess.Popen(list(argv), stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="pty reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._closed:
            if not self.reading.wait(0.05):
                continue
            try:
                # Never block in read(): a descriptor closed while another thread reads it stays open
                # until that read returns, and the process would never see its terminal go away.
                if not select.select([self.master], [], [], 0.05)[0]:
                    continue
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self._received.add(data, time.monotonic())

    @property
    def first_byte_at(self) -> float | None:
        """time.monotonic() when the first byte was drawn (None before)."""
        return self._received.first_at

    def seen_at(self, text: str) -> float | None:
        """time.monotonic() when ``text`` was first complete in the output (None when not yet)."""
        return self._received.seen_at(text)

    def send(self, data: bytes) -> None:
        """Type ``data`` on the terminal."""
        os.write(self.master, data)

    def close_terminal(self) -> None:
        """Close the terminal's master side: the process's descriptors hang up."""
        if not self._closed:
            self._closed = True
            self._reader.join(timeout=5)  # it leaves within 0.05 s: then the close is the last reference
            os.close(self.master)

    def end(self) -> None:
        """Kill the process if it still runs and close the terminal (cleanup)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.close_terminal()
