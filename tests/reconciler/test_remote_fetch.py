"""No fetch the operator did not configure: remote kustomize references and local sources outside the allowed folders.

Issue 8 item 3: an ``http://`` kustomize resource used to be fetched and applied, and a source pointing at
the git cache of another project's private repository read it without credentials.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gitops_tui import paths
from gitops_tui.actions import ActionError, resources
from gitops_tui.actions import sources as actions
from gitops_tui.api import builders, names
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.context import management_path
from gitops_tui.reconciler.errors import BuildFailed
from gitops_tui.reconciler.render import render
from gitops_tui.reconciler.source import GitSource
from gitops_tui.reconciler.source_controller import reconcile_source
from gitops_tui.reconciler.source_urls import ALLOW_ENV, SourceUrlRefused
from tests.gitserver import GitHttpServer, git_http_server, make_bare, make_repo  # noqa: F401
from tests.world import World, configmap

CM = configmap("from-the-web")


class CountingServer:
    """A plain HTTP server answering every GET with a ConfigMap, counting the requests it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                owner.requests.append(self.path)
                body = CM.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def web() -> Iterator[CountingServer]:
    """A counting HTTP server for the duration of a test."""
    server = CountingServer()
    try:
        yield server
    finally:
        server.close()


def kustomization_cases(base: str) -> list[tuple[str, str, str]]:
    """(id, kustomization.yaml text, the reference the refusal must name)."""
    return [
        ("http-resource", f"resources:\n- {base}/cm.yaml\n", f"{base}/cm.yaml"),
        ("git-scheme", f"resources:\n- git::{base}/repo.git//deploy?ref=main\n", "git::"),
        ("github-shorthand", "resources:\n- github.com/example/repo//deploy?ref=v1\n", "github.com/example/repo"),
        ("https-repo", "resources:\n- https://github.com/example/repo//deploy\n", "https://github.com/example/repo"),
        ("scp-like", "resources:\n- git@github.com:example/repo.git\n", "git@github.com:example/repo.git"),
        ("ssh", "bases:\n- ssh://git@example.com/repo.git\n", "ssh://git@example.com/repo.git"),
        ("component", f"components:\n- {base}/component\n", f"{base}/component"),
        ("patch-path", f"resources:\n- cm.yaml\npatches:\n- path: {base}/patch.yaml\n", f"{base}/patch.yaml"),
        ("strategic-patch", f"resources:\n- cm.yaml\npatchesStrategicMerge:\n- {base}/p.yaml\n", f"{base}/p.yaml"),
        ("generator-file", f"configMapGenerator:\n- name: g\n  files:\n  - key={base}/f.txt\n", f"{base}/f.txt"),
        ("generator-env", f"secretGenerator:\n- name: s\n  envs:\n  - {base}/s.env\n", f"{base}/s.env"),
        ("openapi", f"resources:\n- cm.yaml\nopenapi:\n  path: {base}/schema.json\n", f"{base}/schema.json"),
        ("crds", f"resources:\n- cm.yaml\ncrds:\n- {base}/crd.yaml\n", f"{base}/crd.yaml"),
        ("replacement", f"resources:\n- cm.yaml\nreplacements:\n- path: {base}/r.yaml\n", f"{base}/r.yaml"),
        ("transformer-url", f"resources:\n- cm.yaml\ntransformers:\n- {base}/t.yaml\n", f"{base}/t.yaml"),
        ("inline-transformer",
         "resources:\n- cm.yaml\ntransformers:\n- |-\n  apiVersion: builtin\n  kind: PatchTransformer\n"
         f"  metadata:\n    name: p\n  path: {base}/p.yaml\n", f"{base}/p.yaml"),
        ("helm-charts", "helmCharts:\n- name: x\n  repo: https://charts.example.com\n", "helmCharts"),
        ("absolute-file", "resources:\n- cm.yaml\nconfigMapGenerator:\n- name: g\n  files:\n  - /etc/hostname\n",
         "/etc/hostname"),
    ]


CASE_IDS = [case[0] for case in kustomization_cases("http://x")]


@pytest.mark.parametrize("case", CASE_IDS)
def test_remote_and_outside_kustomize_references_are_refused_before_kustomize_runs(
        tmp_path: Path, web: CountingServer, case: str) -> None:
    _, text, named = next(c for c in kustomization_cases(web.url) if c[0] == case)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "kustomization.yaml").write_text(text)
    (tmp_path / "deploy" / "cm.yaml").write_text(configmap("local"))
    with pytest.raises(BuildFailed) as caught:
        render(tmp_path, "deploy")
    assert named in caught.value.message
    assert caught.value.message.startswith("deploy/kustomization.yaml ")
    assert web.requests == [], "nothing was fetched"


def test_a_nested_base_with_a_remote_resource_is_refused(tmp_path: Path, web: CountingServer) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "base").mkdir()
    (tmp_path / "app" / "kustomization.yaml").write_text("resources:\n- ../base\n")
    (tmp_path / "base" / "kustomization.yaml").write_text(f"resources:\n- {web.url}/cm.yaml\n")
    with pytest.raises(BuildFailed, match="base/kustomization.yaml refers to the remote resources"):
        render(tmp_path, "app")
    assert web.requests == []


def test_local_kustomizations_still_build(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "kustomization.yaml").write_text(
        "resources:\n- cm.yaml\nconfigMapGenerator:\n- name: g\n  files:\n  - key=f.txt\n"
        "patches:\n- patch: |-\n    - op: add\n      path: /data/x\n      value: z\n  target:\n    kind: ConfigMap\n"
        "    name: local\n")
    (tmp_path / "deploy" / "cm.yaml").write_text(configmap("local"))
    (tmp_path / "deploy" / "f.txt").write_text("hello")
    objects = {m.obj["metadata"]["name"]: m.obj for m in render(tmp_path, "deploy")}
    assert objects["local"]["data"] == {"value": "v1", "x": "z"}
    assert any(name.startswith("g-") for name in objects)


def test_an_http_kustomize_resource_refuses_the_revision_on_the_sandbox(world: World, web: CountingServer) -> None:
    repo = world.repo("remote", {"deploy/kustomization.yaml": f"resources:\n- {web.url}/cm.yaml\n- local.yaml\n",
                                 "deploy/local.yaml": configmap("local")})
    world.create("remote", str(repo), path="./deploy")
    world.reconcile("remote")
    ready = world.condition("remote", "Ready")
    assert ready["status"] == "False" and ready["reason"] == "BuildFailed"
    assert f"{web.url}/cm.yaml" in ready["message"]
    assert web.requests == [], "the URL was never fetched"
    for cluster in ("dev", "staging", "prod"):
        assert world.get(cluster, "configmaps", "from-the-web") is None
        assert world.get(cluster, "configmaps", "local") is None, "nothing of the revision is applied"


# -- source URLs ----------------------------------------------------------------------------------

def test_a_source_on_another_projects_git_cache_is_refused(
        world: World, git_http_server: GitHttpServer) -> None:  # noqa: F811
    """The victim's private repository is fetched with credentials; the attacker points a source at its cache."""
    work = make_repo(world.tmp / "private-work", {"deploy/secret-plan.yaml": configmap("private")})
    make_bare(work, git_http_server.root / "private.git")
    secret = "git-creds"
    resources.create_secret(world.api, world.project, secret,
                            {"username": b"git", "password": git_http_server.password.encode()})
    world.create("private", git_http_server.url("private.git"), path="./deploy", secret=secret)
    data_dir = paths.data_dir() / "reconciler"  # where `run` and the console keep their git caches
    ctx = dataclasses.replace(world.ctx, git=GitSource(data_dir / "git", data_dir=data_dir), data_dir=data_dir)
    reconcile_source(ctx, world.namespace, "private")
    assert world.condition("private", "Ready")["status"] == "True"
    cache = ctx.git.repo_dir(git_http_server.url("private.git"),
                             {"username": b"git", "password": git_http_server.password.encode()}) / "git"
    assert (cache / "HEAD").is_file(), "the victim's cache exists"

    attacker = f"attacker-{world.project}"
    resources.create_project(world.api, attacker, ["dev"])
    try:
        for url in (str(cache), f"file://{cache}", f"{data_dir}/git/../git/{cache.parent.name}/git"):
            with pytest.raises(ActionError, match="inside the reconciler's data directory"):
                actions.create_source(world.api, attacker, "steal", url, local_repos=[Path("/")])
        # Written with kubectl (no CLI check): the reconciler refuses it at fetch time, naming the URL.
        repository, kustomization = builders.new_source("steal", attacker, str(cache), ref={"branch": "main"},
                                                        path="./deploy")
        for obj in (repository, kustomization):
            json_request(world.api, "POST", management_path(obj["kind"], attacker), obj)
        reconcile_source(ctx, attacker, "steal")
        fk = json_request(world.api, "GET", management_path(names.KIND_FEDERATED_KUSTOMIZATION, attacker, "steal"))
        ready = next(c for c in fk["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "False" and ready["reason"] == "URLNotAllowed"
        assert str(cache) in ready["message"]
        dev = world.sandbox.api_client("dev")
        listed = json_request(dev, "GET", f"/api/v1/namespaces/{attacker}/configmaps")
        assert "private" not in {i["metadata"]["name"] for i in listed.get("items") or []}
    finally:
        for kind in (names.KIND_FEDERATED_KUSTOMIZATION, names.KIND_FEDERATED_GIT_REPOSITORY):
            for method, body in (("PATCH", {"metadata": {"finalizers": None}}), ("DELETE", None)):
                try:
                    json_request(world.api, method, management_path(kind, attacker, "steal"), body,
                                 content_type="application/merge-patch+json")
                except Exception:  # noqa: BLE001 - cleanup
                    pass
        resources.delete_project(world.api, attacker)


def test_local_sources_only_under_the_allowed_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    allowed = make_repo(tmp_path / "allowed" / "repo", {"a.yaml": configmap("a")})
    outside = make_repo(tmp_path / "outside" / "repo", {"a.yaml": configmap("a")})
    (tmp_path / "allowed" / "link").symlink_to(outside)
    source = GitSource(tmp_path / "cache", local_roots=[tmp_path / "allowed"])
    assert source.fetch(str(allowed), {"branch": "main"}).commit
    assert source.fetch(f"file://{allowed}", {"branch": "main"}).commit
    for url in (str(outside), f"file://{outside}", str(tmp_path / "allowed" / "link"),
                f"{tmp_path}/allowed/../outside/repo"):
        with pytest.raises(SourceUrlRefused, match="outside the directories allowed"):
            source.fetch(url, {"branch": "main"})
    for url in ("repo", "./repo", "ext::sh -c id", "fd::3", "ftp://example.com/x.git", "file://otherhost/x"):
        with pytest.raises(SourceUrlRefused, match="is not a git URL"):
            source.fetch(url, {"branch": "main"})
    # Without a flag or the variable, only the sandbox demo folder is allowed.
    monkeypatch.delenv(ALLOW_ENV)
    monkeypatch.setenv("GITOPS_TUI_HOME", str(tmp_path / "home"))
    demo = make_repo(tmp_path / "home" / "demo" / "podinfo.git", {"a.yaml": configmap("a")})
    default = GitSource(tmp_path / "cache2")
    assert default.fetch(str(demo), {"branch": "main"}).commit
    with pytest.raises(SourceUrlRefused, match=str(tmp_path / "home" / "demo")):
        default.fetch(str(allowed), {"branch": "main"})


def test_remote_urls_pass_the_check(tmp_path: Path) -> None:
    from gitops_tui.reconciler.source_urls import check_source_url

    for url in ("https://github.com/x/y.git", "http://127.0.0.1:8080/y.git", "ssh://git@example.com/y.git",
                "git@github.com:x/y.git", "git://example.com/y.git"):
        check_source_url(url, (), ())


def test_run_and_the_console_take_allow_local_repos(tmp_path: Path) -> None:
    from gitops_tui.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["run", "--allow-local-repos", str(tmp_path), "--allow-local-repos", "/srv/git"])
    assert args.allow_local_repos == [tmp_path, Path("/srv/git")]
    assert parser.parse_args(["--allow-local-repos", str(tmp_path)]).local_repos == [str(tmp_path)]
    assert os.pathsep == ":"


def test_the_second_wall_kustomize_cannot_clone_in_the_guard_environment(tmp_path: Path) -> None:
    """Were a remote reference to slip past the checks, kustomize would still fail to clone it."""
    import subprocess

    from gitops_tui.reconciler.kustomize_guard import SAFE_ENVIRONMENT

    make_repo(tmp_path / "remote", {"deploy/cm.yaml": configmap("cloned"), "deploy/kustomization.yaml":
                                    "resources:\n- cm.yaml\n"})
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "kustomization.yaml").write_text(f"resources:\n- file://{tmp_path}/remote//deploy?ref=main\n")
    command = ["kubectl", "kustomize", str(tmp_path / "app")]
    plain = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert "name: cloned" in plain.stdout, "without the guard's environment kustomize clones it"
    guarded = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False,
                             env={**os.environ, **SAFE_ENVIRONMENT})
    assert guarded.returncode != 0 and "transport 'file' not allowed" in guarded.stderr
