"""The management client from a Pod's own ServiceAccount (in-cluster config), as client-go's rest.InClusterConfig."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from kubernetes.client import ApiClient, Configuration
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.incluster_config import InClusterConfigLoader

from gitops_tui.kube.client import KubeconfigError, TimeoutApiClient, configure

#: Where the kubelet mounts a Pod's ServiceAccount token, CA and namespace.
SERVICEACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
#: Overrides SERVICEACCOUNT_DIR (tests, or a token projected elsewhere).
SERVICEACCOUNT_DIR_ENV = "GITOPS_TUI_SERVICEACCOUNT_DIR"
HOST_ENV = "KUBERNETES_SERVICE_HOST"
PORT_ENV = "KUBERNETES_SERVICE_PORT"


def serviceaccount_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The folder holding ``token`` and ``ca.crt`` of this Pod's ServiceAccount."""
    env = os.environ if environ is None else environ
    return Path(env.get(SERVICEACCOUNT_DIR_ENV) or SERVICEACCOUNT_DIR)


def in_cluster(environ: Mapping[str, str] | None = None) -> bool:
    """True inside a Pod: the API server's address is in the environment and the ServiceAccount token is mounted."""
    env = os.environ if environ is None else environ
    return bool(env.get(HOST_ENV)) and bool(env.get(PORT_ENV)) and (serviceaccount_dir(env) / "token").is_file()


def api_client_in_cluster(environ: Mapping[str, str] | None = None) -> ApiClient:
    """Return an ApiClient with the Pod's ServiceAccount token (re-read each minute: kubelet rotates it)."""
    env = os.environ if environ is None else environ
    folder = serviceaccount_dir(env)
    cfg = Configuration()
    try:
        InClusterConfigLoader(token_filename=str(folder / "token"), cert_filename=str(folder / "ca.crt"),
                              environ=env).load_and_set(cfg)
    except (ConfigException, OSError) as exc:
        raise KubeconfigError(f"the in-cluster configuration cannot be used: {str(exc).splitlines()[0][:200]}") from None
    return TimeoutApiClient(configuration=configure(cfg))
