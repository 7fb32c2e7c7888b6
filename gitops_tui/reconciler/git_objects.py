"""Object reads of a cached repository through one long-lived ``git cat-file --batch-check``, kept while in use.

Measured (bench/bench_git.py): a read through a running batch costs about 0.01 ms of CPU, two short git commands
(``cat-file -e`` then ``rev-parse``) about 3 ms; a batch process holds about 4 MiB. So each cached repository gets
one batch process when it is read, closed after ``IDLE_SECONDS`` without a read: a burst (a new commit, the start)
reads through it, and an idle reconciler keeps none (an unmoved ref reads nothing at all: reconciler/source.py
remembers what it resolved). The batch joins the git guard's process group (git_process.py): it dies with the
reconciler, even by kill -9. A batch that breaks is replaced at the next read.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

from gitops_tui.reconciler.git_process import kill_tree, spawn

#: Seconds a batch process is kept without a read.
IDLE_SECONDS = 60.0
#: git's empty tree: a commit whose tree is this one removed every file.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class ObjectReader:
    """``git cat-file --batch-check`` of one repository: what a revision names, without a process per question."""

    def __init__(self, git_dir: Path, env: dict[str, str]) -> None:
        """Read ``git_dir`` (started on the first read)."""
        self.git_dir = git_dir
        self.env = env
        self.used = time.monotonic()
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def resolve(self, revision: str, kind: str = "commit") -> str | None:
        """The id of the ``kind`` object ``revision`` names (``sha^{commit}``, ``sha^{tree}``), None when absent."""
        line = f"{revision}^{{{kind}}}\n".encode()
        if b"\n" in line[:-1] or b" " in line:
            return None
        with self._lock:
            self.used = time.monotonic()
            for attempt in range(2):
                process = self._running()
                try:
                    assert process.stdin is not None and process.stdout is not None
                    process.stdin.write(line)
                    process.stdin.flush()
                    answer = process.stdout.readline().decode("ascii", errors="replace").split()
                except (OSError, ValueError, AssertionError):
                    self._close_locked()
                    if attempt:
                        raise
                    continue
                if not answer:  # the batch ended: start another
                    self._close_locked()
                    if attempt:
                        return None
                    continue
                return answer[0] if len(answer) == 3 and answer[1] == kind else None
        return None

    def running(self) -> bool:
        """Whether its batch process runs now."""
        process = self._process
        return process is not None and process.poll() is None

    def idle_for(self) -> float:
        """Seconds since the last read."""
        return time.monotonic() - self.used

    def close(self) -> None:
        """End the batch process (the next read starts another)."""
        with self._lock:
            self._close_locked()

    def _running(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            self._process = spawn(["git", "cat-file", "--batch-check"], cwd=self.git_dir, env=self.env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return self._process

    def _close_locked(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            kill_tree(process.pid)
            process.wait()
        finally:
            if process.stdout is not None:
                process.stdout.close()


class ObjectReaders:
    """One ObjectReader per cached repository; those idle longer than ``idle`` seconds are closed as others read."""

    def __init__(self, idle: float = IDLE_SECONDS) -> None:
        """Keep readers until ``idle`` seconds without a read."""
        self.idle = idle
        self._readers: dict[Path, ObjectReader] = {}
        self._lock = threading.Lock()
        self._swept = time.monotonic()

    def get(self, git_dir: Path, env: dict[str, str]) -> ObjectReader:
        """The reader of ``git_dir`` (environment ``env`` for a new batch)."""
        with self._lock:
            reader = self._readers.get(git_dir)
            if reader is None:
                reader = self._readers[git_dir] = ObjectReader(git_dir, env)
        self.sweep()
        return reader

    def sweep(self) -> None:
        """Close the readers idle longer than ``idle`` seconds (at most once every ``idle / 2`` seconds)."""
        now = time.monotonic()
        with self._lock:
            if now - self._swept < self.idle / 2:
                return
            self._swept = now
            idle = [r for r in self._readers.values() if r.idle_for() >= self.idle]
        for reader in idle:
            reader.close()

    def running(self) -> int:
        """How many batch processes run now (for tests)."""
        with self._lock:
            readers = list(self._readers.values())
        return sum(1 for r in readers if r.running())

    def close(self) -> None:
        """End every batch process."""
        with self._lock:
            readers = list(self._readers.values())
        for reader in readers:
            reader.close()
