"""Textual's Linux driver, made safe for a terminal that goes away: leaving never blocks on output."""

from __future__ import annotations

import logging
from queue import Empty, Full

from textual.drivers.linux_driver import LinuxDriver

log = logging.getLogger(__name__)

#: Seconds the driver waits for its writer thread when it closes.
CLOSE_WAIT = 0.5


class LeavingSafeDriver(LinuxDriver):
    """Once the console is leaving, or the writer thread died on a closed terminal, output is dropped.

    Textual's writer thread writes the terminal from a bounded queue (30 writes). When the terminal
    is gone its write fails (the thread ends) or blocks (nobody reads the pty): the queue fills and
    every later write, including those of Textual's own shutdown (``disable_input``,
    ``stop_application_mode``, ``close``), blocks forever. Here those writes are dropped instead.
    """

    leaving = False
    """Set (from any thread) when the console leaves: writes no longer wait for the terminal."""

    def write(self, data: str) -> None:
        """Queue ``data`` for the terminal; drop it when leaving and the queue is full, or the writer died."""
        writer = self._writer_thread
        if writer is None:
            return
        if not writer.is_alive():
            return  # the terminal failed: there is nobody to write to
        if not self.leaving:
            writer.write(data)
            return
        try:
            writer._queue.put_nowait(data)
        except Full:
            pass

    def close(self) -> None:
        """Stop the writer thread, waiting at most CLOSE_WAIT seconds."""
        writer = self._writer_thread
        if writer is None:
            return
        try:
            writer._queue.put(None, timeout=CLOSE_WAIT)
        except Full:
            log.info("terminal output stalled; not waiting for it")
            return
        writer.join(CLOSE_WAIT)

    def abandon_output(self) -> None:
        """Leaving (any thread): later writes never wait, and writes blocked on a full queue are released."""
        self.leaving = True
        writer = self._writer_thread
        if writer is None:
            return
        try:
            while True:
                writer._queue.get_nowait()
        except Empty:
            pass
