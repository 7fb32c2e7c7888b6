"""The console's exit guarantee: on a signal, a lost terminal or a dead parent, leave within two seconds.

A daemon thread, independent of the UI's event loop (which can be stuck writing to a terminal that is
gone), watches a self-pipe fed by the signal handlers (``signal.set_wakeup_fd``), the terminal's file
descriptors (POLLHUP) and the parent process id. When one fires it runs the leave steps (stop the
embedded reconciler from writing, release the lease), asks the UI to end, and ends the process with
``os._exit`` when the UI has not finished by the deadline.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Signals that end the console (the terminal hanging up, a polite kill, an interrupt).
LEAVE_SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)
#: Seconds from the trigger to the hard exit when the UI has not finished by then.
DEADLINE = 1.2
#: Seconds between checks of the terminal and the parent process.
POLL = 0.2
_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL


class ExitGuard:
    """Watches for the end of the console's terminal and guarantees the process leaves in time."""

    def __init__(self, *, deadline: float = DEADLINE, poll: float = POLL, tty_fds: tuple[int, ...] = (0, 2)) -> None:
        self.deadline = deadline
        """Seconds from the trigger to the hard exit."""
        self.poll = poll
        """Seconds between terminal and parent checks."""
        self.tty_fds = tuple(fd for fd in tty_fds if _isatty(fd))
        """The terminal's descriptors (those that are ttys at start)."""
        self.reason = ""
        """Why the console is leaving ('' while it is not)."""
        self.code = 0
        """Exit code of a hard exit (128 + the signal number for a signal)."""
        self.leaving = threading.Event()
        """Set once a leave was triggered (by a signal, the terminal, the parent or the console itself)."""
        self._steps: list[Callable[[float], object]] = []
        self._lock = threading.Lock()
        self._ask_ui: Callable[[], object] | None = None
        self._left = threading.Event()
        self._ppid = os.getppid()
        self._read_fd = self._write_fd = -1
        self._thread: threading.Thread | None = None

    # -- setup (main thread) ---------------------------------------------------------------
    def install(self) -> None:
        """Install the signal handlers and start the watching thread (call once, from the main thread)."""
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        for signum in LEAVE_SIGNALS:
            signal.signal(signum, _note_signal)
        self._thread = threading.Thread(target=self._watch, name="console exit guard", daemon=True)
        self._thread.start()

    def add_step(self, step: Callable[[float], object]) -> None:
        """Run ``step(seconds_left)`` in the guard thread when leaving (in the order added; at once if left)."""
        with self._lock:
            late = self._left.is_set()
            if not late:
                self._steps.append(step)
        if late:
            self._call(lambda: step(0.5))

    def set_ui(self, ask_to_end: Callable[[], object]) -> None:
        """How to ask the UI to end (must be safe from any thread); asked at once if already leaving."""
        self._ask_ui = ask_to_end
        if self.leaving.is_set():
            self._call(ask_to_end)

    # -- leaving ----------------------------------------------------------------------------
    def trigger(self, reason: str, code: int = 0) -> None:
        """Start leaving (from any thread); the first reason wins."""
        if not self.reason:
            self.reason, self.code = reason, code
        if self._write_fd >= 0:
            try:
                os.write(self._write_fd, b"\0")
            except OSError:
                pass

    def finish(self, timeout: float = DEADLINE) -> None:
        """The UI has ended: run the leave steps (if not done yet) and wait for them, bounded.

        The process should then end by itself; if it has not by the deadline, the guard ends it.
        """
        self.trigger("the console closed")
        if self._thread is None and not self.leaving.is_set():
            self._leave(time.monotonic())
        self._left.wait(timeout)

    # -- the guard thread -------------------------------------------------------------------
    def _watch(self) -> None:
        poller = select.poll()
        for fd in self.tty_fds:
            poller.register(fd, 0)  # POLLHUP, POLLERR and POLLNVAL are always reported
        while not self.reason:
            ready, _, _ = select.select([self._read_fd], [], [], self.poll)
            if ready:
                self._read_signals()
            if not self.reason:
                self._check_terminal(poller)
        triggered = time.monotonic()
        self._leave(triggered)
        time.sleep(max(0.0, self.deadline - (time.monotonic() - triggered)))
        self._hard_exit()

    def _read_signals(self) -> None:
        try:
            data = os.read(self._read_fd, 64)
        except OSError:
            return
        for number in data:  # every signal with a Python handler lands here (SIGWINCH, SIGCONT...): keep ours
            if number in LEAVE_SIGNALS and not self.reason:
                self.reason, self.code = signal.Signals(number).name, 128 + number

    def _check_terminal(self, poller: select.poll) -> None:
        for fd, events in poller.poll(0):
            if events & _GONE:
                self.reason, self.code = f"the terminal went away (fd {fd})", 129
                return
        if os.getppid() != self._ppid:
            self.reason, self.code = "the parent process ended", 129

    def _leave(self, triggered: float) -> None:
        """Ask the UI to end and run the leave steps, within 80% of the deadline; called once."""
        self.leaving.set()
        log.info("leaving: %s", self.reason)
        if self._ask_ui is not None:
            self._call(self._ask_ui)
        with self._lock:
            steps = list(self._steps)
        for step in steps:
            left = self.deadline * 0.8 - (time.monotonic() - triggered)
            self._call(lambda: step(max(0.1, left)))  # noqa: B023 - called at once
        with self._lock:
            self._left.set()
        log.info("leave steps done in %.2fs", time.monotonic() - triggered)

    @staticmethod
    def _call(callback: Callable[[], object]) -> None:
        try:
            callback()
        except Exception:  # noqa: BLE001 - leaving goes on whatever a step does
            log.exception("leave step failed")

    def _hard_exit(self) -> None:
        """The process did not end in time (often: the UI stuck writing to a terminal that is gone)."""
        log.warning("the console did not end within %.1fs of '%s'; ending the process", self.deadline, self.reason)
        for handler in logging.getLogger().handlers:
            try:
                handler.flush()
            except Exception:  # noqa: BLE001
                pass
        os._exit(self.code or 1)


def _note_signal(signum: int, frame: object) -> None:
    """Python-level handler: the wakeup fd already told the guard; nothing else to do here."""


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


