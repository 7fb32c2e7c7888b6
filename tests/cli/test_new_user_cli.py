"""Issue 19 item 8, the command line's side: the URL refusal names every form; `history source` lines up."""

from __future__ import annotations

from tests.world import World, configmap


def test_a_refused_url_lists_every_accepted_form(world: World) -> None:
    refused = world.sandbox.cli("create", "source", "bad", "-p", world.project, "--url", "ftp://example.com/repo",
                                check=False)
    assert refused.returncode == 1
    for form in ("https://", "http://", "ssh://", "git://", "host:path", "file://", "local path",
                 "--allow-local-repos"):
        assert form in refused.stderr, f"{form} missing from: {refused.stderr}"
    assert refused.stderr.count("\n") == 1, "one sentence"

def test_history_header_sits_over_its_columns(world: World) -> None:
    repo = world.repo("hist", {"cm.yaml": configmap("hist")})
    world.create("hist", str(repo))
    world.reconcile("hist")
    lines = world.sandbox.cli("history", "source", "hist", "-p", world.project).stdout.splitlines()
    header, rows = lines[0], lines[1:]
    assert rows
    for column in ("APPLIED AT", "REVISION", "BY"):
        start = header.index(column)
        for row in rows:
            assert row[start - 1] == " " and row[start] != " ", f"{column} is not over its values:\n{header}\n{row}"
