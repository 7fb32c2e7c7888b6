"""Git is fetched with the credentials of the source that asks (issue 18, attack B), reproduced as the attacker would.

Project beta keeps a private repository (a real smart-HTTP git server with basic auth) and its credentials in a
Secret of its own. Before the fix, the reconciler's git cache was shared by URL: a source of project alpha with
``ref.commit: <beta's commit>`` and no credentials applied beta's private repository, because the commit was
already in the cache.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_tui.actions import resources
from gitops_tui.api import names
from gitops_tui.reconciler.errors import GitOperationFailed
from gitops_tui.reconciler.source import GitSource
from gitops_tui.reconciler.source_controller import reconcile_source
from tests.gitserver import GitHttpServer, git_http_server, make_bare, make_repo  # noqa: F401 - a fixture
from tests.world import CLUSTERS, World, configmap

CREDS = {"username": b"git", "password": b"s3cret-pass"}


def test_a_commit_in_another_projects_cache_is_not_served_without_credentials(
        world: World, beta: World, git_http_server: GitHttpServer) -> None:  # noqa: F811
    work = make_repo(beta.tmp / "private-work", {"deploy/plan.yaml": configmap("beta-private-plan")})
    make_bare(work, git_http_server.root / "private.git")
    url = git_http_server.url("private.git")
    resources.create_secret(beta.api, beta.project, "beta-git", CREDS)
    beta.create("private", url, path="./deploy", secret="beta-git")
    reconcile_source(world.ctx, beta.namespace, "private")  # the same reconciler, the same git cache
    assert beta.condition("private", names.READY)["status"] == "True"
    head = world.head(work)

    world.create("steal", url, ref={"commit": head}, path="./deploy")
    packs = git_http_server.pack_requests
    world.reconcile("steal")
    cond = world.condition("steal", names.READY)
    assert cond["status"] == "False" and cond["reason"] == "GitOperationFailed", cond
    assert cond["message"].startswith(f"{url} requires authentication: set a credentials Secret (secretRef)"), cond
    assert "could not read Username" in cond["message"], cond  # git's own reason stays beside ours
    assert git_http_server.pack_requests == packs, "nothing of beta's repository was downloaded for alpha"
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "beta-private-plan") is None, cluster
    assert not [r for r in world.writes.records if r.object_id.startswith(f"{world.namespace}_")], "alpha wrote nothing"


def test_the_cache_serves_a_commit_only_to_credentials_that_still_open_the_repository(
        tmp_path: Path, git_http_server: GitHttpServer) -> None:  # noqa: F811
    work = make_repo(tmp_path / "work", {"a.yaml": configmap("a")})
    make_bare(work, git_http_server.root / "repo.git")
    url = git_http_server.url("repo.git")
    source = GitSource(tmp_path / "cache")
    head = source.fetch(url, {"branch": "main"}, CREDS).commit

    with pytest.raises(GitOperationFailed, match="requires authentication"):
        source.fetch(url, {"commit": head}, None)
    with pytest.raises(GitOperationFailed, match="refused the credentials"):
        source.fetch(url, {"commit": head}, {"username": b"git", "password": b"guessed"})

    packs = git_http_server.pack_requests
    assert not source.fetch(url, {"commit": head}, CREDS).fetched, "the owner's own cache serves it"
    assert git_http_server.pack_requests == packs

    # The credentials are revoked on the server: once their last proof is older than the window, an ls-remote
    # proves them again before a cached commit is served, and fails.
    source.access.proof_seconds = 0.0
    git_http_server.password = "rotated-password"
    with pytest.raises(GitOperationFailed, match="refused the credentials"):
        source.fetch(url, {"commit": head}, CREDS)
    assert all(b"s3cret" not in p.name.encode() for p in (tmp_path / "cache").iterdir())
