"""An operator's kubeconfig cut down to one context, with the files it names inlined: what attach reads once."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.actions import ActionError
from gitops_tui.kube.client import KubeconfigError, read_kubeconfig


def _inline(entry: dict[str, Any], base: Path, file_key: str, data_key: str) -> None:
    if entry.get(file_key) and not entry.get(data_key):
        path = Path(entry[file_key]).expanduser()
        if not path.is_absolute():
            path = base / path
        try:
            entry[data_key] = base64.b64encode(path.read_bytes()).decode("ascii")
        except OSError:
            raise ActionError(f"the kubeconfig refers to {path}, which cannot be read") from None
        del entry[file_key]


def minify_kubeconfig(path: Path, context: str | None) -> tuple[str, str]:
    """Return (kubeconfig text with only ``context``, files inlined; the server URL)."""
    try:
        config = read_kubeconfig(path)
    except KubeconfigError as exc:
        raise ActionError(str(exc)) from None
    context = context or config.get("current-context")
    contexts = {c.get("name"): c for c in config.get("contexts") or [] if isinstance(c, dict)}
    if not context or context not in contexts:
        choices = ", ".join(sorted(str(n) for n in contexts)) or "none"
        raise ActionError(f"context {context!r} is not in {path} (contexts: {choices})")
    ctx = dict(contexts[context].get("context") or {})
    clusters = {c.get("name"): c for c in config.get("clusters") or [] if isinstance(c, dict)}
    users = {u.get("name"): u for u in config.get("users") or [] if isinstance(u, dict)}
    if ctx.get("cluster") not in clusters:
        raise ActionError(f"context {context!r} names a cluster missing from {path}")
    cluster = dict(clusters[ctx["cluster"]].get("cluster") or {})
    user = dict((users.get(ctx.get("user")) or {}).get("user") or {})
    base = path.expanduser().resolve().parent
    _inline(cluster, base, "certificate-authority", "certificate-authority-data")
    _inline(user, base, "client-certificate", "client-certificate-data")
    _inline(user, base, "client-key", "client-key-data")
    if user.get("tokenFile") and not user.get("token"):
        try:
            user["token"] = (base / Path(user.pop("tokenFile")).expanduser()).read_text().strip()
        except OSError:
            raise ActionError("the kubeconfig's token file cannot be read") from None
    server = str(cluster.get("server") or "")
    if not server:
        raise ActionError(f"context {context!r} has no server URL")
    minified = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": context,
        "contexts": [{"name": context, "context": {k: v for k, v in ctx.items() if k in ("cluster", "user", "namespace")}}],
        "clusters": [{"name": ctx["cluster"], "cluster": cluster}],
        "users": [{"name": ctx.get("user") or "user", "user": user}],
    }
    return yaml.safe_dump(minified, sort_keys=False), server
