"""The journal: operator actions and the reconciler's corrections in one timeline, kept across a reconciler restart."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gitops_tui import journal
from gitops_tui.actions import pin as pins
from gitops_tui.actions import resources
from gitops_tui.actions import sources as actions
from gitops_tui.api.journal_crd import journal_path
from gitops_tui.kube.client import json_request
from tests.gitserver import commit
from tests.waiting import wait_until
from tests.world import World, configmap


@contextmanager
def reconciler_process(sandbox: Any, log: Path) -> Iterator[subprocess.Popen]:
    """A `gitops-tui run` process, killed (SIGKILL: no clean shutdown) at the end."""
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gitops_tui", "run", "--lease-duration", "3"],
                                env=sandbox.env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)


def _applied(world: World, name: str) -> dict[str, str]:
    return {c["name"]: c.get("lastAppliedRevision", "") for c in world.status(name).get("clusters") or []}


def _cli_journal(sandbox: Any, project: str, output: str) -> str:
    return sandbox.cli("journal", "--since", "1h", "-p", project, "-o", output).stdout


def test_journal_lists_actions_and_corrections_in_order_after_a_reconciler_restart(
        world: World, sandbox: Any, tmp_path: Path) -> None:
    """Drives a real `gitops-tui run` process (about 15 s)."""
    repo = world.repo("jr", {"cm.yaml": configmap("cfg", "one")})
    first = f"main@sha1:{world.head(repo)}"
    with reconciler_process(sandbox, tmp_path / "run1.log"):
        world.create("jr", f"file://{repo}")
        wait_until(lambda: set(_applied(world, "jr").values()) == {first} and len(_applied(world, "jr")) == 3,
                   timeout=60, message="the first revision applied everywhere")
        second = f"main@sha1:{commit(repo, {'cm.yaml': configmap('cfg', 'two')})}"
        actions.request_reconcile(world.api, world.project, "jr", actor="ci-bot")
        wait_until(lambda: set(_applied(world, "jr").values()) == {second}, timeout=60, message="the second revision")
        actions.suspend_source(world.api, world.project, "jr", "incident 7: hand fix", actor="alice")
        actions.resume_source(world.api, world.project, "jr", actor="bob")
        pins.pin_source(world.api, world.project, "jr", first, "two breaks prod", ["prod"], actor="carol")
        wait_until(lambda: _applied(world, "jr").get("prod") == first, timeout=60, message="prod pinned at one")
        pins.unpin_source(world.api, world.project, "jr", actor="dave")
        wait_until(lambda: _applied(world, "jr").get("prod") == second, timeout=60, message="prod back on git")
    world.kubectl_edit("dev", "configmap/cfg", "s/value: two/value: hand/")
    with reconciler_process(sandbox, tmp_path / "run2.log"):  # a new process: the journal is in the cluster
        actions.request_reconcile(world.api, world.project, "jr", actor="erin")
        wait_until(lambda: any(e.action == "drift-corrected" for e in journal.list_entries(world.api,
                                                                                            project=world.project)),
                   timeout=60, message="the drift corrected and journaled")
    everything = journal.list_entries(world.api, project=world.project)
    assert everything[0].action == "create" and everything[0].objects == [f"Project {world.project}"]
    entries = everything[1:]
    timeline = [(e.action, e.actor) for e in entries]
    assert timeline == [("create", timeline[0][1]), ("reconcile", "ci-bot"), ("suspend", "alice"),
                        ("resume", "bob"), ("pin", "carol"), ("unpin", "dave"), ("reconcile", "erin"),
                        ("drift-corrected", "reconciler")], timeline
    by_action = {e.action: e for e in entries}
    assert by_action["suspend"].reason == "incident 7: hand fix"
    assert by_action["resume"].reason == "was suspended by alice: incident 7: hand fix"
    assert by_action["pin"].reason == "two breaks prod" and by_action["pin"].clusters == ["prod"]
    assert "two breaks prod" in by_action["unpin"].reason
    corrected = by_action["drift-corrected"]
    assert corrected.clusters == ["dev"] and corrected.objects == [f"ConfigMap {world.namespace}/cfg"]
    assert "kubectl-edit" in corrected.reason
    assert all(e.source == "jr" and e.project == world.project for e in entries)

    listed = json.loads(_cli_journal(sandbox, world.project, "json"))
    assert [i["action"] for i in listed["items"]] == ["create", *(a for a, _ in timeline)]
    markdown = _cli_journal(sandbox, world.project, "markdown")
    assert markdown.startswith("## Timeline (gitops-tui journal)")
    # Issue 18 item 9: the identity the API server saw sits beside the claimed actor (a column of its own).
    assert "| Time (UTC) | Action | Actor | Identity | Where | Reason | Objects |" in markdown
    assert f"| suspend | alice | sandbox-admin | {world.project}/jr | incident 7: hand fix |" in markdown
    assert all(i["identity"] == {"user": "sandbox-admin", "groups": ["system:masters", "system:authenticated"],
                                 "verified": True} for i in listed["items"]), listed["items"]
    table = _cli_journal(sandbox, world.project, "table")
    assert table.splitlines()[0].split() == ["TIME", "ACTION", "ACTOR", "IDENTITY", "WHERE", "REASON", "OBJECTS"]
    assert len(table.splitlines()) == len(everything) + 1


def test_a_secret_change_records_keys_never_values(world: World, sandbox: Any) -> None:
    password = "hunter2-very-secret-value"
    username = "svc-7f3a9c-journal"  # no other test's words: the whole shared journal is searched below
    resources.create_secret(world.api, world.project, "git-creds",
                            resources.secret_data(username=username, password=password))
    resources.delete_secret(world.api, world.project, "git-creds")
    entries = [e for e in journal.list_entries(world.api, project=world.project) if e.action == "secret-change"]
    assert [e.reason for e in entries] == ["created secret git-creds", "deleted secret git-creds"]
    assert entries[0].objects == ["FederatedSecret git-creds key password", "FederatedSecret git-creds key username"]
    raw = json.dumps(json_request(world.api, "GET", journal_path()))
    assert password not in raw and username not in raw
    assert password not in _cli_journal(sandbox, world.project, "markdown")


def test_a_failed_journal_write_is_shown_and_the_action_stands(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = world.repo("jf", {"cm.yaml": configmap("cfg")})
    world.create("jf", f"file://{repo}")
    seen: list[str] = []
    remove = journal.add_failure_listener(seen.append)
    monkeypatch.setattr(journal, "journal_path", lambda name="": "/apis/gitops-tui.io/v1alpha1/namespaces/"
                                                                 "no-such-namespace/journalentries")
    try:
        actions.suspend_source(world.api, world.project, "jf", "the journal is down", actor="frank")
    finally:
        remove()
    assert world.source("jf").suspend, "the action stands"
    assert seen == ["the journal could not record 'suspend' (HTTP 400); the action itself was done"]


def test_entries_older_than_the_retention_are_pruned(sandbox: Any) -> None:
    api = sandbox.api_client("management")
    now = datetime.now(UTC)
    old = journal._entry_object(now - timedelta(days=journal.RETENTION_DAYS + 1), "suspend", "old", "", "ret", "",
                                (), ())
    recent = journal._entry_object(now - timedelta(days=journal.RETENTION_DAYS - 1), "resume", "recent", "", "ret", "",
                                   (), ())
    for body in (old, recent):
        json_request(api, "POST", journal_path(), body)
    assert journal.prune(api, now) >= 1
    left = [e.actor for e in journal.list_entries(api, project="ret")]
    assert left == ["recent"]
    assert [e.actor for e in journal.list_entries(api, since=now - timedelta(days=2), project="ret")] == []


def test_markdown_escapes_hostile_reasons_and_since_is_checked(sandbox: Any) -> None:
    from gitops_tui.journal import Entry
    from gitops_tui.journal.render import as_markdown

    hostile = Entry(time="2026-01-15T11:00:00.000001Z", action="suspend", actor="mallory",
                    reason="a | b\n| injected | row |", project="p", source="s", objects=["ConfigMap p/`x`"])
    lines = as_markdown([hostile]).splitlines()
    rows = [line for line in lines if line.startswith("| 2026")]
    assert len(rows) == 1 and "a \\| b \\| injected \\| row \\|" in rows[0]
    proc = sandbox.cli("journal", "--since", "yesterday-ish", check=False)
    assert proc.returncode == 2 and "is neither a duration" in proc.stderr and "Traceback" not in proc.stderr
