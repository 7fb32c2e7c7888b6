"""Cost flat in sources (issue 21 items 1 and 2): one ls-remote per repository, a moved ref wakes every source of
its repository, and a source with nothing to do asks the management cluster nothing and writes nothing there."""

from __future__ import annotations

from pathlib import Path

from gitops_tui.actions import sources as actions
from gitops_tui.api import names
from gitops_tui.reconciler.source import GitSource
from tests.gitserver import commit, make_repo
from tests.metrics import scrape
from tests.reconciler.test_drift_watch import non_watch_requests, settled, start
from tests.waiting import wait_until
from tests.world import CLUSTERS, World, configmap

WRITES = ("POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION")


def _two_paths(world: World, name: str) -> Path:
    """One repository holding two sources' folders, a/ and b/."""
    return world.repo(name, {"a/cm.yaml": configmap(f"{name}-a"), "b/cm.yaml": configmap(f"{name}-b")})


def _applied(world: World, name: str, commit_sha: str) -> bool:
    rows = world.status(name).get("clusters") or []
    return len(rows) == len(CLUSTERS) and all(r.get("lastAppliedRevision") == f"main@sha1:{commit_sha}"
                                              for r in rows)


def test_sources_of_one_repository_share_one_ls_remote(tmp_path: Path) -> None:
    """The second source of a URL and credentials takes the first's answer; one on other credentials asks itself;
    a newer answer asked for (a webhook's ``since``) runs ls-remote again."""
    repo = make_repo(tmp_path / "repo", {"a/cm.yaml": configmap("a"), "b/cm.yaml": configmap("b")})
    git = GitSource(tmp_path / "cache", local_roots=[tmp_path])
    url, ref = f"file://{repo}", {"branch": "main"}
    first = git.fetch(url, ref, max_age=60, owner=("ns", "a"))
    second = git.fetch(url, ref, max_age=60, owner=("ns", "b"))
    assert (first.commit, second.commit, git.remote.asked) == (second.commit, first.commit, 1)
    git.fetch(url, ref, {"password": b"other"}, max_age=60, owner=("ns", "c"))
    assert git.remote.asked == 2  # another fingerprint: never served the first credentials' answer
    head = commit(repo, {"a/cm.yaml": configmap("a", "v2")})
    assert git.fetch(url, ref, max_age=60, owner=("ns", "b")).commit == first.commit  # the shared answer, unmoved
    assert git.remote.asked == 2
    assert git.fetch(url, ref, max_age=60, since=git.remote.clock(), owner=("ns", "b")).commit == head
    assert git.remote.asked == 3


def test_a_moved_ref_wakes_the_other_sources_of_its_repository(tmp_path: Path) -> None:
    """An ls-remote that sees main move hands every other source tracking main to on_moved, not one on another
    branch, not the one that asked."""
    repo = make_repo(tmp_path / "repo", {"cm.yaml": configmap("a")})
    woken: list[list[tuple[str, str]]] = []
    git = GitSource(tmp_path / "cache", local_roots=[tmp_path], on_moved=woken.append)
    url = f"file://{repo}"
    git.fetch(url, {"branch": "main"}, owner=("ns", "a"))
    git.fetch(url, {"branch": "main"}, owner=("ns", "b"))
    git.fetch(url, {"branch": "main"}, owner=("ns", "c"))
    git.fetch(url, {"commit": git.fetch(url, {"branch": "main"}, owner=("ns", "d")).commit}, owner=("ns", "d"))
    assert woken == []
    commit(repo, {"cm.yaml": configmap("a", "v2")})
    git.fetch(url, {"branch": "main"}, owner=("ns", "a"))
    assert [sorted(w) for w in woken] == [[("ns", "b"), ("ns", "c")]]


def test_a_commit_reaches_every_source_of_the_repository_from_one_request(world: World) -> None:
    """Two sources on one repository, interval 1 h: a reconcile asked for one (requestedAt, as a webhook delivery
    writes it) applies the new commit for both on every cluster; only pa's ls-remote seeing main move can have
    woken pb."""
    repo = _two_paths(world, "pair")
    world.create("pa", f"file://{repo}", path="./a", interval="1h")
    world.create("pb", f"file://{repo}", path="./b", interval="1h")
    reconciler = start(world)
    try:
        head = world.head(repo)
        wait_until(lambda: _applied(world, "pa", head) and _applied(world, "pb", head), timeout=60,
                   message="both sources applied")
        asked = reconciler.git.remote.asked
        head = commit(repo, {"a/cm.yaml": configmap("pair-a", "v2"), "b/cm.yaml": configmap("pair-b", "v2")})
        actions.request_reconcile(world.api, world.project, "pa")  # what a webhook delivery writes
        wait_until(lambda: _applied(world, "pa", head) and _applied(world, "pb", head), timeout=60,
                   message="the commit applied for both sources")
        assert reconciler.git.remote.asked - asked <= 2  # pa's ls-remote; pb at most one more of its own
    finally:
        reconciler.stop()


def test_settled_sources_ask_the_management_cluster_nothing(world: World) -> None:
    """Three sources (two sharing a repository), interval 1 s, applied: over three more intervals of each, the
    management cluster answers no request but watches, and the three cost about one ls-remote per interval of one
    of the two repositories each."""
    shared = _two_paths(world, "shared")
    own = world.repo("own", {"cm.yaml": configmap("own")})
    world.create("sa", f"file://{shared}", path="./a", interval="1s")
    world.create("sb", f"file://{shared}", path="./b", interval="1s")
    world.create("own", f"file://{own}", interval="1s")
    sources = ["sa", "sb", "own"]
    reconciler = start(world)
    try:
        wait_until(lambda: settled(reconciler, world, sources) and all(
            _applied(world, s, world.head(shared if s != "own" else own)) for s in sources), timeout=60,
            message="the sources applied and watched")
        keys = [(names.KIND_FEDERATED_KUSTOMIZATION, world.namespace, s) for s in sources]
        quiet = {key: reconciler.idle.quiet.get(key, 0) for key in keys}
        wait_until(lambda: all(reconciler.idle.quiet.get(key, 0) > quiet[key] for key in keys), timeout=30,
                   message="every source settled")
        before, asked = scrape(world.api), reconciler.git.remote.asked
        quiet = {key: reconciler.idle.quiet.get(key, 0) for key in keys}
        wait_until(lambda: all(reconciler.idle.quiet.get(key, 0) >= quiet[key] + 3 for key in keys), timeout=60,
                   message="three quiet intervals of every source")
        found = non_watch_requests(before, scrape(world.api))
        intervals = {key[2]: reconciler.idle.quiet[key] - quiet[key] for key in keys}
        asked = reconciler.git.remote.asked - asked
    finally:
        reconciler.stop()
    assert found == {}
    # two repositories: at most one answer each per interval (plus one in flight at each edge of the window)
    assert asked <= max(intervals["sa"], intervals["sb"]) + intervals["own"] + 2, (asked, intervals)


def test_a_forced_no_op_reconcile_writes_nothing_on_the_management_cluster(world: World) -> None:
    """Full reconciles of an applied, unchanged source (requested, so not the settled shortcut) write no status,
    no Event, no annotation: the status is written only when it changes."""
    repo = world.repo("still", {"cm.yaml": configmap("still")})
    world.create("still", f"file://{repo}", interval="1h")
    reconciler = start(world)
    key = (names.KIND_FEDERATED_KUSTOMIZATION, world.namespace, "still")
    try:
        wait_until(lambda: settled(reconciler, world, ["still"]) and _applied(world, "still", world.head(repo)),
                   timeout=60, message="the source applied and watched")
        version = world.source("still").kustomization["metadata"]["resourceVersion"]
        before = scrape(world.api)
        for _ in range(3):
            runs = reconciler.runs.get(key, 0)
            reconciler.request(*key)
            wait_until(lambda runs=runs: reconciler.runs.get(key, 0) > runs and reconciler.idle.is_settled(key),
                       timeout=20, message="a full reconcile, settled")
        found = non_watch_requests(before, scrape(world.api))
    finally:
        reconciler.stop()
    assert {k: n for k, n in found.items() if k.split(" ")[0] in WRITES} == {}
    assert world.source("still").kustomization["metadata"]["resourceVersion"] == version


def test_a_settled_source_peeks_at_its_repository_answer_without_git(tmp_path: Path) -> None:
    """peek (a settled source's interval): the commit of a branch or tag from an answer at most max_age old, None
    when there is none (the source then fetches, which renews it) or for a semver or commit ref; a moved ref shows."""
    repo = make_repo(tmp_path / "repo", {"a/cm.yaml": configmap("a")})
    git = GitSource(tmp_path / "cache", local_roots=[tmp_path])
    url = f"file://{repo}"
    assert git.peek(url, {"branch": "main"}, None, 60) is None  # nothing asked yet
    first = git.fetch(url, {"branch": "main"}, max_age=60, owner=("ns", "a")).commit
    assert git.peek(url, {"branch": "main"}, None, 60) == first
    assert git.peek(url, {"branch": "main"}, {"password": b"x"}, 60) is None  # other credentials: not theirs
    assert git.peek(url, {"semver": ">=1.0.0"}, None, 60) is None
    assert git.peek(url, {"branch": "gone"}, None, 60) is None
    moved = commit(repo, {"a/cm.yaml": configmap("a", "v2")})
    assert git.peek(url, {"branch": "main"}, None, 1e-9) is None  # too old an answer: fetch asks
    assert git.fetch(url, {"branch": "main"}, max_age=1e-9, owner=("ns", "a")).commit == moved
    assert git.peek(url, {"branch": "main"}, None, 60) == moved
