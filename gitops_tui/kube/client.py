"""Kubernetes clients from a kubeconfig file or from kubeconfig text held in a Secret, with timeouts."""

from __future__ import annotations

import atexit
import base64
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import config as kube_config
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.dynamic import DynamicClient

from gitops_tui.api.paths import resource_path
from gitops_tui.api.references import name_errors
from gitops_tui.kube.kubeconfig_guard import (
    REASON_KUBECONFIG_REFUSED,
    STRICT,
    CheckedKubeconfig,
    KubeconfigPolicy,
    KubeconfigRefused,
    check_stored_kubeconfig,
    parse_stored_kubeconfig,
)
from gitops_tui.kube.write_observers import notify

log = logging.getLogger(__name__)

#: (connect, read) seconds for every request that does not set its own timeout.
DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
#: Namespace of KubeFedCluster objects and their kubeconfig Secrets.
FEDERATION_NAMESPACE = "kube-federation-system"
KUBEFED_GROUP_VERSION = "core.kubefed.io/v1beta1"


#: The User-Agent of every client made here: the API server names a write's field manager after it when the
#: request gives none (kube-apiserver takes what comes before the first "/"), so ours read ``gitops-tui``.
USER_AGENT = "gitops-tui/0.1"
#: Writes that carry our field manager unless the caller names one (creates, status patches, Lease renewals).
_MANAGED_WRITES = ("POST", "PATCH", "PUT")


class TimeoutApiClient(ApiClient):
    """An ApiClient whose requests get a default (connect, read) timeout and say they come from gitops-tui."""

    default_timeout: tuple[float, float] = DEFAULT_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_agent = USER_AGENT

    def call_api(self, method, url, header_params=None, body=None, post_params=None, _request_timeout=None):
        """Send one request, with the default timeout unless the caller chose one."""
        if _request_timeout is None:
            _request_timeout = self.default_timeout
        return super().call_api(method, url, header_params, body, post_params, _request_timeout=_request_timeout)


class KubeconfigError(Exception):
    """A kubeconfig could not be loaded (missing file, unknown context, malformed)."""


class ClusterUnreachable(Exception):
    """A workload cluster cannot be used now; ``reason`` is a Kubefed-style reason, the message is safe to show."""

    def __init__(self, cluster: str, message: str, reason: str = "ClusterNotReachable") -> None:
        super().__init__(f"cluster {cluster}: {message}")
        self.cluster = cluster
        self.reason = reason
        self.detail = message


def configure(cfg: Configuration) -> Configuration:
    """Set the retries and connection pool every client of the reconciler and console uses."""
    cfg.retries = 1
    cfg.connection_pool_maxsize = 32  # a console holds ~20 connections at once: no "Connection pool is full"
    return cfg


def api_client_from_kubeconfig(path: str | Path, context: str | None = None) -> ApiClient:
    """Return an ApiClient for ``context`` (default: current) of the kubeconfig file at ``path``."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise KubeconfigError(f"kubeconfig {path} does not exist")
    read_kubeconfig(path)
    cfg = Configuration()
    try:
        kube_config.load_kube_config(
            config_file=str(path), context=context, client_configuration=cfg, persist_config=False
        )
    except (ConfigException, yaml.YAMLError, ValueError, KeyError, TypeError) as exc:
        raise KubeconfigError(_config_message(str(path), context, exc)) from None
    return TimeoutApiClient(configuration=configure(cfg))


def read_kubeconfig(path: Path) -> dict[str, Any]:
    """Return the kubeconfig at ``path`` as a mapping; raise KubeconfigError (never quoting its content)."""
    try:
        config = yaml.safe_load(path.expanduser().read_text())
    except (OSError, UnicodeDecodeError):
        raise KubeconfigError(f"kubeconfig {path} cannot be read") from None
    except yaml.YAMLError:
        raise KubeconfigError(f"kubeconfig {path} is not valid YAML") from None
    if not isinstance(config, dict):
        raise KubeconfigError(f"kubeconfig {path} is not a kubeconfig")
    return config


def api_client_from_kubeconfig_text(
    text: str | bytes, context: str | None = None, policy: KubeconfigPolicy = STRICT
) -> ApiClient:
    """Return an ApiClient from kubeconfig content stored in a Secret's ``kubeconfig`` key.

    The content goes through the guard first (kubeconfig_guard): a kubeconfig that names a file or a
    credential plugin raises KubeconfigRefused and nothing of it is used.
    """
    return api_client_from_checked(check_stored_kubeconfig(parse_stored_kubeconfig(text), policy), context)


def api_client_from_checked(checked: CheckedKubeconfig, context: str | None = None) -> ApiClient:
    """Return an ApiClient from a kubeconfig that passed check_stored_kubeconfig."""
    cfg = Configuration()
    try:
        kube_config.load_kube_config_from_dict(
            config_dict=checked.config, context=context, client_configuration=cfg, persist_config=False
        )
    except (ConfigException, ValueError, KeyError, TypeError) as exc:
        raise KubeconfigError(_config_message("the kubeconfig", context, exc)) from None
    return TimeoutApiClient(configuration=configure(cfg))


def _config_message(where: str, context: str | None, exc: Exception) -> str:
    text = str(exc)
    if context and "context" in text.lower():
        return f"context {context!r} is not in {where}"
    # ConfigException messages name fields, never credential values.
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"{where} cannot be used: {first[:200]}"


def kubeconfig_contexts(path: str | Path) -> list[str]:
    """Return the context names in the kubeconfig file at ``path`` (empty if unreadable)."""
    try:
        data = yaml.safe_load(Path(path).expanduser().read_text())
    except (OSError, yaml.YAMLError):
        return []
    if not isinstance(data, dict):
        return []
    return [c.get("name", "") for c in data.get("contexts") or [] if isinstance(c, dict)]


_DISCOVERY_DIR: str | None = None
_DISCOVERY_LOCK = threading.Lock()


def _discovery_cache_file() -> str:
    """Return a discovery cache file of this client alone, in a folder of this process removed at exit.

    The official client's default is one file per server URL in the shared temp folder, reused by
    every later process: a new cluster on a reused loopback port would then be "known" to serve
    what an earlier one served (a CRD it does not have), and writes would get 404.
    """
    global _DISCOVERY_DIR
    with _DISCOVERY_LOCK:
        if _DISCOVERY_DIR is None:
            _DISCOVERY_DIR = tempfile.mkdtemp(prefix="gitops-tui-discovery-")
            atexit.register(shutil.rmtree, _DISCOVERY_DIR, True)
    return os.path.join(_DISCOVERY_DIR, f"{uuid.uuid4().hex}.json")


def dynamic_client(api_client: ApiClient) -> DynamicClient:
    """Return a DynamicClient over ``api_client`` with its own discovery cache (runs discovery)."""
    return DynamicClient(api_client, cache_file=_discovery_cache_file())


def is_unreachable_error(exc: BaseException) -> bool:
    """True when ``exc`` means the server could not be reached (not an API error answer)."""
    if isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError, OSError)):
        return not isinstance(exc, ApiException)
    return False


def secret_value(secret: dict[str, Any], key: str) -> bytes | None:
    """Return the decoded bytes of ``key`` in a Secret dict (``data`` base64 or ``stringData``)."""
    data = secret.get("data") or {}
    if key in data and data[key] is not None:
        try:
            return base64.b64decode(data[key])
        except (ValueError, TypeError):
            return None
    string_data = secret.get("stringData") or {}
    if key in string_data and string_data[key] is not None:
        return str(string_data[key]).encode()
    return None


class _Connection:
    """One cached workload-cluster connection and the versions it was built from."""

    def __init__(self, api_client: ApiClient, versions: tuple[str, str], warnings: tuple[str, ...] = ()) -> None:
        self.api_client = api_client
        self.versions = versions
        self.warnings = warnings
        self.dynamic: DynamicClient | None = None
        self.checked_at = time.monotonic()


class ClusterConnections:
    """Clients for workload clusters, built from KubeFedCluster Secrets and rebuilt when those change."""

    def __init__(
        self,
        management: ApiClient,
        namespace: str = FEDERATION_NAMESPACE,
        recheck_seconds: float = 2.0,
        policy: KubeconfigPolicy = STRICT,
    ) -> None:
        """Read KubeFedClusters and Secrets in ``namespace`` through ``management``; ``policy`` guards kubeconfigs."""
        self._mgmt = management
        self.policy = policy
        self._namespace = namespace
        self._recheck = recheck_seconds
        self._lock = threading.Lock()
        self._cache: dict[str, _Connection] = {}
        self._refused: dict[str, tuple[str, str]] = {}  # versions already logged as refused
        #: ``cached(name) -> (KubeFedCluster, its Secret) | None``: a watch cache read first (no request), else GETs.
        self.cached: Any = None

    def _get_json(self, path: str) -> dict[str, Any] | None:
        try:
            return json_request(self._mgmt, "GET", path)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise ClusterUnreachable("management", f"management API answered {exc.status}") from None
        except Exception as exc:  # noqa: BLE001 - transport failure on the management side
            raise ClusterUnreachable("management", f"management cluster unreachable ({type(exc).__name__})") from None

    def _lookup(self, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        if name_errors(name):  # a placement written by hand: never a path of its own
            raise ClusterUnreachable(name[:253], "no KubeFedCluster of that name is attached", "ClusterNotFound")
        found = self.cached(name) if self.cached is not None else None
        if found is not None:
            return found
        ns = self._namespace
        kfc = self._get_json(resource_path(KUBEFED_GROUP_VERSION, "kubefedclusters", ns, name))
        if kfc is None:
            raise ClusterUnreachable(name, "no KubeFedCluster of that name is attached", "ClusterNotFound")
        secret_name = ((kfc.get("spec") or {}).get("secretRef") or {}).get("name")
        if not secret_name:
            raise ClusterUnreachable(name, "the KubeFedCluster has no spec.secretRef.name", "ClusterConfigInvalid")
        secret = self._get_json(resource_path("v1", "secrets", ns, secret_name))
        if secret is None:
            raise ClusterUnreachable(name, f"its Secret {secret_name} does not exist", "ClusterConfigInvalid")
        return kfc, secret

    def get(self, name: str) -> tuple[ApiClient, DynamicClient]:
        """Return ``(api_client, dynamic)`` for cluster ``name`` or raise ClusterUnreachable."""
        conn = self._connection(name)
        if conn.dynamic is None:
            try:
                conn.dynamic = dynamic_client(conn.api_client)
            except ApiException as exc:
                raise ClusterUnreachable(name, f"discovery failed with HTTP {exc.status}", "ClusterNotReady") from None
            except Exception as exc:  # noqa: BLE001 - transport errors of any kind
                raise ClusterUnreachable(name, f"cannot connect ({type(exc).__name__})") from None
        return conn.api_client, conn.dynamic

    def api_client(self, name: str) -> ApiClient:
        """Return only the ApiClient for ``name`` (no discovery); raise ClusterUnreachable."""
        return self._connection(name).api_client

    def _connection(self, name: str) -> _Connection:
        """The cached connection when checked within ``recheck_seconds``, else one refreshed from its Secret."""
        with self._lock:
            conn = self._cache.get(name)
            fresh = conn is not None and time.monotonic() - conn.checked_at < self._recheck
        if not fresh or conn is None:
            conn = self._refresh(name)
        return conn

    def _refresh(self, name: str) -> _Connection:
        kfc, secret = self._lookup(name)
        kfc_meta = kfc.get("metadata") or {}
        versions = (  # its spec (generation: a status write of the health check keeps the connection), its Secret
            str(kfc_meta.get("generation") or kfc_meta.get("resourceVersion", "")),
            str((secret.get("metadata") or {}).get("resourceVersion", "")),
        )
        with self._lock:
            conn = self._cache.get(name)
            if conn is not None and conn.versions == versions:
                conn.checked_at = time.monotonic()
                return conn
        raw = secret_value(secret, "kubeconfig")
        if raw is None:
            raise ClusterUnreachable(name, "its Secret has no 'kubeconfig' key", "ClusterConfigInvalid")
        try:
            checked = check_stored_kubeconfig(parse_stored_kubeconfig(raw), self.policy)
            client = api_client_from_checked(checked)
        except KubeconfigRefused as exc:
            with self._lock:
                first = self._refused.get(name) != versions
                self._refused[name] = versions
            if first:
                log.warning("cluster %s: stored kubeconfig refused (%s); the cluster is not contacted", name, exc.field)
            raise ClusterUnreachable(name, str(exc), REASON_KUBECONFIG_REFUSED) from None
        except KubeconfigError as exc:
            raise ClusterUnreachable(name, str(exc), "ClusterConfigInvalid") from None
        new = _Connection(client, versions, checked.warnings)
        with self._lock:
            old = self._cache.get(name)
            self._cache[name] = new
        if old is not None:
            log.info("cluster %s: connection rebuilt after its configuration changed", name)
            _close_quietly(old.api_client)
        return new

    def warnings(self, name: str) -> tuple[str, ...]:
        """What the operator should know about cluster ``name``'s stored kubeconfig (TLS off, a plugin allowed)."""
        return self._connection(name).warnings

    def invalidate(self, name: str | None = None) -> None:
        """Forget the connection to ``name`` (or all): the next get() rebuilds it."""
        with self._lock:
            if name is None:
                dropped = list(self._cache.values())
                self._cache.clear()
            else:
                conn = self._cache.pop(name, None)
                dropped = [conn] if conn is not None else []
        for conn in dropped:
            _close_quietly(conn.api_client)

    def close(self) -> None:
        """Close every cached client."""
        self.invalidate(None)


def _close_quietly(client: ApiClient) -> None:
    try:
        client.close()
    except Exception:  # noqa: BLE001 - closing is best effort
        pass


def json_request(
    api_client: ApiClient,
    method: str,
    path: str,
    body: Any = None,
    *,
    query: dict[str, Any] | None = None,
    content_type: str = "application/json",
    timeout: Any = None,
) -> dict[str, Any]:
    """Send one JSON request to ``path`` (e.g. ``/api/v1/namespaces``) and return the decoded answer.

    Raises ApiException (with ``status``) for a non-2xx answer; transport errors propagate.
    """
    from urllib.parse import urlencode

    url = api_client.configuration.host.rstrip("/") + path
    if method.upper() in _MANAGED_WRITES and "fieldManager" not in (query or {}):
        query = {**(query or {}), "fieldManager": "gitops-tui"}  # never "OpenAPI-Generator" in managedFields
    if query:
        url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
    headers = {"Accept": "application/json", "Content-Type": content_type}
    headers.update(api_client.default_headers)
    auth = api_client.configuration.auth_settings().get("BearerToken")
    if auth and auth.get("value"):
        headers[auth["key"]] = auth["value"]
    resp = api_client.call_api(method.upper(), url, header_params=headers, body=body, _request_timeout=timeout)
    data = resp.read()
    if not 200 <= resp.status < 300:
        raise ApiException(status=resp.status, reason=resp.reason, http_resp=resp)
    answer = json.loads(data) if data else {}
    notify(api_client, method.upper(), answer)  # a watch cache learns what its own process wrote
    return answer
