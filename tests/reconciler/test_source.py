"""Tests of the git source: real repositories, a local smart-HTTP server with basic auth, refs and cache."""

from __future__ import annotations

import base64
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitops_tui.reconciler import refs
from gitops_tui.reconciler.errors import ArtifactFailed, GitOperationFailed
from gitops_tui.reconciler.gitauth import git_environment
from gitops_tui.reconciler.source import GitSource
from gitops_tui.reconciler.source_urls import SourceUrlRefused
from gitops_tui.redact import scrub
from tests.gitserver import (  # noqa: F401 - git_http_server is a fixture
    GitHttpServer,
    SshGitServer,
    commit,
    git,
    git_http_server,
    make_bare,
    make_repo,
    push,
    ssh_available,
    tag,
)

PASSWORD = "s3cret-pass"
CREDS = {"username": b"git", "password": PASSWORD.encode()}
FILES = {"deploy/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n", "README.md": "hi\n"}


@pytest.fixture
def served(tmp_path: Path, git_http_server: GitHttpServer) -> tuple[Path, Path, str]:  # noqa: F811
    """A work repository, its served bare copy and the bare copy's URL."""
    work = make_repo(tmp_path / "work", FILES)
    bare = make_bare(work, git_http_server.root / "podinfo.git")
    return work, bare, git_http_server.url("podinfo.git")


def test_https_basic_auth_fetch_and_cache(
    tmp_path: Path, git_http_server: GitHttpServer, served: tuple[Path, Path, str]  # noqa: F811
) -> None:
    work, bare, url = served
    source = GitSource(tmp_path / "cache")
    head = git(work, "rev-parse", "HEAD")

    first = source.fetch(url, {"branch": "main"}, CREDS, timeout=30)
    assert first.revision == f"main@sha1:{head}" and first.commit == head
    assert first.fetched and first.checked_out
    assert (first.path / "deploy/app.yaml").read_text() == FILES["deploy/app.yaml"]
    assert not (first.path / ".git").exists()
    mode = (first.path / "deploy/app.yaml").stat().st_mode
    assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), "artifact files must be read-only"

    # Unchanged: no download (no upload-pack POST) and no new checkout.
    packs = git_http_server.pack_requests
    again = source.fetch(url, {"branch": "main"}, CREDS, timeout=30)
    assert again.path == first.path and not again.fetched and not again.checked_out
    assert git_http_server.pack_requests == packs > 0

    # A new commit on main and one on another branch: only main is fetched.
    git(work, "checkout", "-q", "-b", "other")
    commit(work, {"other.yaml": "x: 1\n"}, "other")
    git(work, "checkout", "-q", "main")
    new_head = commit(work, {"deploy/app.yaml": None, "deploy/new.yaml": "a: 1\n"}, "move")
    push(work, bare)
    updated = source.fetch(url, {"branch": "main"}, CREDS, timeout=30)
    assert updated.revision == f"main@sha1:{new_head}" and updated.fetched and updated.checked_out
    assert git_http_server.pack_requests == packs + 1
    assert sorted(p.name for p in (updated.path / "deploy").iterdir()) == ["new.yaml"]
    cached_refs = git(source.repo_dir(url, CREDS) / "git", "for-each-ref", "--format=%(refname)")
    assert "refs/heads/other" not in cached_refs and "refs/heads/main" in cached_refs


def test_https_bearer_token_and_url_credentials(
    tmp_path: Path, git_http_server: GitHttpServer, served: tuple[Path, Path, str]  # noqa: F811
) -> None:
    _, _, url = served
    source = GitSource(tmp_path / "cache")
    assert source.fetch(url, {"branch": "main"}, {"bearerToken": b"t0ken-value"}).commit
    with_userinfo = url.replace("http://", f"http://git:{PASSWORD}@")
    artifact = source.fetch(with_userinfo, {"branch": "main"}, None)
    assert artifact.revision.startswith("main@sha1:")
    # The cache is keyed by URL and credentials: user:password@ is the same credentials as a Secret holding them.
    assert source.repo_dir(with_userinfo) == source.repo_dir(url, {"username": b"git", "password": PASSWORD.encode()})
    assert source.repo_dir(url, {"bearerToken": b"t0ken-value"}) != source.repo_dir(url) != source.repo_dir(with_userinfo)
    assert PASSWORD not in str(source.repo_dir(with_userinfo)) and "t0ken" not in str(source.repo_dir(url))


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        ({"username": b"git", "password": b"wrong-password-123"}, "refused the credentials"),
        ({"bearerToken": b"wrong-token-abcdef"}, "refused the credentials"),
        (None, "requires authentication"),
    ],
)
def test_wrong_credentials_fail_without_leaking(
    tmp_path: Path, served: tuple[Path, Path, str], credentials: dict[str, bytes] | None, expected: str
) -> None:
    _, _, url = served
    with pytest.raises(GitOperationFailed) as caught:
        GitSource(tmp_path / "cache").fetch(url, {"branch": "main"}, credentials, timeout=30)
    error = caught.value
    assert error.reason == "GitOperationFailed"
    assert expected in error.message and "127.0.0.1" in error.message
    assert "(git: " in error.message and ("Authentication failed" in error.message or "could not read" in
                                          error.message), f"git's own reason is kept: {error.message}"
    for key in ("password", "bearerToken"):
        if credentials and key in credentials:
            assert credentials[key].decode() not in error.message
    if credentials and "password" in credentials:
        assert base64.b64encode(b"git:wrong-password-123").decode() not in error.message


def test_url_password_never_in_error(tmp_path: Path, served: tuple[Path, Path, str]) -> None:
    _, _, url = served
    bad = url.replace("http://", "http://git:Leaky-Pass-99@")
    with pytest.raises(GitOperationFailed) as caught:
        GitSource(tmp_path / "cache").fetch(bad, {"branch": "main"}, None, timeout=30)
    assert "Leaky-Pass-99" not in str(caught.value)


def test_missing_branch_and_tag(tmp_path: Path, served: tuple[Path, Path, str]) -> None:
    _, _, url = served
    source = GitSource(tmp_path / "cache")
    with pytest.raises(GitOperationFailed, match="branch 'nope' not found"):
        source.fetch(url, {"branch": "nope"}, CREDS)
    with pytest.raises(GitOperationFailed, match="tag 'v9' not found"):
        source.fetch(url, {"tag": "v9"}, CREDS)


def test_unreachable_server(tmp_path: Path) -> None:
    with pytest.raises(GitOperationFailed, match="git operation on http://127.0.0.1:9/x.git failed"):
        GitSource(tmp_path / "cache").fetch("http://127.0.0.1:9/x.git", {"branch": "main"}, CREDS, timeout=10)


@pytest.fixture
def local_repo(tmp_path: Path) -> Path:
    """A local repository with tags v1.0.0, v1.2.0 (annotated), v2.0.0 and a later main commit."""
    repo = make_repo(tmp_path / "local", {"a.yaml": "v: 1\n"})
    tag(repo, "v1.0.0")
    commit(repo, {"a.yaml": "v: 12\n"})
    tag(repo, "v1.2.0", annotated=True)
    commit(repo, {"a.yaml": "v: 2\n"})
    tag(repo, "v2.0.0")
    commit(repo, {"a.yaml": "v: main\n"})
    return repo


@pytest.mark.parametrize("scheme", ["file", "path"])
def test_local_refs(tmp_path: Path, local_repo: Path, scheme: str) -> None:
    url = f"file://{local_repo}" if scheme == "file" else str(local_repo)
    source = GitSource(tmp_path / "cache")
    main = source.fetch(url, {"branch": "main"})
    assert (main.path / "a.yaml").read_text() == "v: main\n"
    annotated = source.fetch(url, {"tag": "v1.2.0"})
    assert annotated.commit == git(local_repo, "rev-parse", "v1.2.0^{commit}")
    assert annotated.revision == f"v1.2.0@sha1:{annotated.commit}"
    assert (annotated.path / "a.yaml").read_text() == "v: 12\n"
    semver = source.fetch(url, {"semver": ">=1.0.0 <2.0.0"})
    assert semver.revision.startswith("v1.2.0@sha1:") and semver.commit == annotated.commit
    assert source.fetch(url, {"semver": "~1.0"}).revision.startswith("v1.0.0@")
    old = git(local_repo, "rev-parse", "v1.0.0")
    pinned = source.fetch(url, {"commit": old})
    assert pinned.revision == f"sha1:{old}" and (pinned.path / "a.yaml").read_text() == "v: 1\n"
    assert source.fetch(url, {"branch": "main", "commit": old}).revision == f"main@sha1:{old}"
    with pytest.raises(GitOperationFailed, match="no tag .* matches semver constraint '>=3'"):
        source.fetch(url, {"semver": ">=3"})
    with pytest.raises(GitOperationFailed, match="not found"):
        source.fetch(url, {"commit": "f" * 40})
    with pytest.raises(GitOperationFailed, match="full 40-character"):
        source.fetch(url, {"commit": "abc"})


def test_commit_fetch_into_fresh_cache(tmp_path: Path, local_repo: Path) -> None:
    old = git(local_repo, "rev-parse", "v1.0.0")
    artifact = GitSource(tmp_path / "cache").fetch(f"file://{local_repo}", {"commit": old})
    assert artifact.commit == old and artifact.fetched


def test_old_trees_are_pruned(tmp_path: Path, local_repo: Path) -> None:
    source = GitSource(tmp_path / "cache", keep_trees=2)
    url = str(local_repo)
    paths = [source.fetch(url, {"tag": t}).path for t in ("v1.0.0", "v1.2.0", "v2.0.0")]
    assert not paths[0].exists() and paths[1].exists() and paths[2].exists()


def test_ssh_environment_uses_temporary_key_file() -> None:
    creds = {"identity": b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAsecretkeymaterial\n-----END OPENSSH PRIVATE KEY-----\n",
             "known_hosts": b"example.com ssh-ed25519 AAAAC3Nza\n"}
    with git_environment("ssh://git@example.com/repo.git", creds) as env:
        command = env["GIT_SSH_COMMAND"]
        key_file = Path(command.split(" -i ")[1].split()[0])
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert key_file.read_bytes() == creds["identity"]
        assert "StrictHostKeyChecking=yes" in command and "AAAAsecretkeymaterial" not in command
    assert not key_file.exists() and not key_file.parent.exists()


def test_url_credentials_are_split_and_unquoted() -> None:
    from gitops_tui.reconciler.gitauth import split_url_credentials

    url, creds = split_url_credentials("https://bob:p%40ss@git.example.com:8443/r.git")
    assert url == "https://git.example.com:8443/r.git"
    assert creds == {"username": b"bob", "password": b"p@ss"}
    assert split_url_credentials("file:///tmp/r") == ("file:///tmp/r", {})


def test_scrub_removes_secrets() -> None:
    creds = {"username": b"bob", "password": b"hunter2-long", "bearerToken": b"tok-123456"}
    text = "fatal: https://bob:hunter2-long@h/x Authorization: Basic Ym9iOmh1bnRlcjItbG9uZw== tok-123456"
    cleaned = scrub(text, creds)
    assert "hunter2" not in cleaned and "tok-123456" not in cleaned and "Ym9i" not in cleaned


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [(">=1.0.0 <2.0.0", "v1.10.1"), ("~1.2", "v1.2.0"), ("^1", "v1.10.1"), ("1.x", "v1.10.1"),
     ("*", "v2.0.0"), (">=2.0.0-0", "v2.1.0-rc.1"), ("<1.2.0", "v1.0.0"), ("1.0.0 - 1.2.0", "v1.2.0"),
     (">= 1.0.0, < 1.5", "1.3.0"), ("2.x || 1.2.x", "v2.0.0"), (">=5", None)],
)
def test_semver_selection(constraint: str, expected: str | None) -> None:
    tags = ["v1.0.0", "v1.2.0", "v1.10.1", "v2.0.0", "v2.1.0-rc.1", "junk", "1.3.0"]
    assert refs.best_tag(tags, constraint) == expected


def test_semver_rejects_bad_constraint() -> None:
    with pytest.raises(ValueError):
        refs.best_tag(["v1.0.0"], ">=one")


def test_timeout_names_the_limit(tmp_path: Path) -> None:
    import socket

    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/x.git"
        with pytest.raises(GitOperationFailed, match="timed out after 1.5s"):
            GitSource(tmp_path / "cache").fetch(url, {"branch": "main"}, None, timeout=1.5)


@pytest.fixture
def ssh_server(tmp_path: Path) -> Iterator[SshGitServer]:
    """A real sshd serving git over ssh, stopped after the test."""
    if not ssh_available():
        pytest.skip("needs openssh-server and root")
    server = SshGitServer(tmp_path / "ssh").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.ssh
def test_ssh_identity_and_known_hosts(
    tmp_path: Path, ssh_server: SshGitServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = make_repo(tmp_path / "work", FILES)
    bare = make_bare(work, tmp_path / "ssh-served" / "repo.git")
    url = ssh_server.url(bare)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    source = GitSource(tmp_path / "cache")

    good = {"identity": ssh_server.client_key, "known_hosts": ssh_server.known_hosts}
    artifact = source.fetch(url, {"branch": "main"}, good, timeout=30)
    assert artifact.revision == f"main@sha1:{git(work, 'rev-parse', 'HEAD')}"
    assert (artifact.path / "deploy/app.yaml").exists()

    with pytest.raises(GitOperationFailed) as refused:
        source.fetch(url, {"branch": "other"}, {"identity": ssh_server.other_key, "known_hosts": ssh_server.known_hosts}, timeout=30)
    assert "refused the credentials" in refused.value.message
    assert "PRIVATE KEY" not in refused.value.message

    with pytest.raises(GitOperationFailed, match="host key .* is not trusted"):
        source.fetch(url, {"branch": "other"}, {"identity": ssh_server.client_key}, timeout=30)
    assert list(scratch.iterdir()) == [], "temporary key files must be deleted"


def test_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "links", FILES)
    (repo / "deploy" / "passwd.yaml").symlink_to("/etc/passwd")
    commit(repo, {}, "escape")
    with pytest.raises(ArtifactFailed) as caught:
        GitSource(tmp_path / "cache").fetch(str(repo), {"branch": "main"})
    assert caught.value.reason == "ArtifactFailed" and "unsafe entry" in caught.value.message
    assert "deploy/passwd.yaml" in caught.value.message


def test_concurrent_fetches_of_one_url_share_the_cache(tmp_path: Path, local_repo: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    source = GitSource(tmp_path / "cache")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda ref: source.fetch(str(local_repo), ref),
                                [{"branch": "main"}, {"tag": "v1.0.0"}, {"branch": "main"}, {"semver": "^1"}]))
    assert results[0].path == results[2].path and results[0].commit == results[2].commit
    assert sum(1 for r in (results[0], results[2]) if r.checked_out) == 1
    assert all((r.path / "a.yaml").exists() for r in results)


def test_command_transports_are_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(SourceUrlRefused, match="is not a git URL"):  # refused before git runs
        GitSource(tmp_path / "cache").fetch(f"ext::sh -c touch% {marker}", {"branch": "main"}, timeout=10)
    assert not marker.exists()


def test_ssh_from_tenant_content_connects_to_the_checked_address_and_keeps_the_host_key_check(
    tmp_path: Path, ssh_server: SshGitServer
) -> None:
    """An ssh URL a repository declares: allowed by a pattern, resolved once, the host key still checked by name."""
    from gitops_tui.kube.outbound import FetchPolicy

    work = make_repo(tmp_path / "work", FILES)
    bare = make_bare(work, tmp_path / "ssh-served" / "repo.git")
    url = ssh_server.url(bare).replace("@127.0.0.1:", "@git.tenant.test:")
    known_hosts = ssh_server.known_hosts.replace(b"[127.0.0.1]", b"[git.tenant.test]")
    creds = {"identity": ssh_server.client_key, "known_hosts": known_hosts}
    source = GitSource(tmp_path / "cache")
    with pytest.raises(SourceUrlRefused, match="ssh URLs from a repository's content are fetched only when a pattern"):
        source.fetch(url, {"branch": "main"}, creds, timeout=30, allow=FetchPolicy())
    allow = FetchPolicy([f"ssh://git.tenant.test:{ssh_server.port}/*"], resolver=lambda host, port: ["127.0.0.1"])
    artifact = source.fetch(url, {"branch": "main"}, creds, timeout=30, allow=allow)
    assert artifact.commit == git(work, "rev-parse", "HEAD")
    wrong = {"identity": ssh_server.client_key, "known_hosts": ssh_server.known_hosts}  # a key for another name
    with pytest.raises(GitOperationFailed, match="ssh host key"):
        GitSource(tmp_path / "cache2").fetch(url, {"branch": "main"}, wrong, timeout=30, allow=allow)
