"""Leader election: one acting reconciler among several, hand-over on release and on a killed leader."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.actions import resources
from gitops_tui.api import names
from gitops_tui.kube.client import api_client_from_kubeconfig, json_request
from gitops_tui.kube.lease import LeaderElector
from gitops_tui.reconciler.context import management_path
from gitops_tui.reconciler.manager import Reconciler
from tests.reconciler.test_management import decoded, delete_project_and_wait, get, secret_on, unique
from tests.waiting import wait_until

LEASE = 2.0  # the shortest `run --lease-duration` accepts: take-over waits for it to lapse


@pytest.fixture
def mgmt(sandbox: Any) -> Any:
    """A management ApiClient."""
    return api_client_from_kubeconfig(sandbox.kubeconfig, "management")


def lease_holder(mgmt: Any, name: str = names.LEASE_NAME) -> str:
    """The holderIdentity of a Lease in gitops-tui-system ("" when unheld or missing)."""
    lease = get(mgmt, f"/apis/coordination.k8s.io/v1/namespaces/{names.SYSTEM_NAMESPACE}/leases/{name}") or {}
    return str((lease.get("spec") or {}).get("holderIdentity") or "")


def test_exactly_one_elector_leads_and_release_hands_over(mgmt: Any) -> None:
    lease = unique("lease")
    a = LeaderElector(mgmt, name=lease, lease_duration=3.0)
    b = LeaderElector(mgmt, name=lease, lease_duration=3.0)
    a.start()
    b.start()
    try:
        wait_until(lambda: a.is_leader or b.is_leader, timeout=10, message="a leader")
        leader, other = (a, b) if a.is_leader else (b, a)
        wait_until(lambda: other.holder == leader.identity, timeout=5, message="the standby to see the holder")
        assert not other.is_leader
        assert lease_holder(mgmt, lease) == leader.identity
        assert leader.identity.split("/")[1] == str(os.getpid())
        started = time.monotonic()
        leader.stop(release=True)
        wait_until(lambda: other.is_leader, timeout=5, message="the standby to take over after a release")
        assert time.monotonic() - started < 3.0, "a released lease is taken at once, not after expiry"
        assert lease_holder(mgmt, lease) == other.identity
    finally:
        a.stop()
        b.stop()


def test_reconciler_stops_acting_when_leadership_is_lost(mgmt: Any, tmp_path: Path) -> None:
    rec = Reconciler(mgmt, data_dir=tmp_path, lease_duration=LEASE)
    rec.start()
    try:
        wait_until(rec.is_leader, timeout=3 * LEASE, message="leadership")
        assert rec.holder == rec.identity
        assert rec.elector is not None
        rec.elector.stop(release=True)
        assert not rec.is_leader()
        assert rec.should_stop("any-namespace", "any-source")
        wait_until(lambda: lease_holder(mgmt) != rec.identity, timeout=5, message="the lease to be released")
    finally:
        rec.stop()


class RunProcess:
    """A `gitops-tui run` subprocess with its stderr in a file."""

    def __init__(self, sandbox: Any, log: Path) -> None:
        self.log = log
        self._file = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gitops_tui", "run", "--lease-duration", str(int(LEASE))],
            env=sandbox.env, stdout=self._file, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        """The process id."""
        return self.proc.pid

    def output(self) -> str:
        """What the process logged so far."""
        return self.log.read_text()

    def stop(self) -> None:
        """SIGTERM, wait (bounded), SIGKILL as a last resort."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._file.close()


@pytest.fixture
def two_runs(sandbox: Any, tmp_path: Path) -> Iterator[tuple[RunProcess, RunProcess]]:
    """Two headless reconcilers against the sandbox."""
    first = RunProcess(sandbox, tmp_path / "run1.log")
    second = RunProcess(sandbox, tmp_path / "run2.log")
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def holder_pid(mgmt: Any) -> int | None:
    """The pid in the reconciler lease's holder identity (<host>/<pid>/<uuid>)."""
    holder = lease_holder(mgmt)
    parts = holder.split("/")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def test_two_run_processes_one_acts_and_the_other_takes_over(two_runs: tuple[RunProcess, RunProcess],
                                                             sandbox: Any, mgmt: Any) -> None:
    first, second = two_runs
    pids = {first.pid: first, second.pid: second}
    wait_until(lambda: holder_pid(mgmt) in pids, timeout=30, message="one run process to hold the lease")
    leader = pids[holder_pid(mgmt)]  # type: ignore[index]
    standby = second if leader is first else first
    wait_until(lambda: "leading: this process acts" in leader.output(), timeout=10, message="the leader to act")
    wait_until(lambda: "standing by" in standby.output(), timeout=10, message="the other to stand by")
    assert "leading" not in standby.output()

    project = unique("lead")
    resources.create_project(mgmt, project, ["dev"])
    try:
        resources.create_secret(mgmt, project, "s", {"v": b"first"})
        wait_until(lambda: decoded(secret_on(sandbox, "dev", project, "s"), "v") == "first", timeout=20,
                   message="the leader to propagate")

        leader.proc.kill()
        leader.proc.wait(timeout=10)
        killed_at = time.monotonic()
        wait_until(lambda: holder_pid(mgmt) == standby.pid, timeout=3 * LEASE, message="the standby to take over")
        took = time.monotonic() - killed_at
        assert took <= LEASE + 1.0, f"take-over took {took:.1f}s, more than the lease duration"
        wait_until(lambda: "leading: this process acts" in standby.output(), timeout=5, message="the new leader to act")

        path = management_path(names.KIND_FEDERATED_SECRET, project, "s")
        json_request(mgmt, "PATCH", path, {"spec": {"template": {"data": {"v": base64.b64encode(b"second").decode()}}}},
                     content_type="application/merge-patch+json")
        wait_until(lambda: decoded(secret_on(sandbox, "dev", project, "s"), "v") == "second", timeout=20,
                   message="the new leader to propagate")
    finally:
        delete_project_and_wait(mgmt, project)
    standby.stop()
    assert standby.proc.returncode == 0
    wait_until(lambda: lease_holder(mgmt) == "", timeout=5, message="a stopped leader to release the lease")
