"""`gitops-tui sandbox up|down|status|kubeconfig` through the real CLI, persistence, auth, the demo."""

from __future__ import annotations

import json
import os
import signal
import ssl
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from gitops_tui.sandbox import manager
from tests.waiting import wait_until


class CliHome:
    """Runs `python -m gitops_tui` with GITOPS_TUI_HOME set to one temporary folder."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = dict(os.environ, GITOPS_TUI_HOME=str(home))
        self.kubeconfig = home / "sandbox" / "kubeconfig"

    def run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run the CLI; fail the test on a non-zero exit when `check`."""
        proc = subprocess.run([sys.executable, "-m", "gitops_tui", *args], capture_output=True,
                              text=True, env=self.env, timeout=timeout, check=False)
        if check:
            assert proc.returncode == 0, f"{args} -> {proc.returncode}: {proc.stderr}"
        return proc

    def popen(self, *args: str) -> subprocess.Popen:
        """Start the CLI without waiting."""
        return subprocess.Popen([sys.executable, "-m", "gitops_tui", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env)

    def status(self) -> dict:
        """Return `sandbox status -o json` as a dict."""
        return json.loads(self.run("sandbox", "status", "-o", "json", check=False).stdout)

    def kubectl(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        """Run real kubectl against the dev context."""
        proc = subprocess.run(["kubectl", "--kubeconfig", str(self.kubeconfig), "--context", "dev", *args],
                              input=input, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc


@pytest.fixture
def cli_home(tmp_path: Path):
    """A temporary data directory whose sandbox is stopped after the test."""
    home = CliHome(tmp_path / "data")
    yield home
    manager.down(home=home.home)


def _daemon_pids(sandbox_dir: Path) -> list[int]:
    """The daemons of ``sandbox_dir``: its processes but the cluster processes each daemon forked."""
    from gitops_tui.sandbox.layout import Layout, sandbox_processes

    found = sandbox_processes(Layout(sandbox_dir.parent))
    return [pid for pid in found
            if int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) not in found]


def test_up_status_kubeconfig_down(cli_home: CliHome) -> None:
    out = cli_home.run("sandbox", "up", "--clusters", "dev,staging", "--no-demo").stdout
    assert "sandbox is up" in out and "dev" in out and "staging" in out
    status = cli_home.status()
    assert status["running"] and status["pid"]
    assert {c["name"]: c["up"] for c in status["clusters"]} == {"management": True, "dev": True, "staging": True}

    path = cli_home.run("sandbox", "kubeconfig").stdout.strip()
    assert Path(path) == cli_home.kubeconfig
    assert stat.S_IMODE(cli_home.kubeconfig.stat().st_mode) == 0o600
    assert stat.S_IMODE((cli_home.home / "sandbox" / "state.json").stat().st_mode) == 0o600
    config = yaml.safe_load(cli_home.kubeconfig.read_text())
    assert [c["name"] for c in config["contexts"]] == ["management", "dev", "staging"]
    assert config["current-context"] == "management"
    for name in ("management", "dev", "staging"):
        assert (cli_home.home / "sandbox" / "clusters" / f"{name}.db").is_file()

    # Idempotent: a second up reports the running daemon, starts nothing new, writes nothing.
    def registration_rv() -> str:
        return cli_home.kubectl("--context", "management", "get", "kubefedcluster", "dev", "-n",
                                "kube-federation-system", "-o", "jsonpath={.metadata.resourceVersion}").stdout

    before = registration_rv()
    again = cli_home.run("sandbox", "up").stdout
    assert "already running" in again
    assert registration_rv() == before
    assert cli_home.status()["pid"] == status["pid"]
    assert _daemon_pids(cli_home.home / "sandbox") == [status["pid"]]

    assert "sandbox stopped" in cli_home.run("sandbox", "down").stdout
    assert not manager.pid_alive(status["pid"])
    log = (cli_home.home / "sandbox" / "daemon.log").read_text()
    assert f"sandbox daemon {status['pid']} stopped" in log  # a clean SIGTERM shutdown, not a kill
    stopped = cli_home.run("sandbox", "status", check=False)
    assert stopped.returncode == 3 and "not running" in stopped.stdout
    assert "was not running" in cli_home.run("sandbox", "down").stdout

    # Starting with other clusters keeps the state and unregisters the clusters that left.
    cli_home.run("sandbox", "up", "--clusters", "dev,prod")
    names = cli_home.kubectl("--context", "management", "get", "kubefedclusters", "-A", "-o", "name").stdout
    assert names.split() == ["kubefedcluster.core.kubefed.io/dev", "kubefedcluster.core.kubefed.io/prod"]
    config = yaml.safe_load(cli_home.kubeconfig.read_text())
    assert [c["name"] for c in config["contexts"]] == ["management", "dev", "prod"]
    changed = cli_home.run("sandbox", "up", "--clusters", "dev", check=False)
    assert changed.returncode == 1 and "sandbox down" in changed.stderr


def test_objects_and_resource_versions_survive_down_up_and_kill9(cli_home: CliHome) -> None:
    cli_home.run("sandbox", "up", "--clusters", "dev", "--no-demo")
    kubeconfig_before = cli_home.kubeconfig.read_text()
    cli_home.kubectl("create", "configmap", "keep", "--from-literal=answer=42")
    first = json.loads(cli_home.kubectl("get", "configmap", "keep", "-o", "json").stdout)

    def same_object() -> None:
        now = json.loads(cli_home.kubectl("get", "configmap", "keep", "-o", "json").stdout)
        assert now["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
        assert now["metadata"]["uid"] == first["metadata"]["uid"]
        assert now["data"] == {"answer": "42"}

    cli_home.run("sandbox", "down")
    cli_home.run("sandbox", "up")
    assert cli_home.kubeconfig.read_text() == kubeconfig_before  # same ports and tokens
    same_object()

    pid = cli_home.status()["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not manager.pid_alive(pid), timeout=10, message="daemon killed")
    assert cli_home.status()["running"] is False  # the stale pid is detected
    out = cli_home.run("sandbox", "up").stdout
    assert "sandbox is up" in out
    assert cli_home.status()["pid"] not in (None, pid)
    same_object()
    # New writes continue after the old history.
    cli_home.kubectl("create", "configmap", "after", "--from-literal=x=1")
    after = json.loads(cli_home.kubectl("get", "configmap", "after", "-o", "json").stdout)
    assert int(after["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    # The new daemon's simulator works: a Deployment becomes available.
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}},
                                        "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}
    cli_home.kubectl("apply", "-f", "-", input=json.dumps(deployment))
    wait_until(lambda: json.loads(cli_home.kubectl("get", "deployment", "web", "-o", "json").stdout)
               .get("status", {}).get("availableReplicas") == 1, timeout=20, message="web available")


def test_concurrent_up_starts_one_daemon(cli_home: CliHome) -> None:
    cli_home.env["GITOPS_TUI_NO_DEMO"] = "1"  # same as --no-demo
    procs = [cli_home.popen("sandbox", "up", "--clusters", "dev") for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    outputs = sorted(out for out, _ in results)
    assert "already running" in outputs[0] and "sandbox is up" in outputs[1]
    assert len(_daemon_pids(cli_home.home / "sandbox")) == 1
    projects = cli_home.kubectl("--context", "management", "get", "projects.gitops-tui.io", "-o", "name")
    assert projects.stdout.strip() == ""
    assert not (cli_home.home / "demo").exists()
    clusters = cli_home.kubectl("--context", "management", "get", "kubefedclusters", "-A", "-o", "name")
    assert clusters.stdout.split() == ["kubefedcluster.core.kubefed.io/dev"]


def test_user_mistakes_are_one_sentence(cli_home: CliHome) -> None:
    bad = cli_home.run("sandbox", "up", "--clusters", "Dev_1", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "not a valid workload cluster name" in bad.stderr
    missing = cli_home.run("sandbox", "kubeconfig", check=False)
    assert missing.returncode == 1 and "sandbox up" in missing.stderr and "Traceback" not in missing.stderr


def test_requests_without_token_get_401(sandbox) -> None:
    config = yaml.safe_load(sandbox.kubeconfig.read_text())
    server = next(c["cluster"]["server"] for c in config["clusters"] if c["name"] == "dev")
    token = next(u["user"]["token"] for u in config["users"] if u["name"] == "dev")
    context = ssl.create_default_context(cafile=str(sandbox.home / "sandbox" / "tls" / "ca.crt"))
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(server + "/api/v1/namespaces", context=context, timeout=10)  # noqa: S310
    assert denied.value.code == 401
    body = json.loads(denied.value.read())
    assert body["kind"] == "Status" and body["code"] == 401
    with pytest.raises(urllib.error.HTTPError) as wrong:
        urllib.request.urlopen(urllib.request.Request(  # noqa: S310
            server + "/api/v1/namespaces", headers={"Authorization": "Bearer wrong"}), context=context, timeout=10)
    assert wrong.value.code == 401
    ok = urllib.request.Request(server + "/api/v1/namespaces", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(ok, context=context, timeout=10) as resp:  # noqa: S310
        assert resp.status == 200 and json.loads(resp.read())["kind"] == "NamespaceList"


def test_clusters_are_registered_with_working_kubeconfig_secrets(sandbox) -> None:
    from gitops_tui.kube.client import api_client_from_kubeconfig_text, secret_value

    clusters = json.loads(sandbox.kubectl("management", "get", "kubefedclusters", "-n",
                                          "kube-federation-system", "-o", "json").stdout)["items"]
    by_name = {c["metadata"]["name"]: c for c in clusters}
    assert set(sandbox.clusters) <= set(by_name)
    dev = by_name["dev"]
    secret = json.loads(sandbox.kubectl("management", "get", "secret", dev["spec"]["secretRef"]["name"],
                                        "-n", "kube-federation-system", "-o", "json").stdout)
    text = secret_value(secret, "kubeconfig")
    assert text and yaml.safe_load(text)["clusters"][0]["cluster"]["server"] == dev["spec"]["apiEndpoint"]
    client = api_client_from_kubeconfig_text(text)
    from kubernetes import client as k8s

    names = [n.metadata.name for n in k8s.CoreV1Api(client).list_namespace().items]
    assert "default" in names


def test_demo_is_seeded(demo_sandbox) -> None:
    import git

    repo = git.Repo(demo_sandbox.home / "demo" / "podinfo.git")
    head = repo.commit("main")
    assert sorted(b.path for b in head.tree["apps"].blobs) == [
        "apps/configmap.yaml", "apps/deployment.yaml", "apps/helmrelease-frontend.yaml", "apps/service.yaml"]
    chart = head.tree["charts/podinfo-frontend"]
    assert sorted(b.name for b in chart.traverse() if b.type == "blob") == [
        "Chart.yaml", "configmap.yaml", "deployment.yaml", "service.yaml", "values.schema.json", "values.yaml"]
    release = yaml.safe_load(head.tree["apps/helmrelease-frontend.yaml"].data_stream.read())
    assert release["apiVersion"] == "helm.toolkit.fluxcd.io/v2"
    assert release["spec"]["chart"]["spec"] == {"chart": "./charts/podinfo-frontend",
                                                "sourceRef": {"kind": "GitRepository", "name": "podinfo"}}
    assert head.authored_datetime.isoformat() == "2024-01-01T00:00:00+00:00"
    assert head.author.name == "gitops-tui demo"
    project = json.loads(demo_sandbox.kubectl("management", "get", "projects.gitops-tui.io", "demo",
                                              "-o", "json").stdout)
    assert [c["name"] for c in project["spec"]["placement"]["clusters"]] == ["dev", "staging", "prod"]
    ks = json.loads(demo_sandbox.kubectl("management", "get", "federatedkustomizations", "podinfo",
                                         "-n", "demo", "-o", "json").stdout)
    spec = ks["spec"]["template"]["spec"]
    assert (spec["path"], spec["prune"], spec["interval"]) == ("./apps", True, "1m")
    gitrepo = json.loads(demo_sandbox.kubectl("management", "get", "federatedgitrepositories", "podinfo",
                                              "-n", "demo", "-o", "json").stdout)
    assert gitrepo["spec"]["template"]["spec"]["url"] == str(demo_sandbox.home / "demo" / "podinfo.git")
    assert gitrepo["spec"]["template"]["spec"]["ref"] == {"branch": "main"}
    secret = json.loads(demo_sandbox.kubectl("management", "get", "federatedsecrets", "git-credentials",
                                             "-n", "demo", "-o", "json").stdout)
    assert sorted(secret["spec"]["template"]["data"]) == ["password", "username"]


def test_demo_commit_is_deterministic(tmp_path: Path) -> None:
    """The demo repository's commit is the same wherever and whenever it is made."""
    import git

    from gitops_tui.sandbox.seed import make_demo_repo

    first = git.Repo(make_demo_repo(tmp_path / "a")).commit("main").hexsha
    second = git.Repo(make_demo_repo(tmp_path / "b")).commit("main").hexsha
    assert first == second


def test_demo_is_seeded_on_first_start_only(cli_home: CliHome) -> None:
    cli_home.run("sandbox", "up", "--clusters", "dev")
    project = json.loads(cli_home.run("sandbox", "status", "-o", "json").stdout)
    assert project["running"]
    get = ["kubectl", "--kubeconfig", str(cli_home.kubeconfig), "--context", "management"]
    shown = subprocess.run([*get, "get", "projects.gitops-tui.io", "demo", "-o", "json"],
                           capture_output=True, text=True, timeout=60, check=True)
    assert [c["name"] for c in json.loads(shown.stdout)["spec"]["placement"]["clusters"]] == ["dev"]
    subprocess.run([*get, "delete", "projects.gitops-tui.io", "demo"], capture_output=True, timeout=60, check=True)
    cli_home.run("sandbox", "down")
    cli_home.run("sandbox", "up")
    again = subprocess.run([*get, "get", "projects.gitops-tui.io", "demo"], capture_output=True, text=True,
                           timeout=60, check=False)
    assert again.returncode != 0 and "NotFound" in again.stderr
    # The clusters are registered again on every start.
    registered = subprocess.run([*get, "get", "kubefedclusters", "-n", "kube-federation-system", "-o", "name"],
                                capture_output=True, text=True, timeout=60, check=True)
    assert registered.stdout.split() == ["kubefedcluster.core.kubefed.io/dev"]


def test_taken_port_moves_the_cluster_and_updates_kubeconfig_and_registration(cli_home: CliHome) -> None:
    import socket

    cli_home.run("sandbox", "up", "--clusters", "dev", "--no-demo")
    old = next(c["url"] for c in cli_home.status()["clusters"] if c["name"] == "dev")
    cli_home.run("sandbox", "down")
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", int(old.rsplit(":", 1)[1])))
    blocker.listen(1)
    try:
        cli_home.run("sandbox", "up")
        new = next(c for c in cli_home.status()["clusters"] if c["name"] == "dev")
        assert new["up"] and new["url"] != old
        config = yaml.safe_load(cli_home.kubeconfig.read_text())
        assert next(c["cluster"]["server"] for c in config["clusters"] if c["name"] == "dev") == new["url"]
        endpoint = cli_home.kubectl("--context", "management", "get", "kubefedcluster", "dev", "-n",
                                    "kube-federation-system", "-o", "jsonpath={.spec.apiEndpoint}").stdout
        assert endpoint == new["url"]
    finally:
        blocker.close()
