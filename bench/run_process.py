"""A `gitops-tui run` process measured from outside: its CPU (own and its children's), memory, the git it runs.

Benchmarks start the reconciler as the user does (``gitops-tui run``) and read the kernel's figures of the process:
``/proc/<pid>/stat`` (user and system CPU of the process and of its waited-for children: every git), and
``/proc/<pid>/status`` (RSS). Git's own trace2 (``GIT_TRACE2_EVENT`` naming a directory: one file per git process,
its command line inside) counts the git processes and which commands they ran, without touching the reconciler.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children (git), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def own_cpu_seconds(pid: int) -> float:
    """User + system CPU of the process alone (its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12)) / TICKS


def memory_mib(pid: int) -> tuple[float, float]:
    """(RSS now, peak RSS) in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return round(values.get("VmRSS", 0.0), 1), round(values.get("VmHWM", 0.0), 1)


class RunProcess:
    """``gitops-tui run`` against a private sandbox home, with git traced into ``home/git-trace``."""

    def __init__(self, home: Path, kubeconfig: Path, *, local_repos: list[Path], args: list[str] | None = None,
                 name: str = "run", trace_git: bool = True) -> None:
        """Prepare (start() runs it); ``args`` are more `run` flags (e.g. ``--webhook-listen``)."""
        self.home = home
        self.trace = home / f"git-trace-{name}"
        self.log = home / f"{name}.log"
        self.env = {**os.environ, "GITOPS_TUI_HOME": str(home), "KUBECONFIG": str(kubeconfig)}
        if trace_git:
            self.trace.mkdir(parents=True, exist_ok=True)
            self.env["GIT_TRACE2_EVENT"] = str(self.trace)
        self.command = [sys.executable, "-m", "gitops_tui", "run", "--log-level", "warning", *(args or [])]
        for root in local_repos:
            self.command += ["--allow-local-repos", str(root)]
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        """The process id (after start())."""
        assert self.process is not None
        return self.process.pid

    def start(self) -> RunProcess:
        """Start the process."""
        self.process = subprocess.Popen(self.command, env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=self.log.open("w"))
        return self

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process is not None and self.process.poll() is None

    def cpu(self) -> float:
        """CPU seconds so far, its own and its git children's."""
        return cpu_seconds(self.pid)

    def own_cpu(self) -> float:
        """CPU seconds so far of the process alone."""
        return own_cpu_seconds(self.pid)

    def memory(self) -> tuple[float, float]:
        """(RSS now, peak RSS) in MiB."""
        return memory_mib(self.pid)

    def git_commands(self) -> Counter[str]:
        """How many git processes ran, by command (``ls-remote``, ``git-upload-pack``, ``fetch``, ...)."""
        found: Counter[str] = Counter()
        for path in self.trace.iterdir() if self.trace.is_dir() else ():
            try:
                with path.open() as handle:
                    for line in handle:
                        event = json.loads(line)
                        if event.get("event") == "start":
                            argv = event.get("argv") or ["?"]
                            found[argv[1] if argv[0] == "git" and len(argv) > 1 else os.path.basename(argv[0])] += 1
                            break
            except (OSError, ValueError):
                continue
        return found

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
