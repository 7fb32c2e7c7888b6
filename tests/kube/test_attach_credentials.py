"""Issue 8 item 2: no code or file named by a stored kubeconfig runs or is read; attach joins with a token.

Every test runs on a sandbox of its own (management + dev), so planted clusters and leases touch no
other test. The traps are real: an exec plugin that writes a marker file, FIFOs that notice being opened.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import ActionError, resources
from gitops_tui.api import builders, names
from gitops_tui.kube.client import ClusterConnections, json_request
from gitops_tui.reconciler.clusters import probe_cluster
from gitops_tui.reconciler.context import management_path
from tests.conftest import Sandbox, start_sandbox, stop_sandbox
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(180)


class OpenDetector:
    """A FIFO that notices when anyone opens it for reading (a file the product must never read)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        os.mkfifo(path)
        self.opened = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._serve, daemon=True, name=f"fifo {path.name}")
        self._thread.start()

    def _serve(self) -> None:
        fd = os.open(self.path, os.O_WRONLY)  # blocks until a reader opens the FIFO
        if not self._closing:
            self.opened.set()
        try:
            os.write(fd, b"not what you hoped for\n")
        except OSError:
            pass
        os.close(fd)

    def close(self) -> bool:
        """Release the waiting writer; return whether someone else had opened the FIFO."""
        was_opened = self.opened.is_set()
        self._closing = True
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        self._thread.join(5)
        os.close(fd)
        return was_opened


def exec_plugin(path: Path, marker: Path, token: str) -> Path:
    """A real credential plugin: it writes ``marker`` and prints an ExecCredential holding ``token``."""
    path.write_text(
        "#!/bin/sh\n"
        f"echo ran >> '{marker}'\n"
        "printf '%s' '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
        f"\"status\":{{\"token\":\"{token}\"}}}}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def kubeconfig(server: str, cluster: dict[str, Any], user: dict[str, Any], name: str = "c") -> str:
    """A one-context kubeconfig text."""
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": name,
                           "clusters": [{"name": name, "cluster": {"server": server, **cluster}}],
                           "users": [{"name": name, "user": user}],
                           "contexts": [{"name": name, "context": {"cluster": name, "user": name}}]})


def exec_user(plugin: Path) -> dict[str, Any]:
    """A kubeconfig user whose credential comes from ``plugin``."""
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                     "interactiveMode": "Never"}}


def ready_condition(api: Any, name: str) -> dict[str, Any]:
    """The Ready condition of KubeFedCluster ``name`` ({} before the first health check)."""
    kfc = json_request(api, "GET", management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE, name))
    found = [c for c in (kfc.get("status") or {}).get("conditions") or [] if c.get("type") == names.READY]
    return found[0] if found else {}


def health_context(connections: ClusterConnections) -> Any:
    """What the health probe reads of a ReconcileContext: its cluster connections."""
    return SimpleNamespace(clusters=connections)


def stored_kubeconfig(api: Any, name: str) -> dict[str, Any]:
    """The kubeconfig kept in the management cluster for cluster ``name``."""
    secret = json_request(api, "GET", f"/api/v1/namespaces/{names.FEDERATION_NAMESPACE}/secrets/{name}-kubeconfig")
    return yaml.safe_load(base64.b64decode(secret["data"][names.KUBECONFIG_SECRET_KEY]))


class World:
    """The module's own sandbox and the traps planted in it."""

    def __init__(self, box: Sandbox, tmp: Path) -> None:
        self.box = box
        self.tmp = tmp
        self.api = box.api_client()
        config = yaml.safe_load(box.kubeconfig.read_text())
        self.dev_server = box.server_url("dev")
        self.dev_token = next(u["user"]["token"] for u in config["users"] if u["name"] == "dev")
        self.ca_data = base64.b64encode(box.ca_cert.read_bytes()).decode()
        self.marker = tmp / "exec-ran"
        self.plugin = exec_plugin(tmp / "plugin.sh", self.marker, self.dev_token)
        self.fifos = {key: OpenDetector(tmp / f"{key}.fifo") for key in ("ca", "token", "cert")}

    def plant(self, name: str, cluster: dict[str, Any], user: dict[str, Any]) -> str:
        """Write a kubeconfig Secret and a KubeFedCluster by hand, as whoever can write that Secret would."""
        ns = names.FEDERATION_NAMESPACE
        text = kubeconfig(self.dev_server, cluster, user)
        json_request(self.api, "POST", f"/api/v1/namespaces/{ns}/secrets", {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{name}-kubeconfig", "namespace": ns},
            "data": {names.KUBECONFIG_SECRET_KEY: base64.b64encode(text.encode()).decode()}})
        json_request(self.api, "POST", management_path(names.KIND_KUBEFED_CLUSTER, ns),
                     builders.new_kubefed_cluster(name, self.dev_server, f"{name}-kubeconfig"))
        return name

    def run(self, *flags: str) -> subprocess.Popen:
        """Start a real `gitops-tui run` on this sandbox (output in a log file)."""
        log = open(self.tmp / f"run{len(flags)}.log", "ab")  # noqa: SIM115 - closed with the process
        return subprocess.Popen([sys.executable, "-m", "gitops_tui", "run", "--lease-duration", "3", *flags],
                                env=self.box.env, stdout=log, stderr=log)


def stop(proc: subprocess.Popen) -> None:
    """End a `run` process the way an operator does (SIGTERM), bounded."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A sandbox (management + dev) with four traps planted: exec, auth-provider, tokenFile, certificate-authority."""
    home = tmp_path_factory.mktemp("trap-home")
    box = start_sandbox(home, ["dev"], seed_demo=False)
    w = World(box, tmp_path_factory.mktemp("traps"))
    ca = {"certificate-authority-data": w.ca_data}
    w.plant("exec-trap", ca, exec_user(w.plugin))
    w.plant("provider-trap", ca, {"auth-provider": {"name": "gcp", "config": {"cmd-path": str(w.plugin)}}})
    w.plant("token-trap", ca, {"tokenFile": str(w.fifos["token"].path)})
    w.plant("ca-trap", {"certificate-authority": str(w.fifos["ca"].path)}, {"token": w.dev_token})
    w.plant("cert-trap", ca, {"client-certificate": str(w.fifos["cert"].path), "client-key-data": "eA=="})
    try:
        yield w
    finally:
        opened = [key for key, fifo in w.fifos.items() if fifo.close()]
        stop_sandbox(home)
        assert not opened, f"files named by stored kubeconfigs were opened: {opened}"


TRAPS = {"exec-trap": "exec", "provider-trap": "auth-provider", "token-trap": "tokenFile",
         "ca-trap": "certificate-authority", "cert-trap": "client-certificate"}


def test_run_refuses_every_trap_by_name_and_runs_or_reads_nothing(world: World) -> None:
    """A real `gitops-tui run`: each trapped cluster is Ready False / Offline KubeconfigRefused naming its field."""
    proc = world.run()
    try:
        for cluster, field in TRAPS.items():
            cond = wait_until(lambda c=cluster: ready_condition(world.api, c).get("reason") == "KubeconfigRefused"
                              and ready_condition(world.api, c), timeout=60, message=f"{cluster} refused")
            assert cond["status"] == "False" and f"uses {field} " in cond["message"], cond
            kfc = json_request(world.api, "GET", management_path(names.KIND_KUBEFED_CLUSTER,
                                                                 names.FEDERATION_NAMESPACE, cluster))
            offline = [c for c in kfc["status"]["conditions"] if c["type"] == names.OFFLINE][0]
            assert (offline["status"], offline["reason"]) == ("True", "KubeconfigRefused")
    finally:
        stop(proc)
    assert not world.marker.exists(), "the exec / auth-provider plugin of a stored kubeconfig ran"
    assert not any(f.opened.is_set() for f in world.fifos.values()), "a file named by a stored kubeconfig was read"
    log = b"".join(p.read_bytes() for p in world.tmp.glob("run*.log"))
    assert world.dev_token.encode() not in log


def _trapped_project(world: World) -> None:
    """Project "trapped", placed on dev and two trapped clusters (made once)."""
    try:
        resources.get_project(world.api, "trapped")
    except ActionError:
        resources.create_project(world.api, "trapped", ["dev", "exec-trap", "token-trap"])


def test_get_helmreleases_refuses_the_trap(world: World) -> None:
    """`gitops-tui get helmreleases` reads each placed cluster through the same guard."""
    _trapped_project(world)
    proc = world.box.cli("get", "helmreleases", "-p", "trapped", check=False)
    assert "Traceback" not in proc.stderr
    assert "exec-trap could not be read: KubeconfigRefused" in proc.stderr and "uses exec " in proc.stderr
    assert "uses tokenFile " in proc.stderr
    assert not world.marker.exists() and not world.fifos["token"].opened.is_set()


async def test_read_only_console_helm_pane_never_runs_the_plugin(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The read-only console with the live backend: the Helm pane reads every placed cluster, trapped ones refused."""
    from gitops_tui.backends.live import LiveBackend
    from gitops_tui.tui.app import GitOpsApp
    from tests.tui.awaiting import app_wait_until

    monkeypatch.setenv("GITOPS_TUI_HOME", str(world.box.home))
    # As in a terminal, stdin is a real file: pytest's capture object has no fileno, and a plugin started
    # under it would fail before running, hiding the very thing this test looks for.
    devnull = open(os.devnull)  # noqa: SIM115 - closed below
    monkeypatch.setattr(sys, "stdin", devnull)
    _trapped_project(world)
    backend = LiveBackend(world.box.kubeconfig, "management", "sandbox/management", reconcile=False)
    app = GitOpsApp(backend, live=True, read_only=True, remember_theme=False, theme="gitops-dark")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("5")
        feed = backend._helm_feed
        view = await app_wait_until(pilot, lambda: {"exec-trap", "token-trap", "dev"} <= set(feed.view.records)
                                    and feed.view, timeout=60, message="the Helm pane to read the placed clusters")
        ran = world.marker.exists()
    app.shutdown_backend()
    devnull.close()
    assert not ran, "the read-only console ran a stored exec plugin"
    assert "KubeconfigRefused" in view.errors["exec-trap"] and "uses exec " in view.errors["exec-trap"]
    assert "dev" not in view.errors
    assert not world.fifos["token"].opened.is_set()


def test_diff_resume_preview_and_health_use_the_guard(world: World, tmp_path: Path) -> None:
    """`diff` and the resume preview (one code path) and the health probe refuse before any I/O."""
    from gitops_tui.actions import sources
    from tests.gitserver import make_repo

    _trapped_project(world)
    repo = make_repo(tmp_path / "repo", {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
    sources.create_source(world.api, "trapped", "app", f"file://{repo}", ref={"branch": "main"})
    report = sources.preview_resume(world.api, "trapped", "app", data_dir=tmp_path / "data")
    errors = {c.cluster: c.error for c in report.clusters if c.error}
    assert set(errors) == {"exec-trap", "token-trap"}, report
    assert "uses exec " in errors["exec-trap"] and "uses tokenFile " in errors["token-trap"]
    connections = ClusterConnections(world.api)
    try:
        for cluster, field in TRAPS.items():
            ready, reason, message = probe_cluster(health_context(connections), cluster)
            assert (ready, reason) == (False, "KubeconfigRefused") and f"uses {field} " in message
    finally:
        connections.close()
    assert not world.marker.exists() and not any(f.opened.is_set() for f in world.fifos.values())


def test_hostile_yaml_is_refused_before_use() -> None:
    """An alias bomb, an oversized Secret or a malformed kubeconfig is refused by the guard itself."""
    from gitops_tui.kube.kubeconfig_guard import KubeconfigRefused, check_stored_kubeconfig, parse_stored_kubeconfig

    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20))
    for text, words in ((bomb, "YAML aliases"), ("x" * 300_000, "over 262144 bytes"),
                        ("[1, 2]", "not a YAML mapping"), ("users: {a: 1}", "users is not a list")):
        with pytest.raises(KubeconfigRefused) as refused:
            check_stored_kubeconfig(parse_stored_kubeconfig(text))
        assert words in str(refused.value)


def _operator_kubeconfig(world: World, path: Path, cluster: dict[str, Any], user: dict[str, Any]) -> Path:
    path.write_text(kubeconfig(world.dev_server, cluster, user, "ops"))
    path.chmod(0o600)
    return path


def test_attach_with_an_exec_plugin_stores_only_a_service_account_token(world: World, tmp_path: Path) -> None:
    """`attach` runs the operator's own plugin once, locally, and stores server, inlined CA and an SA token."""
    marker = tmp_path / "operator-plugin-ran"
    plugin = exec_plugin(tmp_path / "aws-like.sh", marker, world.dev_token)
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(world.box.ca_cert.read_bytes())
    operator = _operator_kubeconfig(world, tmp_path / "cloud.kubeconfig", {"certificate-authority": str(ca_file)},
                                    exec_user(plugin))
    proc = world.box.cli("attach", "cluster", "joined", "--kubeconfig", str(operator), "-o", "json")
    assert marker.exists(), "the operator's own plugin runs at attach"
    assert json.loads(proc.stdout)["serviceAccount"] == "kube-federation-system/gitops-tui-joined"

    stored = stored_kubeconfig(world.api, "joined")
    assert stored["clusters"][0]["cluster"] == {"server": world.dev_server, "certificate-authority-data": world.ca_data}
    assert list(stored["users"][0]["user"]) == ["token"]
    token = stored["users"][0]["user"]["token"]
    assert token != world.dev_token and world.dev_token not in json.dumps(stored)
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["sub"] == "system:serviceaccount:kube-federation-system:gitops-tui-joined"

    connections = ClusterConnections(world.api)
    try:
        member = connections.api_client("joined")
        json_request(member, "POST", "/api/v1/namespaces",
                     {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "made-by-joined"}})
        assert probe_cluster(health_context(connections), "joined")[:2] == (True, "ClusterReady")
    finally:
        connections.close()
    stored_path = tmp_path / "stored.kubeconfig"
    stored_path.write_text(yaml.safe_dump(stored))
    whoami = subprocess.run(["kubectl", "--kubeconfig", str(stored_path), "auth", "whoami", "-o", "json"],
                            capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(whoami.stdout)["status"]["userInfo"]["username"] == claims["sub"]

    marker.unlink()
    world.box.cli("attach", "cluster", "joined", "--kubeconfig", str(operator))
    assert stored_kubeconfig(world.api, "joined")["users"][0]["user"]["token"] == token, "attach again reuses it"


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_attach_refuses_tls_off_without_insecure_and_warns_with_it(world: World, tmp_path: Path) -> None:
    """insecure-skip-tls-verify needs --insecure; then the cluster's Ready message warns."""
    operator = _operator_kubeconfig(world, tmp_path / "loose.kubeconfig", {"insecure-skip-tls-verify": True},
                                    {"token": world.dev_token})
    refused = world.box.cli("attach", "cluster", "loose", "--kubeconfig", str(operator), check=False)
    assert refused.returncode == 1 and "--insecure" in refused.stderr and "Traceback" not in refused.stderr
    with pytest.raises(ApiException):
        json_request(world.api, "GET", management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE,
                                                       "loose"))
    accepted = world.box.cli("attach", "cluster", "loose", "--kubeconfig", str(operator), "--insecure")
    assert "WARNING: TLS verification is off" in accepted.stdout
    assert stored_kubeconfig(world.api, "loose")["clusters"][0]["cluster"]["insecure-skip-tls-verify"] is True
    connections = ClusterConnections(world.api)
    try:
        ready, reason, message = probe_cluster(health_context(connections), "loose")
    finally:
        connections.close()
    assert (ready, reason) == (True, "ClusterReady")
    assert "warning: TLS certificate verification is off for this cluster (insecure-skip-tls-verify)" in message


def test_insecure_kubeconfig_exec_is_an_explicit_opt_in(world: World) -> None:
    """With `run --insecure-kubeconfig-exec` the plugin runs (the traps above would have caught it) and it shows."""
    proc = world.run("--insecure-kubeconfig-exec")
    try:
        cond = wait_until(lambda: ready_condition(world.api, "exec-trap").get("status") == "True"
                          and ready_condition(world.api, "exec-trap"), timeout=60, message="exec-trap Ready")
    finally:
        stop(proc)
    assert world.marker.exists()
    assert "warning: its kubeconfig runs an exec credential plugin (allowed by --insecure-kubeconfig-exec)" \
        in cond["message"]
    assert ready_condition(world.api, "token-trap")["reason"] == "KubeconfigRefused", "files stay refused"
    assert b"--insecure-kubeconfig-exec: exec credential plugins" in (world.tmp / "run1.log").read_bytes()


async def test_console_insecure_kubeconfig_exec_says_so_in_the_header(world: World,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`gitops-tui --insecure-kubeconfig-exec`: the header says so and the Helm pane may run the plugin."""
    from gitops_tui.backends.live import LiveBackend
    from gitops_tui.cli import build_parser
    from gitops_tui.cli.console_cmd import kubeconfig_policy
    from gitops_tui.tui.app import GitOpsApp
    from tests.tui.awaiting import app_wait_until
    from tests.tui.screen_text import screen_text

    monkeypatch.setenv("GITOPS_TUI_HOME", str(world.box.home))
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115 - a terminal's stdin (see above)
    _trapped_project(world)
    world.marker.unlink(missing_ok=True)
    policy, label = kubeconfig_policy(build_parser().parse_args(["--insecure-kubeconfig-exec"]), "sandbox/management")
    assert kubeconfig_policy(build_parser().parse_args([]), "x")[1] == "x"
    backend = LiveBackend(world.box.kubeconfig, "management", label, reconcile=False, kubeconfig_policy=policy)
    app = GitOpsApp(backend, live=True, read_only=True, remember_theme=False, theme="gitops-dark")
    async with app.run_test(size=(100, 30)) as pilot:
        await app_wait_until(pilot, lambda: "[kubeconfig exec ON]" in screen_text(app), message="the header")
        await pilot.press("5")
        feed = backend._helm_feed
        view = await app_wait_until(pilot, lambda: "exec-trap" in feed.view.records and feed.view, timeout=60,
                                    message="the Helm pane to read exec-trap")
    app.shutdown_backend()
    sys.stdin.close()
    assert "exec-trap" not in view.errors and world.marker.exists()
    assert "uses tokenFile " in view.errors["token-trap"]
