"""The push-webhook receiver: signed requests reconcile at once, unsigned or badly signed ones get 401."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.actions import resources
from gitops_tui.api import builders, names
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.context import management_path
from gitops_tui.reconciler.manager import Reconciler
from gitops_tui.reconciler.options import ReconcilerOptions
from gitops_tui.reconciler.webhook import WebhookReceiver
from tests.reconciler.test_management import get, unique
from tests.waiting import wait_until

TOKEN = "s3cret-hook-token"
BODY = json.dumps({"ref": "refs/heads/main", "after": "0" * 40}).encode()


@pytest.fixture
def project(mgmt: Any) -> Iterator[str]:
    """A project with three sources (github, gitlab, generic) and their webhook token Secrets."""
    name = unique("hook")
    resources.create_project(mgmt, name, ["dev"])
    for source, provider in (("gh", "github"), ("gl", "gitlab"), ("gen", "generic")):
        repo, ks = builders.new_source(source, name, "https://git.invalid/x.git", provider=provider, interval="1h")
        ks["metadata"].pop("finalizers", None)
        json_request(mgmt, "POST", management_path(names.KIND_FEDERATED_GIT_REPOSITORY, name), repo)
        json_request(mgmt, "POST", management_path(names.KIND_FEDERATED_KUSTOMIZATION, name), ks)
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{source}-webhook", "namespace": name},
                  "data": {"token": base64.b64encode(TOKEN.encode()).decode()}}
        json_request(mgmt, "POST", f"/api/v1/namespaces/{name}/secrets", secret)
    try:
        yield name
    finally:
        for source in ("gh", "gl", "gen"):
            for kind in (names.KIND_FEDERATED_KUSTOMIZATION, names.KIND_FEDERATED_GIT_REPOSITORY):
                path = management_path(kind, name, source)
                obj = get(mgmt, path)
                if obj and obj["metadata"].get("finalizers"):
                    obj["metadata"]["finalizers"] = []
                    json_request(mgmt, "PUT", path, obj)
                if obj:
                    json_request(mgmt, "DELETE", path)
        resources.delete_project(mgmt, name)


@pytest.fixture
def receiver(mgmt: Any) -> Iterator[tuple[WebhookReceiver, list[tuple[str, str]]]]:
    """A receiver on a free loopback port recording what it triggered."""
    triggered: list[tuple[str, str]] = []
    hook = WebhookReceiver(mgmt, "127.0.0.1:0", trigger=lambda ns, name: triggered.append((ns, name)))
    hook.start()
    try:
        yield hook, triggered
    finally:
        hook.stop()


def post(url: str, headers: dict[str, str], body: bytes = BODY) -> tuple[int, dict[str, Any]]:
    """POST and return (status, JSON answer)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def sign(body: bytes, token: str = TOKEN, algorithm: str = "sha256") -> str:
    """sha256=<hex HMAC>."""
    return f"{algorithm}=" + hmac.new(token.encode(), body, getattr(hashlib, algorithm)).hexdigest()


def requested_at(mgmt: Any, namespace: str, name: str) -> str:
    """The requestedAt annotation of a FederatedKustomization."""
    obj = get(mgmt, management_path(names.KIND_FEDERATED_KUSTOMIZATION, namespace, name)) or {}
    return (obj["metadata"].get("annotations") or {}).get(names.ANNOTATION_REQUESTED_AT, "")


@pytest.mark.parametrize(
    ("source", "good", "bad"),
    [
        ("gh", lambda: {"X-Hub-Signature-256": sign(BODY), "X-GitHub-Event": "push"},
         lambda: {"X-Hub-Signature-256": sign(BODY, "wrong"), "X-GitHub-Event": "push"}),
        ("gl", lambda: {"X-Gitlab-Token": TOKEN, "X-Gitlab-Event": "Push Hook"},
         lambda: {"X-Gitlab-Token": "wrong"}),
        ("gen", lambda: {"X-Signature": sign(BODY, algorithm="sha512")},
         lambda: {"X-Hub-Signature-256": sign(BODY)}),
    ],
    ids=["github", "gitlab", "generic"],
)
def test_signed_push_requests_a_reconcile_and_a_bad_one_gets_401(
    receiver: tuple[WebhookReceiver, list[tuple[str, str]]], mgmt: Any, project: str,
    source: str, good: Any, bad: Any,
) -> None:
    hook, triggered = receiver
    url = f"{hook.url}/hook/{project}/{source}"
    for headers in (bad(), {}):
        status, answer = post(url, headers)
        assert status == 401 and "signature" in answer["message"]
    assert triggered == [] and requested_at(mgmt, project, source) == ""
    status, answer = post(url, good())
    assert status == 202, answer
    assert triggered == [(project, source)]
    assert requested_at(mgmt, project, source) != ""


def test_tampered_body_unknown_source_and_missing_token_are_refused(
    receiver: tuple[WebhookReceiver, list[tuple[str, str]]], mgmt: Any, project: str,
) -> None:
    hook, triggered = receiver
    status, _ = post(f"{hook.url}/hook/{project}/gh", {"X-Hub-Signature-256": sign(BODY)}, BODY + b" ")
    assert status == 401
    status, _ = post(f"{hook.url}/hook/{project}/nope", {"X-Hub-Signature-256": sign(BODY)})
    assert status == 404
    json_request(mgmt, "DELETE", f"/api/v1/namespaces/{project}/secrets/gh-webhook")
    status, _ = post(f"{hook.url}/hook/{project}/gh", {"X-Hub-Signature-256": sign(BODY)})
    assert status == 401
    status, answer = post(f"{hook.url}/hook/{project}/gl", {"X-Gitlab-Token": TOKEN + "x"})
    assert status == 401 and TOKEN not in json.dumps(answer)
    assert triggered == []


def test_github_ping_is_answered_without_reconciling(
    receiver: tuple[WebhookReceiver, list[tuple[str, str]]], project: str,
) -> None:
    hook, triggered = receiver
    status, answer = post(f"{hook.url}/hook/{project}/gh", {"X-Hub-Signature-256": sign(BODY), "X-GitHub-Event": "ping"})
    assert (status, answer["message"], triggered) == (200, "pong", [])


def test_webhook_reconciles_at_once_through_the_reconciler(mgmt: Any, project: str, tmp_path: Path) -> None:
    # Suspended, the source's reconcile ends at once with no retry: every further run is the push's doing.
    json_request(mgmt, "PATCH", management_path(names.KIND_FEDERATED_KUSTOMIZATION, project, "gh"),
                 builders.suspend_patch("test", "webhook test"), content_type="application/merge-patch+json")
    rec = Reconciler(mgmt, ReconcilerOptions(data_dir=tmp_path, lease_duration=4.0))
    hook = WebhookReceiver(mgmt, "127.0.0.1:0",
                           trigger=lambda ns, name: rec.request(names.KIND_FEDERATED_KUSTOMIZATION, ns, name))
    rec.start()
    hook.start()
    key = (names.KIND_FEDERATED_KUSTOMIZATION, project, "gh")
    try:
        wait_until(lambda: rec.runs.get(key, 0) >= 1, timeout=15, message="the first reconcile")
        before = rec.runs[key]
        status, _ = post(f"{hook.url}/hook/{project}/gh", {"X-Hub-Signature-256": sign(BODY)})
        assert status == 202
        wait_until(lambda: rec.runs.get(key, 0) > before, timeout=5, message="a reconcile right after the push")
        stamp = requested_at(mgmt, project, "gh")
        status, _ = post(f"{hook.url}/hook/{project}/gh", {"X-Hub-Signature-256": sign(BODY, "bad")})
        assert status == 401 and requested_at(mgmt, project, "gh") == stamp
    finally:
        hook.stop()
        rec.stop()


def test_run_command_serves_the_webhook(sandbox: Any, mgmt: Any, project: str, tmp_path: Path) -> None:
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gitops_tui", "run", "--webhook-listen", f"127.0.0.1:{port}",
                                 "--lease-duration", "4"], env=sandbox.env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: "webhook receiver on" in log.read_text(), timeout=20, message="the receiver to listen")
            url = f"http://127.0.0.1:{port}/hook/{project}/gh"
            assert post(url, {})[0] == 401
            assert requested_at(mgmt, project, "gh") == ""
            status, _ = post(url, {"X-Hub-Signature-256": sign(BODY)})
            assert status == 202
            assert requested_at(mgmt, project, "gh") != ""
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
    assert proc.returncode == 0
