"""Two real `gitops-tui run` processes split 20 projects by shard leases; kill -9 one, the other takes over.

One test of about 40 s on purpose: it starts real processes, waits for 20 sources to apply twice, and waits
for a killed process's shard leases to lapse (2 s leases).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import resources, sources
from gitops_tui.api import names, shards
from gitops_tui.api.paths import resource_path
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.context import management_path
from tests.gitserver import commit, git, make_repo
from tests.waiting import wait_until
from tests.world import configmap

LEASE = 2  # the shortest `run --lease-duration` accepts: the take-over waits for it to lapse
SHARDS = 8
PROJECTS = 20
ROOT = Path(__file__).resolve().parents[2]
LEASES = resource_path("coordination.k8s.io/v1", "leases", names.SYSTEM_NAMESPACE)


class ShardRun:
    """A `gitops-tui run --shards 8 --lease-duration 2` process logging its writes (tests/reconciler/shard_runner.py)."""

    def __init__(self, sandbox: Any, folder: Path, label: str) -> None:
        self.writes = folder / f"{label}-writes.jsonl"
        self.log = folder / f"{label}.log"
        self._file = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reconciler.shard_runner", str(self.writes), "run",
             "--lease-duration", str(LEASE), "--shards", str(SHARDS)],
            cwd=ROOT, env=sandbox.env, stdout=self._file, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        """The process id."""
        return self.proc.pid

    def records(self) -> list[dict[str, Any]]:
        """Every write this process logged."""
        if not self.writes.exists():
            return []
        return [json.loads(line) for line in self.writes.read_text().splitlines() if line.strip()]

    def stop(self) -> int | None:
        """SIGTERM, wait (bounded), SIGKILL as a last resort; return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self._file.close()
        return self.proc.returncode


def fleet(mgmt: Any) -> shards.Fleet:
    """The fleet as the Leases say now."""
    items = json_request(mgmt, "GET", LEASES, query={"labelSelector": shards.ROLE_LABEL}).get("items") or []
    return shards.fleet(items, datetime.now(UTC))


def pid_of(identity: str) -> int:
    """The pid in a holder identity (<host>/<pid>/<uuid>)."""
    return int(identity.split("/")[1])


def held_by_pid(mgmt: Any) -> dict[int, list[int]]:
    """Shards held per process id."""
    out: dict[int, list[int]] = defaultdict(list)
    for index, holder in fleet(mgmt).holders.items():
        if holder:
            out[pid_of(holder)].append(index)
    return dict(out)


def applied_revision(mgmt: Any, namespace: str) -> str:
    """The revision the project's source last applied to dev ("" when none)."""
    ks = json_request(mgmt, "GET", management_path(names.KIND_FEDERATED_KUSTOMIZATION, namespace, "app"))
    entries = [c for c in (ks.get("status") or {}).get("clusters") or [] if c.get("name") == "dev"]
    return str(entries[0].get("lastAppliedRevision") or "") if entries else ""


def all_applied(mgmt: Any, projects: list[str], revision: str) -> bool:
    """Whether every project's source applied ``revision`` to dev."""
    return all(applied_revision(mgmt, p) == revision for p in projects)


def writes_by_project(runs: list[ShardRun], projects: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every logged write of the test's projects, by project (the namespace leads the object id)."""
    wanted = set(projects)
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        for record in run.records():
            namespace = record["object"].split("_", 1)[0]
            if namespace in wanted:
                out[namespace].append(record)
    return dict(out)


def forget(mgmt: Any, project: str) -> None:
    """Remove a project's management objects without waiting for a reconciler (objects on dev stay)."""
    paths = [management_path(kind, project, "app") for kind in
             (names.KIND_FEDERATED_KUSTOMIZATION, names.KIND_FEDERATED_GIT_REPOSITORY)]
    for path in [*paths, management_path(names.KIND_PROJECT, None, project)]:
        for method, body in (("PATCH", {"metadata": {"finalizers": None}}), ("DELETE", None)):
            try:
                json_request(mgmt, method, path, body, content_type="application/merge-patch+json")
            except ApiException:
                pass


def test_two_run_processes_split_projects_and_a_killed_ones_shards_are_taken_over(sandbox: Any,
                                                                                  tmp_path: Path) -> None:
    mgmt = sandbox.api_client()
    first, second = ShardRun(sandbox, tmp_path, "first"), ShardRun(sandbox, tmp_path, "second")
    runs = [first, second]
    projects = [f"shd-{uuid.uuid4().hex[:5]}-{i}" for i in range(PROJECTS)]
    try:
        wait_until(lambda: sorted(map(len, held_by_pid(mgmt).values())) == [4, 4]
                   and set(held_by_pid(mgmt)) == {first.pid, second.pid}, timeout=40,
                   message="the two processes to hold four shards each")
        split = held_by_pid(mgmt)
        assert sorted(split[first.pid] + split[second.pid]) == list(range(SHARDS))

        listed = json.loads(sandbox.cli("get", "reconcilers", "-o", "json").stdout)["items"]
        by_pid = {int(row["pid"]): row for row in listed if row["pid"]}
        assert {p: sorted(r["shards"]) for p, r in by_pid.items()} == {p: sorted(s) for p, s in split.items()}
        assert all(row["shardCount"] == SHARDS for row in listed)
        table = sandbox.cli("get", "reconcilers").stdout
        assert str(first.pid) in table and str(second.pid) in table and "of 8" in table

        refused = sandbox.cli("run", "--shards", "3", "--lease-duration", str(LEASE), check=False, timeout=60)
        assert refused.returncode == 2 and "use 8 shards" in refused.stderr, refused

        repo = make_repo(tmp_path / "fleet-repo", {"a.yaml": configmap("a"), "b.yaml": configmap("b")})
        for project in projects:
            resources.create_project(mgmt, project, ["dev"])
            sources.create_source(mgmt, project, "app", str(repo), path="./", interval="10m")
        owner_of = {p: shards.shard_of(p, SHARDS) for p in projects}
        assert {s for s in owner_of.values() if s in split[first.pid]} and \
               {s for s in owner_of.values() if s in split[second.pid]}, "both halves hold some project"
        revision = f"main@sha1:{git(repo, 'rev-parse', 'HEAD')}"
        wait_until(lambda: all_applied(mgmt, projects, revision), timeout=120, message="the 20 sources applied")

        # Both act, each on exactly the projects of its shards (the write log and the Events agree).
        writers = {p: {w["pid"] for w in ws} for p, ws in writes_by_project(runs, projects).items()}
        assert set(writers) == set(projects), "every project was applied"
        for project, pids in writers.items():
            holder = first.pid if owner_of[project] in split[first.pid] else second.pid
            assert pids == {holder}, f"{project} (shard {owner_of[project]}) written by {pids}, holder {holder}"
        assert {first.pid, second.pid} == set().union(*writers.values())
        instances = {pid_of(e["reportingInstance"]) for p in projects
                     for e in json_request(mgmt, "GET", f"/api/v1/namespaces/{p}/events").get("items") or []
                     if e.get("reason") == "Applied"}
        assert instances == {first.pid, second.pid}, instances

        # A new revision; kill -9 the first process once it writes for it.
        commit(repo, {"a.yaml": configmap("a", "v2")})
        revision = f"main@sha1:{git(repo, 'rev-parse', 'HEAD')}"
        committed = time.monotonic()
        for project in projects:
            sources.request_reconcile(mgmt, project, "app")
        wait_until(lambda: any(w["started"] > committed for w in first.records()), timeout=30,
                   message="the first process to write the new revision")
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)
        killed = time.monotonic()
        wait_until(lambda: held_by_pid(mgmt) == {second.pid: list(range(SHARDS))}, timeout=6 * LEASE,
                   message="the second process to take every shard")
        took = time.monotonic() - killed
        assert took <= LEASE + 1.0, f"take-over took {took:.1f}s, more than the lease duration"
        wait_until(lambda: all_applied(mgmt, projects, revision), timeout=60, message="every source at the new revision")

        # The survivor acts on the dead one's projects too.
        commit(repo, {"b.yaml": configmap("b", "v3")})
        revision = f"main@sha1:{git(repo, 'rev-parse', 'HEAD')}"
        again = time.monotonic()
        for project in projects:
            sources.request_reconcile(mgmt, project, "app")
        wait_until(lambda: all_applied(mgmt, projects, revision), timeout=60, message="every source at the third revision")
        late = {p for p, ws in writes_by_project([second], projects).items() if any(w["started"] > again for w in ws)}
        assert late == set(projects), f"projects the survivor did not apply: {set(projects) - late}"
        rows = json.loads(sandbox.cli("get", "reconcilers", "-o", "json").stdout)["items"]
        assert [(int(r["pid"]), r["shards"]) for r in rows] == [(second.pid, list(range(SHARDS)))], rows

        # Never two processes writing for one project at once.
        for project, records in writes_by_project(runs, projects).items():
            mine = [w for w in records if w["pid"] == first.pid]
            theirs = [w for w in records if w["pid"] == second.pid]
            for a in mine:
                for b in theirs:
                    assert a["finished"] < b["started"] or b["finished"] < a["started"], \
                        f"{project}: {a} and {b} overlap"
    finally:
        for project in projects:
            forget(mgmt, project)
        for run in runs:
            run.stop()
    assert second.proc.returncode == 0
    assert not [i for i, h in fleet(mgmt).holders.items() if h], "a stopped process releases its shards"
