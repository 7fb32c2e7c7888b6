"""Pull charts from OCI registries with Helm's own registry client, under the operator's fetch allow-list.

The registry's URL (``oci://``) is checked first: a refusal names it and the flag and opens no connection. Helm's
client then runs in a worker process (``registry_worker``) whose every connection to a named host goes through the
reconciler's egress proxy (kube/egress_proxy.py), which checks it again (token services and blob redirects
included), connects to the checked address and bounds the bytes read. A tag or a semver range is resolved to the
manifest digest at most once per the source's interval, and the chart is pulled *by that digest*: Helm's client
verifies the manifest against it and each blob against the manifest, and the archive is kept under the digest
(its own sha256 recorded and checked before every reuse). Credentials travel in the request only; never logged.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import helm_python as helm

from gitops_tui.helm.dependencies import check_dependencies
from gitops_tui.helm.errors import ARTIFACT_FAILED, HelmReleaseFailed
from gitops_tui.helm.oci_source import OCIChartSource, choose_tag, credentials
from gitops_tui.helm.render import remember_origin
from gitops_tui.helm.render_pool import RenderPool, RenderStopped
from gitops_tui.kube.egress_proxy import Session, shared_proxy
from gitops_tui.kube.limits import MIB
from gitops_tui.kube.outbound import FetchPolicy, FetchRefused, Target

MAX_CHART_BYTES = 10 * MIB
#: What one registry request may read through the proxy: the chart, its manifest and config, tags and tokens.
SESSION_BYTES = MAX_CHART_BYTES + 6 * MIB
#: Reads a Secret's data (base64-decoded) by name in the release's namespace; None when it does not exist.
SecretReader = Callable[[str], "dict[str, bytes] | None"]

_memo: dict[tuple[str, ...], tuple[str, str, float]] = {}
_memo_lock = threading.Lock()
_pull_lock = threading.Lock()
_pool: RenderPool | None = None
_pool_lock = threading.Lock()


def _registry_pool() -> RenderPool:
    """The process's pool of registry workers (proxy and a private empty HOME in their environment)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            proxy = shared_proxy()
            home = tempfile.mkdtemp(prefix="gitops-tui-registry-")
            atexit.register(shutil.rmtree, home, True)

            def environment(token: str) -> dict[str, str]:
                url = proxy.url_for(token)
                env = {"HOME": home, "DOCKER_CONFIG": home, "HELM_CONFIG_HOME": home, "HELM_CACHE_HOME": home,
                       "HELM_DATA_HOME": home, "HTTPS_PROXY": url, "HTTP_PROXY": url, "https_proxy": url,
                       "http_proxy": url, "NO_PROXY": "", "no_proxy": ""}
                for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):  # the operator's own trust store, if set
                    if os.environ.get(name):
                        env[name] = os.environ[name]
                return env

            _pool = RenderPool(max_workers=4, keep_idle=1, module="gitops_tui.helm.registry_worker",
                               environment=environment)
            atexit.register(_pool.close)
        return _pool


def load_chart(source: OCIChartSource, cache_dir: Path, policy: FetchPolicy | None = None,
               read_secret: SecretReader | None = None) -> helm.Chart:
    """The chart ``source`` names, pulled by digest (or from the cache); HelmReleaseFailed with one sentence."""
    policy = policy if policy is not None else FetchPolicy.from_env()
    try:
        target = policy.check_registry(source.url, f"{source.what} URL", insecure=source.insecure)
    except FetchRefused as exc:
        raise HelmReleaseFailed(exc.reason, exc.message, quotes_values=False) from None
    data = None
    if source.secret:
        data = read_secret(source.secret) if read_secret is not None else None
        if data is None:
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"{source.what}: could not find Secret {source.secret!r} "
                                                     "(spec.secretRef) in the release's namespace", quotes_values=False)
    username, password = credentials(source, data)
    call = _Caller(source, target, policy, username, password)
    digest = source.digest or _resolved_digest(source, call, username)
    archive = _archive(source, digest, call, cache_dir)
    try:
        chart = remember_origin(helm.Chart.load_archive(archive.read_bytes()), archive)
    except helm.HelmError as exc:
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{source.what}: the artifact {digest} is not a Helm chart: {exc}",
                                quotes_values=False) from None
    check_dependencies(chart)
    return chart


class _Caller:
    """One registry operation at a time in a worker, inside a proxy session for that worker."""

    def __init__(self, source: OCIChartSource, target: Target, policy: FetchPolicy, username: str,
                 password: str) -> None:
        self.source, self.target, self.policy = source, target, policy
        self.username, self.password = username, password

    def __call__(self, op: str, ref: str, **extra: Any) -> dict[str, Any]:
        request = {"op": op, "ref": ref, "plain_http": self.source.insecure, "host": self.source.host,
                   "username": self.username, "password": self.password, **extra}
        opened = Session(self.policy, self.source.what, self.target, SESSION_BYTES)

        shown = f"{self.source.what} ({self.source.url})"
        try:
            answer = _registry_pool().ask(request, self.source.timeout,
                                          around=lambda token: shared_proxy().serving(token, opened))
        except RenderStopped as exc:
            why = "timed out" if exc.why == "deadline" else f"was stopped ({exc.why})"
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"{shown}: the registry {op} {why} after "
                                                     f"{self.source.timeout:g} s", quotes_values=False) from None
        finally:
            request.pop("password", None)
        if "error" in answer:
            if opened.refused:
                raise HelmReleaseFailed("URLNotAllowed", opened.refused, quotes_values=False)
            if opened.exceeded:
                raise HelmReleaseFailed(ARTIFACT_FAILED, f"{shown}: the registry sent more than "
                                                         f"{SESSION_BYTES // MIB} MiB", quotes_values=False)
            message = str((answer.get("error") or {}).get("message") or "the registry refused the request")
            raise HelmReleaseFailed(ARTIFACT_FAILED, f"{shown}: {message}", quotes_values=False)
        return answer


def _resolved_digest(source: OCIChartSource, call: _Caller, username: str) -> str:
    """The manifest digest the source's tag (or semver range) names now, remembered for the source's interval."""
    key = (source.url, source.ref_text, str(source.insecure), hashlib.sha256(
        f"{username}\0{call.password}".encode()).hexdigest())
    with _memo_lock:
        hit = _memo.get(key)
        if hit is not None and time.monotonic() - hit[2] < source.interval:
            return hit[0]
    tag = source.tag or "latest"
    if source.semver:
        tag = choose_tag(source, list(call("tags", source.url).get("tags") or []))
    descriptor = call("resolve", f"{source.url}:{tag.replace('+', '_')}").get("descriptor") or {}
    digest = str(descriptor.get("digest") or "")
    if not digest.startswith("sha256:"):
        raise HelmReleaseFailed(ARTIFACT_FAILED, f"{source.what}: the registry gave no sha256 digest for tag {tag}",
                                quotes_values=False)
    with _memo_lock:
        if len(_memo) > 512:
            _memo.clear()
        _memo[key] = (digest, tag, time.monotonic())
    return digest


def _archive(source: OCIChartSource, digest: str, call: _Caller, cache_dir: Path) -> Path:
    """The chart archive of manifest ``digest``: from the cache when its recorded sha256 still holds, else pulled."""
    folder = cache_dir / "charts" / "oci"
    hexdigest = digest.removeprefix("sha256:")
    archive, record = folder / f"{hexdigest}.tgz", folder / f"{hexdigest}.sha256"
    with _pull_lock:
        if archive.is_file() and record.is_file():
            if hashlib.sha256(archive.read_bytes()).hexdigest() == record.read_text().strip():
                return archive
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        staging = Path(tempfile.mkdtemp(prefix="pull-", dir=folder))
        try:
            pulled = call("pull", f"{source.url}@{digest}", destination=str(staging)).get("archives") or []
            if len(pulled) != 1:
                raise HelmReleaseFailed(ARTIFACT_FAILED, f"{source.what}: the artifact {digest} holds no Helm chart",
                                        quotes_values=False)
            size = Path(pulled[0]).stat().st_size
            if size > MAX_CHART_BYTES:
                raise HelmReleaseFailed(ARTIFACT_FAILED, f"{source.what}: the chart of {digest} is "
                                                         f"{size / MIB:.1f} MiB; at most {MAX_CHART_BYTES // MIB} MiB "
                                                         "is read", quotes_values=False)
            content = Path(pulled[0]).read_bytes()
            archive.write_bytes(content)
            record.write_text(hashlib.sha256(content).hexdigest())
            return archive
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def restart_registry_workers() -> None:
    """Stop the registry workers: the next request starts new ones, with the environment of that moment (the
    operator's trust store, SSL_CERT_FILE, read when a worker starts)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.close()
