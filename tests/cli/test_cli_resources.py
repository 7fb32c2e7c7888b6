"""CLI verbs for projects, secrets, clusters and events: stable -o json shapes, clear errors, no secret leaks."""

from __future__ import annotations

import base64
import io
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.cli import main
from gitops_tui.kube.client import json_request
from gitops_tui.kube.events import EventRecorder
from gitops_tui.reconciler.context import management_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def project(sandbox: Any, capsys: pytest.CaptureFixture[str], mgmt: Any) -> Any:
    """A project on dev and staging created through the CLI (deleted afterwards, finalizer dropped)."""
    name = unique("cli")
    code, out, err = run(capsys, "create", "project", name, "--clusters", "dev,staging")
    assert code == 0, err
    assert out.strip() == f"project {name} created (namespace {name}, clusters dev, staging)"
    yield name
    for kind in (names.KIND_FEDERATED_SECRET, names.KIND_PROJECT):
        listed = json_request(mgmt, "GET", management_path(kind, name if kind != names.KIND_PROJECT else None))
        for item in listed["items"]:
            if kind == names.KIND_PROJECT and item["metadata"]["name"] != name:
                continue
            path = management_path(kind, item["metadata"].get("namespace"), item["metadata"]["name"])
            item["metadata"]["finalizers"] = []
            try:
                json_request(mgmt, "PUT", path, item)
                json_request(mgmt, "DELETE", path)
            except ApiException as exc:
                if exc.status != 404:
                    raise


def test_get_clusters_json_lists_the_registered_clusters(sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "get", "clusters", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["kind"] == "ClusterList"
    by_name = {item["name"]: item for item in doc["items"]}
    assert {"dev", "staging", "prod"} <= set(by_name)
    assert set(by_name["dev"]) >= {"name", "apiEndpoint", "ready", "reason", "message", "labels"}
    assert by_name["dev"]["apiEndpoint"].startswith("https://127.0.0.1:")


def test_create_and_get_projects_in_every_format(project: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "get", "projects", "-o", "json")
    assert code == 0
    item = next(i for i in json.loads(out)["items"] if i["name"] == project)
    assert item["namespace"] == project and item["clusters"] == ["dev", "staging"]
    assert set(item) >= {"displayName", "ready", "message", "clusterStatus", "deleting"}
    code, out, _ = run(capsys, "get", "projects", "-p", project, "-o", "yaml")
    assert [i["name"] for i in yaml.safe_load(out)["items"]] == [project]
    code, out, _ = run(capsys, "get", "projects", "-p", project)
    header, row = out.strip().splitlines()
    assert header.split()[:3] == ["NAME", "NAMESPACE", "CLUSTERS"]
    assert row.split()[:3] == [project, project, "dev,staging"]
    code, _, err = run(capsys, "create", "project", project, "--clusters", "dev")
    assert code == 1 and err.strip() == f"gitops-tui: project {project} already exists"


def test_create_project_by_label_selector(sandbox: Any, capsys: pytest.CaptureFixture[str], mgmt: Any) -> None:
    name = unique("sel")
    code, out, err = run(capsys, "create", "project", name, "--selector", "tier=web,zone=a", "-o", "json")
    try:
        assert code == 0, err
        doc = json.loads(out)
        assert doc["clusters"] == [] and doc["clusterSelector"] == {"matchLabels": {"tier": "web", "zone": "a"}}
        code, _, err = run(capsys, "create", "project", unique("x"), "--selector", "novalue")
        assert code == 2 and "KEY=VALUE" in err
        with pytest.raises(SystemExit) as usage:
            run(capsys, "create", "project", unique("x"), "--selector", "a=b", "--clusters", "dev")
        assert usage.value.code == 2 and "not allowed with" in capsys.readouterr().err
    finally:
        json_request(mgmt, "DELETE", management_path(names.KIND_PROJECT, None, name))


def test_create_secret_from_stdin_never_prints_the_value(project: str, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch, mgmt: Any) -> None:
    token = f"tok-{uuid.uuid4().hex}"
    monkeypatch.setattr(sys, "stdin", io.StringIO(token + "\n"))
    code, out, err = run(capsys, "create", "secret", "git-token", "-p", project, "--token-stdin", "-o", "json")
    assert code == 0, err
    assert json.loads(out) == {"kind": "Secret", "name": "git-token", "namespace": project, "project": project,
                               "keys": ["bearerToken"]}
    stored = json_request(mgmt, "GET", management_path(names.KIND_FEDERATED_SECRET, project, "git-token"))
    assert base64.b64decode(stored["spec"]["template"]["data"]["bearerToken"]).decode() == token
    monkeypatch.setattr(sys, "stdin", io.StringIO("pa55word\n"))
    code, out, err = run(capsys, "create", "secret", "basic", "-p", project, "--username", "bob", "--password-stdin")
    assert code == 0, err
    code, out, _ = run(capsys, "get", "secrets", "-p", project, "-o", "json")
    items = {i["name"]: i for i in json.loads(out)["items"]}
    assert items["git-token"]["keys"] == ["bearerToken"] and items["basic"]["keys"] == ["password", "username"]
    assert items["basic"]["project"] == project and items["basic"]["type"] == "Opaque"
    code, table, _ = run(capsys, "get", "secrets", "-p", project)
    assert token not in out + table and "pa55word" not in out + table and "bob" not in out + table


def test_user_mistakes_give_one_sentence_and_an_exit_code(sandbox: Any, capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    code, out, err = run(capsys, "get", "secrets", "-p", "no-such-project")
    assert (code, out) == (1, "") and err == "gitops-tui: project 'no-such-project' does not exist\n"
    code, _, err = run(capsys, "create", "project", "Bad_Name", "--clusters", "dev")
    assert code == 1 and "invalid" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "create", "project", unique("p"), "--clusters", "dev,mars")
    assert code == 1 and "mars is not attached" in err
    code, _, err = run(capsys, "create", "secret", "s", "-p", "x", "--password-stdin")
    assert code == 2 and "--username" in err
    code, _, err = run(capsys, "delete", "project", "whatever")
    assert code == 1 and "does not exist" in err
    code, _, err = run(capsys, "attach", "cluster", "c1", "--kubeconfig", str(tmp_path / "missing"))
    assert code == 1 and "cannot be read" in err


def test_create_source_mistakes_are_refused_in_one_sentence(project: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://example.com/r.git"
    for args, expected in (
        (["--url", "notaurl"], "'notaurl' is not a git URL"),
        (["--url", url, "--interval", "banana"], "interval 'banana' is not a positive duration"),
        (["--url", url, "--interval", "0s"], "interval '0s' is not a positive duration"),
        (["--url", url, "--clusters", "mars"], "cluster mars is not attached"),
        (["--url", "https://bob:hunter2@example.com/r.git"], "the URL holds credentials"),
        (["--url", "https://hunter2@example.com/r.git"], "the URL holds credentials"),
    ):
        code, out, err = run(capsys, "create", "source", "web", "-p", project, *args)
        assert (code, out) == (1, ""), err
        assert expected in err and len(err.strip().splitlines()) == 1
        assert "hunter2" not in err
    code, out, _ = run(capsys, "get", "sources", "-p", project, "-o", "json")
    assert code == 0 and json.loads(out)["items"] == []


def test_get_sources_never_shows_a_password_in_the_url(project: str, capsys: pytest.CaptureFixture[str],
                                                       mgmt: Any) -> None:
    from gitops_tui.api import builders

    repo, _ = builders.new_source("web", project, "https://bob:hunter2@example.com/r.git")
    json_request(mgmt, "POST", management_path(repo["kind"], project), repo)
    for output in ("table", "json", "yaml"):
        code, out, _ = run(capsys, "get", "sources", "-p", project, "-o", output)
        assert code == 0 and "https://***@example.com/r.git" in out and "hunter2" not in out and "bob" not in out
    json_request(mgmt, "DELETE", management_path(repo["kind"], project, "web"))


def test_argument_mistakes_are_one_line_pointing_at_help(capsys: pytest.CaptureFixture[str]) -> None:
    for args, expected in (
        (["suspend", "source", "web", "-p", "demo"], "gitops-tui suspend source: the following arguments are required: --reason"),
        (["get", "sources", "-o", "bad"], "gitops-tui get: argument -o/--output: invalid choice: 'bad'"),
        (["frobnicate"], "gitops-tui: argument VERB: invalid choice: 'frobnicate'"),
    ):
        with pytest.raises(SystemExit) as caught:
            main(args)
        err = capsys.readouterr().err
        assert caught.value.code == 2 and err.startswith(expected) and len(err.strip().splitlines()) == 1, err
        assert "--help" in err and "usage:" not in err


def test_a_kubeconfig_that_is_no_mapping_is_named_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "kubeconfig"
    bad.write_text("garbage\n")
    code, out, err = run(capsys, "--kubeconfig", str(bad), "get", "projects")
    assert (code, out, err) == (1, "", f"gitops-tui: kubeconfig {bad} is not a kubeconfig\n")
    bad.write_text("a: [\n")
    code, _, err = run(capsys, "--kubeconfig", str(bad), "get", "projects")
    assert (code, err) == (1, f"gitops-tui: kubeconfig {bad} is not valid YAML\n")


def test_delete_asks_for_yes_without_a_terminal(project: str, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch, mgmt: Any) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run(capsys, "delete", "project", project)
    assert code == 2 and "--yes" in err
    assert json_request(mgmt, "GET", management_path(names.KIND_PROJECT, None, project))
    monkeypatch.setattr(sys, "stdin", io.StringIO("tok\n"))
    assert run(capsys, "create", "secret", "gone", "-p", project, "--token-stdin")[0] == 0
    code, out, _ = run(capsys, "delete", "secret", "gone", "-p", project, "--yes", "-o", "json")
    assert code == 0 and json.loads(out) == {"kind": "Secret", "name": "gone", "project": project, "deleted": True}
    fs = json_request(mgmt, "GET", management_path(names.KIND_FEDERATED_SECRET, project, "gone"))
    assert fs["metadata"].get("deletionTimestamp"), "the finalizer keeps it until the reconciler cleaned up"


def test_attach_cluster_stores_a_minified_kubeconfig(sandbox: Any, capsys: pytest.CaptureFixture[str],
                                                     mgmt: Any) -> None:
    name = unique("extra")
    try:
        code, out, err = run(capsys, "attach", "cluster", name, "--kubeconfig", str(sandbox.kubeconfig),
                             "--context", "staging", "--label", "tier=test", "-o", "json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["name"] == name and doc["labels"] == {"tier": "test"}
        secret = json_request(mgmt, "GET", f"/api/v1/namespaces/{names.FEDERATION_NAMESPACE}/secrets/{name}-kubeconfig")
        config = yaml.safe_load(base64.b64decode(secret["data"]["kubeconfig"]))
        assert [c["name"] for c in config["contexts"]] == [name]
        assert list(config["users"][0]["user"]) == ["token"], "only a ServiceAccount token is stored"
        assert config["clusters"][0]["cluster"]["server"] == doc["apiEndpoint"]
        code, out, _ = run(capsys, "get", "clusters", "-o", "json")
        assert name in {i["name"] for i in json.loads(out)["items"]}
        code, _, err = run(capsys, "attach", "cluster", name, "--kubeconfig", str(sandbox.kubeconfig),
                           "--context", "nope")
        assert code == 1 and "context 'nope' is not in" in err
    finally:
        for path in (management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE, name),
                     f"/api/v1/namespaces/{names.FEDERATION_NAMESPACE}/secrets/{name}-kubeconfig"):
            try:
                json_request(mgmt, "DELETE", path)
            except Exception:  # noqa: BLE001 - cleanup
                pass


def test_get_events_shows_the_audit_trail(project: str, capsys: pytest.CaptureFixture[str], mgmt: Any) -> None:
    monkey_obj = {"apiVersion": names.TYPES_API_VERSION, "kind": names.KIND_FEDERATED_SECRET,
                  "metadata": {"name": "audit", "namespace": project, "uid": "u-1"}}
    recorder = EventRecorder(mgmt)
    recorder.emit(monkey_obj, "Warning", "ClusterNotReachable", "dev is down", cluster="dev", revision="main@sha1:abc")
    recorder.emit(monkey_obj, "Warning", "ClusterNotReachable", "dev is down", cluster="dev", revision="main@sha1:abc")
    code, out, _ = run(capsys, "get", "events", "-p", project, "-o", "json")
    assert code == 0
    events = [e for e in json.loads(out)["items"] if e["object"]["name"] == "audit"]
    assert len(events) == 1
    event = events[0]
    assert event["count"] == 2 and event["type"] == "Warning" and event["cluster"] == "dev"
    assert event["revision"] == "main@sha1:abc" and event["project"] == project
    assert event["object"] == {"kind": names.KIND_FEDERATED_SECRET, "name": "audit", "namespace": project}


def test_without_a_sandbox_the_cli_says_how_to_start_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITOPS_TUI_HOME", str(tmp_path))
    code, out, err = run(capsys, "get", "projects")
    assert code == 1 and out == ""
    assert "gitops-tui sandbox up" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "--kubeconfig", str(tmp_path / "none"), "get", "projects")
    assert code == 1 and "does not exist" in err


def test_get_watch_json_streams_one_change_per_line(sandbox: Any, project: str) -> None:
    import queue
    import signal
    import subprocess
    import threading

    from tests.waiting import wait_until

    proc = subprocess.Popen([sys.executable, "-m", "gitops_tui", "get", "secrets", "-p", project, "--watch", "-o", "json"],
                            env=sandbox.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)  # type: ignore[union-attr]
    reader.start()
    seen: list[dict[str, Any]] = []

    def saw(kind: str, name: str) -> bool:
        while not lines.empty():
            seen.append(json.loads(lines.get()))
        return any(e["type"] == kind and e["object"]["name"] == name for e in seen)

    try:
        sandbox.cli("create", "secret", "watched", "-p", project, "--token-stdin", input="t0ken\n")
        wait_until(lambda: saw("ADDED", "watched"), timeout=20, message="an ADDED line for the new secret")
        assert seen[-1]["object"]["keys"] == ["bearerToken"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert proc.returncode == 130
    assert "t0ken" not in json.dumps(seen)
