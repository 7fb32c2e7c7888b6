"""The console always leaves: killed over SSH at any moment, hung up, orphaned, or with a terminal that no longer reads.

Each time, no process is left and the lease is released (not left to lapse); a console killed
outright (SIGKILL) while leading is replaced by another console within the lease duration.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from gitops_tui.api.formats import parse_time
from gitops_tui.api.shards import shard_lease_name
from gitops_tui.kube.client import json_request
from gitops_tui.kube.lease import DEFAULT_LEASE_DURATION, LEASE_NAMESPACE
from tests.ptyconsole import PtyProcess
from tests.sshkit import NEEDS_SSH, REPO_ROOT, Tmux, console_command, console_pids, running_sshd, ssh_console_command
from tests.waiting import wait_until

#: The console's embedded reconciler is one member of the shard fleet: shard 0's Lease stands for its lease here.
LEASE_PATH = f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases/{shard_lease_name(0)}"
#: The moments the terminal is killed at, and how many times each.
MOMENTS = ("starting", "first paint", "dialog open", "worker running")
#: How the terminal goes away, in turn: the SSH session's tmux is killed, the SSH client is killed
#: (a link dropping), the console's own tmux session is killed (no SSH in between).
HOW = ("tmux kill-session over ssh", "SIGKILL to ssh", "tmux kill-session")
KILLS_PER_MOMENT = 20
#: Consoles killed at the same time (each in its own tmux session), to keep the wall time reasonable.
PARALLEL = 4
#: Seconds a console may take to be gone after its terminal went away (the guarantee is 2 s; this bounds the wait).
GONE_WITHIN = 15


def _lease(box: Any) -> dict[str, Any]:
    try:
        return json_request(box.api_client(), "GET", LEASE_PATH).get("spec") or {}
    except ApiException as exc:
        if exc.status == 404:
            return {}
        raise


def _holder(box: Any) -> str:
    return str(_lease(box).get("holderIdentity") or "")


def _identity(pid: int) -> str:
    """The lease identity of the console with this pid (LiveBackend.identity)."""
    return f"console@{socket.gethostname()}/{pid}"


def _console_pid(marker: str) -> int | None:
    """The console's own process among those carrying the marker (not its git or kubectl children)."""
    for pid in console_pids(marker):
        try:
            if b"gitops_tui" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    return None


def _needs_ssh(test: Any) -> Any:
    for mark in NEEDS_SSH:
        test = mark(test)
    return test


# -- over SSH, killed at every moment -----------------------------------------------------------


@dataclass
class Kill:
    """What one kill of the SSH client showed."""

    moment: str
    how: str
    pid: int | None
    held_lease: bool
    gone_after: float | None
    holder_after: str
    left: list[int]


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One private sshd for the module."""
    with running_sshd(tmp_path_factory.mktemp("sshd") / "ssh") as server:
        yield server


def _kill_once(tmux: Tmux, sshd: dict[str, Any], box: Any, moment: str, index: int) -> Kill:
    session = f"k{index}"
    marker = f"GITOPS_TUI_TEST_MARK={uuid.uuid4().hex}"
    how = HOW[index % len(HOW)]
    command = console_command(box.home, marker) if how == "tmux kill-session" else ssh_console_command(sshd, box.home, marker)
    tmux.run("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command)
    pid = None
    try:
        pid = wait_until(lambda: _console_pid(marker), timeout=60, message="the console process over SSH")
        if moment == "starting":
            time.sleep((index % 5) * 0.05)  # when to kill, not a wait for the app: within its first 0.2 s
        elif moment == "first paint":  # the first bytes of the first frame: the terminal switched screens
            wait_until(lambda: tmux.run("display-message", "-p", "-t", session, "#{alternate_on}").stdout.strip() == "1",
                       timeout=60, interval=0.005, message="the first frame")
        else:
            tmux.wait_for("✓dev", "the demo project's row", timeout=90, session=session)
            if moment == "dialog open":
                tmux.keys("s", session=session)
                tmux.wait_for("No write reaches the chosen clusters", "the suspend dialog", session=session)
            else:  # leading first (when the others let it within 30 s): its embedded reconciler runs too
                try:
                    wait_until(lambda: _holder(box) == _identity(pid), timeout=30, message="the lease")
                except AssertionError:
                    pass
                tmux.keys("2", session=session)
                tmux.wait_for("podinfo", "the demo source", session=session)
                tmux.keys("C-d", session=session)  # the delete preview runs in a worker (nothing is deleted)
        held = _holder(box) == _identity(pid)
        killed_at = time.monotonic()
        if how == "SIGKILL to ssh":
            client = int(tmux.run("display-message", "-p", "-t", session, "#{pane_pid}").stdout.strip())
            os.kill(client, signal.SIGKILL)
        else:
            tmux.run("kill-session", "-t", session)
        gone_after: float | None = None
        try:
            wait_until(lambda: not console_pids(marker), timeout=GONE_WITHIN, interval=0.02, message="the console to end")
            gone_after = time.monotonic() - killed_at
        except AssertionError:
            pass
        return Kill(moment, how, pid, held, gone_after, _holder(box), console_pids(marker))
    finally:
        tmux.run("kill-session", "-t", session, check=False)
        for leftover in console_pids(marker):  # never leave one behind, even when the test fails
            try:
                os.kill(leftover, signal.SIGKILL)
            except ProcessLookupError:
                pass


@_needs_ssh
@pytest.mark.timeout(1200)
def test_killed_over_ssh_at_every_moment_nothing_is_left(sshd: dict[str, Any], demo_sandbox: Any,
                                                         tmp_path: Path) -> None:
    """Kill the terminal 20 times at each moment (starting, first paint, a dialog open, a worker running).

    The point of the test, hence long (a few minutes on 2 cores): 80 consoles, 4 at a time, two
    thirds of them over SSH. Every console is gone after its terminal went away (0 processes left)
    and none of them still holds the lease afterwards: it was released, not left to lapse.
    """
    tmux = Tmux(tmp_path / "tmux.sock")
    tmux.run("new-session", "-d", "-s", "keep")  # the server lives while sessions come and go
    jobs = [(moment, index) for index in range(KILLS_PER_MOMENT) for moment in MOMENTS]
    try:
        with ThreadPoolExecutor(PARALLEL) as pool:
            kills = list(pool.map(lambda job: _kill_once(tmux, sshd, demo_sandbox, job[0], jobs.index(job)), jobs))
    finally:
        tmux.run("kill-server", check=False)
    left = [k for k in kills if k.left or k.gone_after is None]
    still_held = [k for k in kills if k.pid is not None and k.holder_after == _identity(k.pid)]
    slowest = max((k.gone_after or 0.0) for k in kills)
    summary = (f"{len(kills)} kills, {sum(len(k.left) for k in kills)} processes left, "
               f"{sum(k.held_lease for k in kills)} while leading, slowest exit {slowest:.2f}s")
    print(summary)
    assert len(kills) == len(MOMENTS) * KILLS_PER_MOMENT
    assert not left, f"{summary}; left: {left}"
    assert not still_held, f"{summary}; lease still held by a dead console: {still_held}"
    assert any(k.held_lease for k in kills), "no killed console held the lease: the lease check proved nothing"


# -- on a bare pty: hang-up, lost terminal, dead parent, a terminal that no longer reads ----------


def _console_env(box: Any) -> dict[str, str]:
    return {**os.environ, "GITOPS_TUI_HOME": str(box.home), "TEXTUAL_COLOR_SYSTEM": "standard"}


def _leading_console(box: Any, argv: list[str] | None = None) -> tuple[PtyProcess, int]:
    """A console on a pty that holds the lease; return it and the console's pid."""
    console = PtyProcess(argv or [sys.executable, "-m", "gitops_tui"], _console_env(box), cwd=str(REPO_ROOT))
    try:
        pid = console.proc.pid if argv is None else wait_until(lambda: _child_of(console.proc.pid), timeout=30,
                                                                 message="the console under its parent")
        wait_until(lambda: _holder(box) == _identity(pid), timeout=60, message="the console to hold the lease")
    except AssertionError:
        console.end()
        raise
    return console, pid


def _child_of(pid: int) -> int | None:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


@pytest.mark.timeout(120)
def test_hangup_when_the_terminal_no_longer_reads(demo_sandbox: Any) -> None:
    """SIGHUP while the terminal has stopped reading (its buffer full, Textual's writer blocked): gone, lease released."""
    console, pid = _leading_console(demo_sandbox)
    try:
        console.reading.clear()
        def blocked() -> bool:
            console.send(b"\t")  # every tab redraws a whole pane: the terminal's buffer and Textual's queue fill up
            return _blocked_writing(pid)

        wait_until(blocked, timeout=60, interval=0.1, message="the console to catch up and block writing its terminal")
        os.kill(pid, signal.SIGHUP)
        wait_until(lambda: console.proc.poll() is not None, timeout=GONE_WITHIN, message="the console to end")
        assert _holder(demo_sandbox) != _identity(pid), "the lease should be released, not left to lapse"
    finally:
        console.end()


def _blocked_writing(pid: int) -> bool:
    """True when the UI thread of ``pid`` idles and another thread sleeps in a tty write (nobody reads it)."""
    waits = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            waits[int(task.name)] = (task / "wchan").read_text()
        except OSError:
            continue
    writing = any(w in ("n_tty_write", "wait_woken") for tid, w in waits.items() if tid != pid)
    # The UI thread either idles in its event loop or waits on the writer's full queue (on a busy machine).
    return writing and waits.get(pid, "").startswith(("do_epoll_wait", "ep_poll", "futex"))


@pytest.mark.timeout(120)
def test_closed_terminal_without_a_signal(demo_sandbox: Any) -> None:
    """The terminal closes but no SIGHUP comes (no controlling tty): the console sees it, leaves, releases."""
    console, pid = _leading_console(demo_sandbox)
    try:
        console.close_terminal()
        wait_until(lambda: console.proc.poll() is not None, timeout=GONE_WITHIN, message="the console to end")
        assert _holder(demo_sandbox) != _identity(pid)
    finally:
        console.end()


@pytest.mark.timeout(120)
def test_dead_parent(demo_sandbox: Any) -> None:
    """The process that started the console dies (SIGKILL) and the terminal stays: the console leaves."""
    parent_argv = ["sh", "-c", f"{sys.executable} -m gitops_tui; exit 0"]
    console, pid = _leading_console(demo_sandbox, parent_argv)
    try:
        os.kill(console.proc.pid, signal.SIGKILL)
        console.proc.wait(timeout=10)
        wait_until(lambda: _gone(pid), timeout=GONE_WITHIN, message="the orphaned console to end")
        assert _holder(demo_sandbox) != _identity(pid)
    finally:
        console.end()
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.timeout(120)
def test_sigterm_releases_the_lease(demo_sandbox: Any) -> None:
    """SIGTERM (a polite kill): the console leaves and hands the lease back at once."""
    console, pid = _leading_console(demo_sandbox)
    try:
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: console.proc.poll() is not None, timeout=GONE_WITHIN, message="the console to end")
        assert console.proc.returncode == 128 + signal.SIGTERM
        assert _holder(demo_sandbox) != _identity(pid)
    finally:
        console.end()


@pytest.mark.timeout(120)
def test_sigkilled_leader_is_replaced_within_the_lease_duration(demo_sandbox: Any) -> None:
    """A leading console killed outright (it cannot release) is replaced by another console within the lease duration.

    Waits for the lease to lapse: about 15 s.
    """
    first, first_pid = _leading_console(demo_sandbox)
    second = None
    try:
        last_renewal = parse_time(str(_lease(demo_sandbox)["renewTime"]))
        os.kill(first_pid, signal.SIGKILL)
        first.proc.wait(timeout=10)
        second = PtyProcess([sys.executable, "-m", "gitops_tui"], _console_env(demo_sandbox), cwd=str(REPO_ROOT))
        wait_until(lambda: _holder(demo_sandbox) == _identity(second.proc.pid), timeout=DEFAULT_LEASE_DURATION + 30,
                   message="the second console to take the lease")
        spec = _lease(demo_sandbox)
        taken = parse_time(str(spec["acquireTime"]))
        assert last_renewal is not None and taken is not None
        # The killed holder renewed at most a retry period (2 s) before dying.
        assert (taken - last_renewal).total_seconds() <= DEFAULT_LEASE_DURATION + 2 + 1
    finally:
        first.end()
        if second is not None:
            os.kill(second.proc.pid, signal.SIGTERM)
            second.proc.wait(timeout=GONE_WITHIN)
            second.end()
