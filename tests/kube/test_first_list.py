"""First lists over plain HTTPS from a static kubeconfig, without the kubernetes client; other kubeconfigs wait."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.kube.first_list import static_access

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_lists_the_sandbox_like_the_api_without_loading_kubernetes(sandbox: Any) -> None:
    """The sandbox's kubeconfig (CA + token) is served; the lists match the API's; kubernetes stays unloaded."""
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from gitops_tui.kube.first_list import static_access\n"
        f"access = static_access(Path({str(sandbox.kubeconfig)!r}), 'management')\n"
        "found = {p: sorted(i['metadata']['name'] for i in items) for p, items in access.list(['/api/v1/namespaces'])}\n"
        "print(json.dumps({'found': found, 'kubernetes': 'kubernetes' in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                         cwd=REPO_ROOT)
    result = json.loads(out.stdout)
    assert result["kubernetes"] is False
    listed = sandbox.kubectl("management", "get", "namespaces", "-o", "json").stdout
    assert result["found"]["/api/v1/namespaces"] == sorted(i["metadata"]["name"] for i in json.loads(listed)["items"])


def test_wrong_ca_fails_instead_of_trusting(sandbox: Any, tmp_path: Path) -> None:
    """A kubeconfig whose CA is not the server's: the TLS check fails (nothing is listed), as kubectl would."""
    config = yaml.safe_load(sandbox.kubeconfig.read_text())
    other = tmp_path / "other-ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(tmp_path / "k.pem"), "-out", str(other), "-subj", "/CN=other", "-days", "1"],
                   check=True, capture_output=True, timeout=60)
    for cluster in config["clusters"]:
        cluster["cluster"].pop("certificate-authority-data", None)
        cluster["cluster"]["certificate-authority"] = str(other)
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    access = static_access(path, "management")
    assert access is not None
    try:
        listed = list(access.list(["/api/v1/namespaces"]))
    except OSError:
        listed = []
    assert listed == []


def test_kubeconfigs_that_need_the_client_are_not_served(sandbox: Any, tmp_path: Path) -> None:
    """Exec plugins, client certificates, basic auth and skipped TLS checks wait for the kubernetes client."""
    base = yaml.safe_load(sandbox.kubeconfig.read_text())
    variants = {
        "exec": {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws-iam-authenticator"}},
        "client certificate": {"client-certificate-data": "Zm9v", "client-key-data": "YmFy"},
        "basic auth": {"username": "admin", "password": "secret"},
        "token and exec": {"token": "abc", "exec": {"command": "x"}},
    }
    for label, user in variants.items():
        config = json.loads(json.dumps(base))
        next(u for u in config["users"] if u["name"] == "management")["user"] = user
        path = tmp_path / f"{label.replace(' ', '-')}.yaml"
        path.write_text(yaml.safe_dump(config))
        assert static_access(path, "management") is None, label
    config = json.loads(json.dumps(base))
    next(c for c in config["clusters"] if c["name"] == "management")["cluster"]["insecure-skip-tls-verify"] = True
    path = tmp_path / "insecure.yaml"
    path.write_text(yaml.safe_dump(config))
    assert static_access(path, "management") is None
    assert static_access(sandbox.kubeconfig, "no-such-context") is None
