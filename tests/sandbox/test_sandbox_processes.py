"""The sandbox serves each cluster from a process of its own: who serves what, deaths noticed, nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.sandbox import manager
from gitops_tui.sandbox.layout import Layout, sandbox_processes
from tests.waiting import wait_until


class Home:
    """A sandbox data directory driven through the real CLI (`python -m gitops_tui sandbox ...`)."""

    def __init__(self, home: Path, owner: int | None = None) -> None:
        self.home = home
        self.env = dict(os.environ, GITOPS_TUI_HOME=str(home), GITOPS_TUI_NO_DEMO="1")
        if owner is not None:
            self.env[manager.OWNER_PID_ENV] = str(owner)
        self.kubeconfig = home / "sandbox" / "kubeconfig"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run the CLI; fail the test on a non-zero exit when ``check``."""
        proc = subprocess.run([sys.executable, "-m", "gitops_tui", *args], capture_output=True, text=True,
                              env=self.env, timeout=180, check=False)
        if check:
            assert proc.returncode == 0, f"{args} -> {proc.returncode}: {proc.stderr}"
        return proc

    def status(self) -> dict[str, Any]:
        """`sandbox status -o json`."""
        return json.loads(self.cli("sandbox", "status", "-o", "json", check=False).stdout)

    def cluster(self, name: str) -> dict[str, Any]:
        """One cluster's entry of the status."""
        return next(c for c in self.status()["clusters"] if c["name"] == name)

    def kubectl(self, *args: str) -> subprocess.CompletedProcess:
        """Real kubectl on the dev context."""
        proc = subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), "--context", "dev", *args],
                              capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    """A sandbox of management and dev, stopped after the test."""
    box = Home(tmp_path / "data")
    box.cli("sandbox", "up", "--clusters", "dev")
    yield box
    manager.down(home=box.home)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _listening_inode(port: int) -> str:
    """The inode of the socket listening on 127.0.0.1:``port`` (from /proc/net/tcp)."""
    wanted = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted and fields[3] == "0A":  # LISTEN
            return fields[9]
    raise AssertionError(f"nothing listens on port {port}")


def _holds_socket(pid: int, inode: str) -> bool:
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) == f"socket:[{inode}]":
                return True
        except OSError:
            continue
    return False


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_each_cluster_is_served_by_a_process_of_its_own(home: Home) -> None:
    status = home.status()
    daemon = status["pid"]
    pids = {c["name"]: c["pid"] for c in status["clusters"]}
    assert set(pids) == {"management", "dev"}
    assert len(set(pids.values())) == 2 and daemon not in pids.values()
    for cluster in status["clusters"]:
        assert cluster["process"] == "running" and cluster["up"] and cluster["restarts"] == 0
        assert _parent(cluster["pid"]) == daemon  # forked by the daemon
        inode = _listening_inode(_port(cluster["url"]))
        assert _holds_socket(cluster["pid"], inode), f"{cluster['name']}'s port is held by its own process"
        assert not _holds_socket(daemon, inode)
    table = home.cli("sandbox", "status").stdout
    assert f"dev         up      {pids['dev']}" in table


def test_a_stalled_cluster_does_not_hold_up_another(home: Home) -> None:
    """A request that dev cannot answer (its process frozen mid-request) leaves management answering at once."""
    dev, management = home.cluster("dev"), home.cluster("management")
    os.kill(dev["pid"], signal.SIGSTOP)
    stalled = subprocess.Popen(["kubectl", "--kubeconfig", str(home.kubeconfig), "--context", "dev",
                                "get", "configmaps", "-A", "--request-timeout=120s"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: _connected_to(stalled.pid, _port(dev["url"])), timeout=30,
                   message="kubectl's request to dev is in flight")
        for _ in range(3):  # served, several times over, while dev's request waits
            out = subprocess.run(["kubectl", "--kubeconfig", str(home.kubeconfig), "--context", "management",
                                  "get", "namespace", "default", "-o", "name"],
                                 capture_output=True, text=True, timeout=60, check=False)
            assert out.returncode == 0 and out.stdout.strip() == "namespace/default", out.stderr
        assert stalled.poll() is None  # dev's request is still waiting: nothing answered it
    finally:
        os.kill(dev["pid"], signal.SIGCONT)
    out, err = stalled.communicate(timeout=120)
    assert stalled.returncode == 0, err
    assert "kube-root-ca.crt" in out  # dev answered once it ran again
    assert home.cluster("management")["pid"] == management["pid"]


def _connected_to(pid: int, port: int) -> bool:
    """True when process ``pid`` holds an established TCP connection to 127.0.0.1:``port``."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    wanted = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[2] == wanted and fields[3] == "01" and fields[9] in inodes:  # ESTABLISHED, held by pid
            return True
    return False


def test_a_killed_cluster_process_is_noticed_said_and_restarted_on_its_port(home: Home) -> None:
    home.kubectl("create", "configmap", "kept", "--from-literal=a=1")
    before = home.status()
    dev = next(c for c in before["clusters"] if c["name"] == "dev")
    management = next(c for c in before["clusters"] if c["name"] == "management")

    os.kill(dev["pid"], signal.SIGKILL)
    back = wait_until(lambda: (c := home.cluster("dev"))["restarts"] == 1 and c["up"] and c["pid"] and c,
                      timeout=60, message="dev restarted")
    assert back["pid"] != dev["pid"] and back["url"] == dev["url"] and back["process"] == "running"
    assert back["last_pid"] == dev["pid"] and back["last_exit"] == "was killed by SIGKILL" and back["last_exit_at"]
    table = home.cli("sandbox", "status").stdout
    assert f"restarted once: its process {dev['pid']} was killed by SIGKILL at " in table
    assert home.cluster("management")["pid"] == management["pid"]  # the others are untouched
    assert json.loads(home.kubectl("get", "configmap", "kept", "-o", "json").stdout)["data"] == {"a": "1"}
    # The daemon wrote it in its log too.
    log = (home.home / "sandbox" / "daemon.log").read_text()
    assert f"cluster dev (pid {dev['pid']}) was killed by SIGKILL; restarting it" in log


def test_a_restart_that_cannot_have_its_port_says_so_and_retries(home: Home) -> None:
    dev = home.cluster("dev")
    daemon = home.status()["pid"]
    os.kill(daemon, signal.SIGSTOP)  # hold the daemon while the port is taken from under it
    blocker = socket.socket()
    try:
        os.kill(dev["pid"], signal.SIGKILL)
        wait_until(lambda: not Path(f"/proc/{dev['pid']}").exists() or "Z" in Path(
            f"/proc/{dev['pid']}/stat").read_text().rsplit(")", 1)[1].split()[0], timeout=10, message="dev gone")
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

        def take_port() -> bool:
            try:
                blocker.bind(("127.0.0.1", _port(dev["url"])))
            except OSError:  # the killed process's listening socket is not released at the same instant
                return False
            return True

        wait_until(take_port, timeout=20, message="dev's port free to take")
        blocker.listen(1)
        os.kill(daemon, signal.SIGCONT)
        refused = wait_until(lambda: (c := home.cluster("dev"))["restarts"] >= 2 and c, timeout=60,
                             message="a restart refused its port")
        assert "(port" in refused["last_exit"] and "is taken)" in refused["last_exit"]
        assert refused["url"] == dev["url"]  # a restart never moves the cluster: the kubeconfig names the port
        table = home.cli("sandbox", "status").stdout
        assert "is taken)" in table
    finally:
        os.kill(daemon, signal.SIGCONT)
        blocker.close()
    wait_until(lambda: (c := home.cluster("dev"))["up"] and c["process"] == "running", timeout=90,
               message="dev back once its port is free")
    home.kubectl("get", "namespaces")


def test_down_leaves_no_process(home: Home) -> None:
    status = home.status()
    pids = [status["pid"], *(c["pid"] for c in status["clusters"])]
    assert sorted(sandbox_processes(Layout(home.home))) == sorted(pids)
    home.cli("sandbox", "down")
    assert [pid for pid in pids if manager.pid_alive(pid)] == []
    assert sandbox_processes(Layout(home.home)) == []
    processes = json.loads((home.home / "sandbox" / "processes.json").read_text())
    assert {c["state"] for c in processes["clusters"].values()} == {"stopped"}


def test_kill9_of_the_daemon_ends_its_clusters_and_up_recovers_on_the_same_ports(home: Home) -> None:
    status = home.status()
    clusters = {c["name"]: c for c in status["clusters"]}
    os.kill(status["pid"], signal.SIGKILL)
    for cluster in clusters.values():
        wait_until(lambda c=cluster: not manager.pid_alive(c["pid"]), timeout=30,
                   message=f"{cluster['name']}'s process ends with its daemon")
    assert sandbox_processes(Layout(home.home)) == []
    assert home.status()["running"] is False
    home.cli("sandbox", "up")
    again = {c["name"]: c for c in home.status()["clusters"]}
    assert {n: c["url"] for n, c in again.items()} == {n: c["url"] for n, c in clusters.items()}
    assert all(c["up"] and c["pid"] not in (None, clusters[n]["pid"]) for n, c in again.items())


def test_the_daemon_and_its_clusters_end_with_their_owner(tmp_path: Path) -> None:
    owner = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    box = Home(tmp_path / "data", owner=owner.pid)
    try:
        box.cli("sandbox", "up", "--clusters", "dev")
        pids = sandbox_processes(Layout(box.home))
        assert len(pids) == 3  # the daemon, management and dev
        owner.stdin.close()  # type: ignore[union-attr]
        owner.wait(timeout=10)
        wait_until(lambda: not any(manager.pid_alive(pid) for pid in pids), timeout=30,
                   message="every sandbox process ends with its owner")
        assert "owner process" in (box.home / "sandbox" / "daemon.log").read_text()
    finally:
        if owner.poll() is None:
            owner.kill()
        manager.down(home=box.home)
