"""A registry worker: a child process that talks to OCI registries with Helm's own registry client (Go, in-process).

Run by ``helm/oci.py``'s pool as ``python -m gitops_tui.helm.registry_worker MEMORY_BYTES``, with the framing,
limits and lifetime of ``render_worker.serve``. Its environment names the reconciler's egress proxy (with this
worker's token) and a private, empty HOME: every connection Helm's client opens to a host other than a loopback
address written in the URL goes through the operator's allow-list, and the client never finds the operator's own
Docker or Helm credentials. A request carries the registry credentials, if any; they are written for the call
only, in a file of the worker's own 0700 directory holding just ``auths`` (never a ``credsStore`` or
``credHelpers``, which would start a program), and removed after it.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from gitops_tui.helm.render_worker import serve


def _credentials_file(directory: str, host: str, username: str, password: str) -> str:
    """A Docker config holding only ``auths`` for ``host`` (empty without credentials), mode 0600."""
    auths = {}
    if username or password:
        auths[host] = {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}
    fd, path = tempfile.mkstemp(prefix="auth-", suffix=".json", dir=directory)
    with os.fdopen(fd, "w") as handle:
        json.dump({"auths": auths}, handle)
    return path


def handle(request: dict[str, Any]) -> dict[str, Any]:
    """One registry request: {op: tags|resolve|pull, ref, plain_http, host, username, password, destination}."""
    import helm_python as helm

    home = os.environ.get("HOME") or tempfile.gettempdir()
    path = _credentials_file(home, str(request.get("host") or ""), str(request.get("username") or ""),
                             str(request.get("password") or ""))
    client = None
    try:
        client = helm.RegistryClient(plain_http=bool(request.get("plain_http")), credentials_file=path)
        op, ref = request.get("op"), str(request.get("ref") or "")
        if op == "tags":
            return {"tags": list(client.tags(ref))}
        if op == "resolve":
            return {"descriptor": dict(client.resolve(ref))}
        if op == "pull":
            destination = Path(str(request["destination"]))
            client.pull(ref, destination=destination)
            archives = sorted(str(p) for p in destination.glob("*.tgz"))
            return {"archives": archives}
        return {"error": {"type": "ValueError", "message": f"unknown operation {op!r}"}}
    except helm.HelmError as exc:
        return {"error": {"type": type(exc).__name__, "message": str(exc)}}
    finally:
        if client is not None:
            client.close()
        os.unlink(path)


def main(argv: list[str] | None = None) -> int:
    """Serve registry requests until stdin closes."""
    return serve(handle, argv)


if __name__ == "__main__":
    raise SystemExit(main())
