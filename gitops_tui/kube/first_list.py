"""First lists over plain HTTPS, before the kubernetes client is loaded (it takes most of a second to import).

The console draws its first data from these lists, then its watches (through the kubernetes client)
take over. Only kubeconfigs that need nothing of the kubernetes client are served: a CA and a bearer
token (or token file). Exec and auth-provider plugins, client certificates, basic auth, proxies and
``insecure-skip-tls-verify`` give None, and the console simply waits for its watches.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import ssl
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

log = logging.getLogger(__name__)

#: Seconds for the connection and for each answer.
TIMEOUT = 5.0


@dataclass(frozen=True)
class StaticAccess:
    """Where and how to reach one cluster without the kubernetes client."""

    host: str
    port: int
    context: ssl.SSLContext
    token: str

    def list(self, paths: Iterable[str]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """Yield (path, items) for each collection, on one connection; stops at the first failure."""
        connection = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=TIMEOUT)
        headers = {"Accept": "application/json", "Authorization": f"Bearer {self.token}"}
        try:
            for path in paths:
                connection.request("GET", path, headers=headers)
                answer = connection.getresponse()
                body = answer.read()
                if answer.status != 200:
                    log.info("first list of %s answered HTTP %s", path, answer.status)
                    return
                listed = json.loads(body)
                items = listed.get("items") or []
                for item in items:  # as a watch hands them on (list items carry neither)
                    item.setdefault("apiVersion", listed.get("apiVersion", ""))
                    item.setdefault("kind", str(listed.get("kind", "")).removesuffix("List"))
                    (item.get("metadata") or {}).pop("managedFields", None)
                yield path, items
        finally:
            connection.close()


def static_access(kubeconfig: Path, context: str | None) -> StaticAccess | None:
    """The access of ``context`` (else the current one) when a CA and a token are all it needs, else None."""
    try:
        config = yaml.load(kubeconfig.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        name = context or config.get("current-context")
        ctx = _named(config.get("contexts"), name)
        cluster = _named(config.get("clusters"), ctx.get("cluster"))
        user = _named(config.get("users"), ctx.get("user"))
    except (OSError, yaml.YAMLError, AttributeError, TypeError):
        return None
    if set(user) - {"token", "tokenFile"} or not user or cluster.get("proxy-url") or cluster.get(
            "insecure-skip-tls-verify") or os.environ.get("HTTPS_PROXY") or os.environ.get("https_proxy"):
        return None
    server = urlsplit(str(cluster.get("server") or ""))
    if server.scheme != "https" or not server.hostname:
        return None
    try:
        token = str(user.get("token") or _beside(kubeconfig, user["tokenFile"]).read_text().strip())
        if cluster.get("certificate-authority-data") or cluster.get("certificate-authority"):
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # the cluster's CA only, as kubectl trusts it
            if cluster.get("certificate-authority-data"):
                tls.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
            else:
                tls.load_verify_locations(cafile=str(_beside(kubeconfig, cluster["certificate-authority"])))
        else:
            tls = ssl.create_default_context()
    except (OSError, KeyError, ValueError, ssl.SSLError):
        return None
    return StaticAccess(server.hostname, server.port or 443, tls, token)


def _beside(kubeconfig: Path, path: Any) -> Path:
    """A path of the kubeconfig: relative ones are relative to its folder, as kubectl reads them."""
    return kubeconfig.parent / Path(str(path)).expanduser()


def _named(entries: Any, name: Any) -> dict[str, Any]:
    """The inner mapping of the kubeconfig entry called ``name`` (``{}`` when absent)."""
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            inner = entry.get("context") or entry.get("cluster") or entry.get("user") or {}
            return inner if isinstance(inner, dict) else {}
    return {}
