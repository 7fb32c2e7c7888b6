"""The token controller of kube-controller-manager: fills ServiceAccount token Secrets, removes orphaned ones.

A client of its cluster's server through the official Python client; it holds the cluster's signing key
as kube-controller-manager holds ``--service-account-private-key-file``.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from kubernetes import client, watch

from gitops_tui.sandbox.controllers.kinds import SECRETS, SERVICEACCOUNTS
from gitops_tui.sandbox.controllers.rest import Rest
from gitops_tui.sandbox.serving.authn import SA_NAME_ANNOTATION, SA_UID_ANNOTATION, SERVICE_ACCOUNT_TOKEN_TYPE
from gitops_tui.sandbox.serving.sa_tokens import Signer

log = logging.getLogger(__name__)
WATCH_TIMEOUT = 60


def _b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode("ascii")


class TokenController:
    """Keeps the ``kubernetes.io/service-account-token`` Secrets of one cluster filled and owned."""

    def __init__(self, name: str, api_client: client.ApiClient, signer: Signer, ca_cert: bytes) -> None:
        self.name = name
        self.core = client.CoreV1Api(api_client)
        self.rest = Rest(api_client)  # JSON in and out: the typed API's models would stand between
        self.signer = signer
        self.ca_cert = ca_cert
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watches: list[watch.Watch] = []

    @classmethod
    def for_server(cls, server: Any, ca_cert: str) -> TokenController:
        """The controller of a started ClusterServer, talking to it with its admin token."""
        from gitops_tui.sandbox.controllers.manager import api_client_for

        with open(ca_cert, "rb") as handle:
            ca = handle.read()
        return cls(server.name, api_client_for(server.url, server.token, ca_cert), server.auth.signer, ca)

    def start(self) -> TokenController:
        """Start watching Secrets and ServiceAccounts; return self."""
        for kind, handler in (("secret", self.sync_secret), ("service_account", self._account_event)):
            thread = threading.Thread(target=self._watch_loop, args=(kind, handler), daemon=True,
                                      name=f"tokens-{self.name}-{kind}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the watches (bounded)."""
        self._stop.set()
        for w in list(self._watches):
            w.stop()
        for thread in self._threads:
            thread.join(timeout)

    # -- reconcile ---------------------------------------------------------------------------

    def sync_secret(self, event: str, secret: dict[str, Any]) -> None:
        """Fill a token Secret of a live ServiceAccount; delete one whose account is gone."""
        meta = secret.get("metadata") or {}
        if event == "DELETED" or secret.get("type") != SERVICE_ACCOUNT_TOKEN_TYPE or meta.get("deletionTimestamp"):
            return
        annotations = meta.get("annotations") or {}
        namespace, name = meta.get("namespace", ""), meta.get("name", "")
        account_name = annotations.get(SA_NAME_ANNOTATION)
        if not account_name:
            return
        account = self._read_account(namespace, account_name)
        uid = ((account or {}).get("metadata") or {}).get("uid", "")
        if account is None or annotations.get(SA_UID_ANNOTATION, uid) != uid:
            log.info("tokens %s: deleting Secret %s/%s of missing ServiceAccount %s", self.name, namespace, name,
                     account_name)
            self._delete_secret(namespace, name)
            return
        data = secret.get("data") or {}
        if data.get("token") and data.get("ca.crt") and annotations.get(SA_UID_ANNOTATION) == uid:
            return
        token = self.signer.legacy_token(namespace, account_name, uid, name)
        secret = dict(secret)
        secret["metadata"] = {**meta, "annotations": {**annotations, SA_UID_ANNOTATION: uid}}
        secret["data"] = {**data, "token": _b64(token), "ca.crt": _b64(self.ca_cert), "namespace": _b64(namespace)}
        try:
            self.rest.request("PUT", SECRETS.path(namespace, name), None, secret)
            log.info("tokens %s: filled Secret %s/%s for ServiceAccount %s", self.name, namespace, name, account_name)
        except client.ApiException as exc:
            if exc.status not in (404, 409):  # gone, or changed: its next event brings it back
                raise

    def _account_event(self, event: str, account: dict[str, Any]) -> None:
        """When a ServiceAccount goes, its token Secrets go too."""
        if event != "DELETED":
            return
        meta = account.get("metadata") or {}
        namespace, account_name = meta.get("namespace", ""), meta.get("name", "")
        listing = self.rest.get(SECRETS.path(namespace))
        for secret in listing.get("items") or []:
            smeta = secret.get("metadata") or {}
            notes = smeta.get("annotations") or {}
            if secret.get("type") == SERVICE_ACCOUNT_TOKEN_TYPE and notes.get(SA_NAME_ANNOTATION) == account_name \
                    and notes.get(SA_UID_ANNOTATION, meta.get("uid")) == meta.get("uid"):
                self._delete_secret(namespace, smeta.get("name", ""))

    def _read_account(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self.rest.get(SERVICEACCOUNTS.path(namespace, name))
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def _delete_secret(self, namespace: str, name: str) -> None:
        try:
            self.core.delete_namespaced_secret(name, namespace, _request_timeout=30)
        except client.ApiException as exc:
            if exc.status != 404:
                raise

    # -- list and watch ----------------------------------------------------------------------

    def _watch_loop(self, kind: str, handler: Callable[[str, dict[str, Any]], None]) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                self._list_and_watch(kind, handler)
                backoff = 0.2
            except Exception as exc:  # noqa: BLE001 - 410, restarts, connection errors: relist after a pause
                if self._stop.is_set():
                    return
                log.debug("tokens %s: %s watch ended: %s", self.name, kind, type(exc).__name__)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _list_and_watch(self, kind: str, handler: Callable[[str, dict[str, Any]], None]) -> None:
        list_fn = getattr(self.core, f"list_{kind}_for_all_namespaces")
        listing = json.loads(list_fn(_preload_content=False, _request_timeout=30).data)
        for item in listing.get("items") or []:
            handler("ADDED", item)
        rv = (listing.get("metadata") or {}).get("resourceVersion")
        while not self._stop.is_set():
            w = watch.Watch(return_type="object")
            self._watches.append(w)
            try:
                for event in w.stream(list_fn, resource_version=rv, timeout_seconds=WATCH_TIMEOUT,
                                      allow_watch_bookmarks=True, _request_timeout=WATCH_TIMEOUT + 15):
                    if self._stop.is_set():
                        return
                    obj = event.get("raw_object") or {}
                    rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                    if event.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                        handler(event["type"], obj)
            finally:
                self._watches.remove(w)
