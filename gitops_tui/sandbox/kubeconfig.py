"""Writing the sandbox's kubeconfig (bearer tokens, the sandbox CA) with owner-only permissions."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class KubeconfigEntry:
    """One cluster of the kubeconfig: its context name, server URL and bearer token."""

    context: str
    server: str
    token: str


def build_kubeconfig(
    clusters: list[KubeconfigEntry], ca_cert: Path, current_context: str
) -> dict:
    """Return the kubeconfig document for ``clusters``, trusting ``ca_cert``."""
    ca_data = base64.b64encode(Path(ca_cert).read_bytes()).decode("ascii")
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "current-context": current_context,
        "clusters": [
            {
                "name": entry.context,
                "cluster": {"server": entry.server, "certificate-authority-data": ca_data},
            }
            for entry in clusters
        ],
        "users": [{"name": entry.context, "user": {"token": entry.token}} for entry in clusters],
        "contexts": [
            {"name": entry.context, "context": {"cluster": entry.context, "user": entry.context}}
            for entry in clusters
        ],
    }


def write_kubeconfig(
    path: Path, clusters: list[KubeconfigEntry], ca_cert: Path, current_context: str
) -> Path:
    """Write a kubeconfig for ``clusters`` to ``path`` with mode 0600 (atomically) and return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(build_kubeconfig(clusters, ca_cert, current_context), sort_keys=False)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path
