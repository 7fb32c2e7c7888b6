"""Clients that act as another identity through impersonation, as Flux's kustomize-controller does for a tenant.

Every request of an impersonating client carries ``Impersonate-User: system:serviceaccount:<ns>:<name>``;
kube-apiserver checks that the reconciler may ``impersonate`` that ServiceAccount, adds the account's groups
(``system:serviceaccounts``, ``system:serviceaccounts:<ns>``, ``system:authenticated``) itself, and then
authorizes the request as the ServiceAccount. Discovery is shared with the reconciler's own client (it is
the same cluster), so an impersonating client costs no discovery of its own.
"""

from __future__ import annotations

import copy
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.dynamic import DynamicClient

IMPERSONATE_USER = "Impersonate-User"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


def service_account_user(namespace: str, name: str) -> str:
    """The user name of a ServiceAccount: ``system:serviceaccount:<namespace>:<name>``."""
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def impersonating_api_client(own: ApiClient, user: str) -> ApiClient:
    """An ApiClient sharing ``own``'s connection pool and credentials whose every request impersonates ``user``.

    Close ``own``, never this one (it would close the shared pool).
    """
    client = copy.copy(own)
    client.default_headers = {**own.default_headers, IMPERSONATE_USER: user}
    return client


class ImpersonatingDynamicClient(DynamicClient):
    """A DynamicClient whose requests act as ``user``; discovery is that of ``own`` (the reconciler's client)."""

    def __init__(self, own: DynamicClient, user: str) -> None:  # noqa: D107 - DynamicClient.__init__ would rediscover
        self.own = own
        self.user = user
        self.client = impersonating_api_client(own.client, user)
        self.configuration = self.client.configuration

    @property
    def resources(self) -> Any:
        """The reconciler's own discoverer (the same cluster serves the same kinds to everyone)."""
        return self.own.resources

    @property
    def version(self) -> Any:
        """The cluster's version, from the reconciler's own client."""
        return self.own.version


def acting_as(own: DynamicClient, user: str) -> ImpersonatingDynamicClient:
    """A client of the same cluster as ``own`` acting as ``user``."""
    return ImpersonatingDynamicClient(own_client(own), user)


def own_client(dynamic: DynamicClient) -> DynamicClient:
    """The reconciler's own client behind ``dynamic`` (``dynamic`` itself when it impersonates nobody)."""
    return getattr(dynamic, "own", dynamic)


def acting_user(dynamic: Any) -> str:
    """The user ``dynamic`` impersonates, "" for the reconciler's own client."""
    return str(getattr(dynamic, "user", "") or "")
