"""The push-webhook receiver: verifies GitHub / GitLab / generic HMAC signatures and requests a reconcile.

Replays (same delivery id) trigger nothing and a flood is coalesced; the HTTP side is webhook_server.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.api import names
from gitops_tui.api.paths import resource_path
from gitops_tui.api.references import name_errors
from gitops_tui.kube.client import json_request, secret_value
from gitops_tui.kube.lease import DEFAULT_LEASE_DURATION
from gitops_tui.reconciler.context import management_path
from gitops_tui.reconciler.webhook_server import (
    MAX_CONNECTIONS,
    REQUEST_DEADLINE,
    BodyRefused,
    BoundedHTTPServer,
    ServedInThread,
    body_length,
    parse_listen,
)

log = logging.getLogger(__name__)

#: Annotation on a FederatedGitRepository naming the Secret (project namespace) with the webhook token.
WEBHOOK_SECRET_ANNOTATION = "gitops-tui.io/webhook-secret"
#: Default Secret name: "<source>-webhook"; the token is under this key.
WEBHOOK_SECRET_SUFFIX = "-webhook"
WEBHOOK_TOKEN_KEY = "token"
#: Headers carrying a delivery id: GitHub, GitLab, then the generic one.
DELIVERY_HEADERS = ("X-GitHub-Delivery", "X-Gitlab-Event-UUID", "X-Delivery-Id")
#: Annotation recording the delivery id of the last requested reconcile.
DELIVERY_ANNOTATION = "gitops-tui.io/webhook-delivery"
_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}


def webhook_secret_name(repository: dict[str, Any]) -> str:
    """Return the name of the Secret holding a source's webhook token."""
    meta = repository.get("metadata") or {}
    return (meta.get("annotations") or {}).get(WEBHOOK_SECRET_ANNOTATION) or f"{meta.get('name')}{WEBHOOK_SECRET_SUFFIX}"


def hmac_hex(token: bytes, body: bytes, algorithm: str = "sha256") -> str:
    """Return the hex HMAC of ``body`` keyed by ``token``."""
    return hmac.new(token, body, _DIGESTS[algorithm]).hexdigest()


def verify(provider: str, headers: Any, body: bytes, token: bytes) -> bool:
    """Check a request's signature for ``provider`` (github, gitlab, anything else = generic HMAC)."""
    provider = (provider or names.DEFAULT_PROVIDER).lower()
    if provider == "gitlab":
        given = headers.get("X-Gitlab-Token") or ""
        return bool(given) and hmac.compare_digest(given.encode(), token)
    header = "X-Hub-Signature-256" if provider == "github" else "X-Signature"
    given = (headers.get(header) or "").strip()
    if "=" not in given:
        return False
    algorithm, _, digest = given.partition("=")
    algorithm = algorithm.lower()
    if provider == "github" and algorithm != "sha256":
        return False
    if algorithm not in _DIGESTS:
        return False
    return hmac.compare_digest(digest.lower(), hmac_hex(token, body, algorithm))


class Deliveries:
    """Delivery ids seen within ``window`` seconds (GitHub, GitLab or generic header), to ignore replays."""

    def __init__(self, window: float, capacity: int = 10_000) -> None:
        """Remember at most ``capacity`` ids, each for ``window`` seconds."""
        self.window = window
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def replayed(self, key: tuple[str, str, str], now: float | None = None) -> bool:
        """Record ``key``; True when it was already seen within the window."""
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._seen and (len(self._seen) >= self.capacity or next(iter(self._seen.values())) <= now - self.window):
                self._seen.popitem(last=False)
            if key in self._seen:
                return True
            self._seen[key] = now
            return False


def delivery_id(headers: Any) -> str:
    """The delivery id a provider sends with each delivery (the same on a redelivery), or ""."""
    for header in DELIVERY_HEADERS:
        value = (headers.get(header) or "").strip()
        if value:
            return value[:200]
    return ""


class WebhookReceiver(ServedInThread):
    """Serves ``POST /hook/<namespace>/<source>``; a verified push requests a reconcile of that source.

    A delivery whose id was seen within ``replay_window`` seconds triggers nothing, and while a requested
    reconcile is still pending (the FederatedKustomization's requestedAt not yet handled) further
    deliveries write nothing: a flood costs at most one management write per reconcile.
    """

    def __init__(
        self,
        api_client: ApiClient,
        listen: str,
        trigger: Callable[[str, str], None] | None = None,
        *,
        replay_window: float = DEFAULT_LEASE_DURATION,
        max_connections: int = MAX_CONNECTIONS,
        deadline: float = REQUEST_DEADLINE,
    ) -> None:
        """Listen on ``host:port`` (port 0 picks one); ``trigger(namespace, name)`` reconciles locally."""
        address = parse_listen(listen)
        self._api = api_client
        self._trigger = trigger
        self._deliveries = Deliveries(replay_window)
        super().__init__(BoundedHTTPServer(address, self._handler_class(deadline), max_connections=max_connections,
                                           deadline=deadline), "gitops-tui-webhook")

    # -- request handling ------------------------------------------------------------------
    def handle(self, path: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]]:
        """Decide on one request; return (HTTP status, JSON answer). Only verified, new pushes trigger."""
        parts = [p for p in path.split("?")[0].split("/") if p]
        if len(parts) != 3 or parts[0] != "hook":
            return 404, {"message": "use POST /hook/<namespace>/<source>"}
        namespace, name = parts[1], parts[2]
        if name_errors(namespace, label=True) or name_errors(name):  # a name is never pasted into a request as is
            return 404, {"message": f"no source {namespace[:63]}/{name[:253]}"}
        try:
            repo = json_request(self._api, "GET",
                                management_path(names.KIND_FEDERATED_GIT_REPOSITORY, namespace, name))
        except ApiException as exc:
            if exc.status == 404:
                return 404, {"message": f"no source {namespace}/{name}"}
            return 503, {"message": "the management cluster cannot be read"}
        except Exception:  # noqa: BLE001 - management unreachable
            return 503, {"message": "the management cluster cannot be reached"}
        spec = ((repo.get("spec") or {}).get("template") or {}).get("spec") or {}
        provider = str(spec.get("provider") or names.DEFAULT_PROVIDER)
        token = self._token(namespace, webhook_secret_name(repo))
        if not token or not verify(provider, headers, body, token):
            log.warning("webhook for %s/%s rejected: missing or bad %s signature", namespace, name, provider)
            return 401, {"message": "missing or invalid signature"}
        if provider == "github" and (headers.get("X-GitHub-Event") or "") == "ping":
            return 200, {"message": "pong"}
        delivery = delivery_id(headers)
        if delivery and self._deliveries.replayed((namespace, name, delivery)):
            log.info("webhook delivery %s for %s/%s replayed; ignored", delivery, namespace, name)
            return 200, {"message": "delivery already received", "source": f"{namespace}/{name}"}
        return self._request(namespace, name, provider, delivery)

    def _token(self, namespace: str, secret_name: str) -> bytes | None:
        try:
            secret = json_request(self._api, "GET", resource_path("v1", "secrets", namespace, secret_name))
        except Exception:  # noqa: BLE001 - no Secret means nothing can be verified
            return None
        value = secret_value(secret, WEBHOOK_TOKEN_KEY)
        return value.strip() if value else None

    def _request(self, namespace: str, name: str, provider: str, delivery: str) -> tuple[int, dict[str, Any]]:
        """Ask for a reconcile: one write of requestedAt on the FederatedKustomization, unless one is pending."""
        path = management_path(names.KIND_FEDERATED_KUSTOMIZATION, namespace, name)
        try:
            kustomization = json_request(self._api, "GET", path)
        except Exception as exc:  # noqa: BLE001 - the local trigger still runs
            log.warning("could not read %s/%s: %s", namespace, name, type(exc).__name__)
            kustomization = None
        if kustomization is not None and delivery and self._recorded(kustomization, delivery):
            log.info("webhook delivery %s for %s/%s replayed; ignored", delivery, namespace, name)
            return 200, {"message": "delivery already received", "source": f"{namespace}/{name}"}
        if kustomization is not None and _pending(kustomization):
            log.info("webhook (%s) for %s/%s: a reconcile is already pending", provider, namespace, name)
            return 202, {"message": "reconcile already pending", "source": f"{namespace}/{name}"}
        if kustomization is not None:
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            annotations = {names.ANNOTATION_REQUESTED_AT: now}
            if delivery:
                annotations[DELIVERY_ANNOTATION] = delivery
            try:
                json_request(self._api, "PATCH", path, {"metadata": {"annotations": annotations}},
                             content_type="application/merge-patch+json")
            except Exception as exc:  # noqa: BLE001 - the local trigger still runs
                log.warning("could not annotate %s/%s: %s", namespace, name, type(exc).__name__)
        log.info("webhook (%s) accepted for %s/%s", provider, namespace, name)
        if self._trigger is not None:
            self._trigger(namespace, name)
        return 202, {"message": "reconcile requested", "source": f"{namespace}/{name}"}

    def _recorded(self, kustomization: dict[str, Any], delivery: str) -> bool:
        """Whether another receiver already requested a reconcile for this delivery within the replay window."""
        annotations = (kustomization.get("metadata") or {}).get("annotations") or {}
        if annotations.get(DELIVERY_ANNOTATION) != delivery:
            return False
        try:
            at = datetime.strptime(annotations.get(names.ANNOTATION_REQUESTED_AT, ""), "%Y-%m-%dT%H:%M:%S.%fZ")
        except ValueError:
            return False
        age = (datetime.now(UTC) - at.replace(tzinfo=UTC)).total_seconds()
        return age < self._deliveries.window

    def _handler_class(self, deadline: float) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            """One webhook HTTP request (one per connection)."""

            server_version = "gitops-tui-webhook"
            timeout = deadline

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                """A delivery: its length checked before a byte of the body is read."""
                try:
                    length = body_length(self.headers)
                except BodyRefused as exc:
                    self.close_connection = True
                    self._answer(exc.status, {"message": exc.message})
                    return
                body = self.rfile.read(length) if length else b""
                if len(body) < length:
                    self.close_connection = True
                    return  # the client hung up or ran out of time: nobody to answer
                self.server.finished_reading(self.connection)  # type: ignore[attr-defined]
                status, answer = receiver.handle(self.path, self.headers, body)
                self._answer(status, answer)

            def do_GET(self) -> None:  # noqa: N802
                """Health checks; anything else is 405."""
                self.server.finished_reading(self.connection)  # type: ignore[attr-defined]
                if self.path.rstrip("/") in ("/healthz", "/readyz"):
                    self._answer(200, {"message": "ok"})
                else:
                    self._answer(405, {"message": "use POST /hook/<namespace>/<source>"})

            def _answer(self, status: int, answer: dict[str, Any]) -> None:
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    if self.close_connection:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Access logs at debug level."""
                log.debug("webhook: " + format, *args)

        return Handler


def _pending(kustomization: dict[str, Any]) -> bool:
    """Whether a requested reconcile has not been handled yet (requestedAt differs from lastHandledReconcileAt)."""
    requested = ((kustomization.get("metadata") or {}).get("annotations") or {}).get(names.ANNOTATION_REQUESTED_AT)
    handled = (kustomization.get("status") or {}).get("lastHandledReconcileAt")
    return bool(requested) and requested != handled
