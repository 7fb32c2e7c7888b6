"""ClusterServer: one sandbox cluster's Kubernetes API served over loopback TLS from its SQLite store."""

from __future__ import annotations

import logging
import ssl
import threading
from pathlib import Path
from typing import Any

from gitops_tui.sandbox.rest.api import Api
from gitops_tui.sandbox.rest.rbac_escalation import EscalationGuard
from gitops_tui.sandbox.rest.reviews import Reviews
from gitops_tui.sandbox.schema.catalog import Catalog
from gitops_tui.sandbox.serving.authz import AccessGate
from gitops_tui.sandbox.serving.common import MAX_BODY
from gitops_tui.sandbox.serving.metrics import RequestMetrics
from gitops_tui.sandbox.serving.sa_tokens import Signer
from gitops_tui.sandbox.serving.tls import TlsFiles
from gitops_tui.sandbox.serving.transport import HttpServer
from gitops_tui.sandbox.storage.store import Store

log = logging.getLogger(__name__)


class ClusterServer:
    """The HTTPS server of one sandbox cluster on 127.0.0.1, requiring its bearer token."""

    def __init__(
        self,
        name: str,
        db_path: Path,
        token: str,
        tls: TlsFiles,
        port: int = 0,
        *,
        keep_revisions: int = 1000,
        bookmark_interval: float = 5.0,
        max_body: int = MAX_BODY,
        limits: dict[str, Any] | None = None,
    ) -> None:
        """Serve cluster ``name`` from ``db_path``; ``limits`` overrides connection limits (see serving/connections.py)."""
        self.name = name
        self.limits = dict(limits or {})
        self.metrics = RequestMetrics()
        self.db_path = Path(db_path)
        self.token = token
        self.tls = tls
        self.max_body = max_body
        self.keep_revisions = keep_revisions
        self.bookmark_interval = bookmark_interval
        self._requested_port = port
        self._port: int | None = None
        self._lock = threading.Lock()
        self._httpd: HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.store: Store | None = None
        self.catalog: Catalog | None = None
        self.api: Api | None = None
        #: Authentication and RBAC of every request (serving.authz); its signer makes ServiceAccount tokens.
        self.auth: AccessGate | None = None
        #: The ServiceAccount token signing key of this cluster, kept beside its store.
        self.signing_key = self.db_path.with_name(f"{self.db_path.stem}-sa.key")

    def __repr__(self) -> str:
        return f"ClusterServer(name={self.name!r}, port={self._port!r})"

    @property
    def port(self) -> int:
        """The port the server listens on (after start())."""
        if self._port is None:
            raise RuntimeError("the server has not been started")
        return self._port

    @property
    def url(self) -> str:
        """The server's URL, https://127.0.0.1:<port>."""
        return f"https://127.0.0.1:{self.port}"

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(self.tls.server_cert), str(self.tls.server_key))
        return context

    def start(self) -> None:
        """Open the store and serve on 127.0.0.1 in background threads."""
        with self._lock:
            if self._httpd is not None:
                return
            self._stopping.clear()
            store = Store(self.db_path, keep_revisions=self.keep_revisions)
            try:
                catalog = Catalog()
                api = Api(store, catalog, bookmark_interval=self.bookmark_interval, stopping=self._stopping)
                api.startup()
                auth = AccessGate(store, self.token, Signer.load_or_create(self.signing_key))
                auth.bootstrap()
                api.reviews = Reviews(auth)
                api.escalation = EscalationGuard(auth.rbac)
                httpd = HttpServer(("127.0.0.1", self._requested_port), self._ssl_context(), self, **self.limits)
            except BaseException:
                store.close()
                raise
            self.store, self.catalog, self.api, self.auth, self._httpd = store, catalog, api, auth, httpd
            self._port = httpd.server_address[1]
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.2},
                name=f"sandbox-{self.name}",
                daemon=True,
            )
            self._thread.start()
            log.info("sandbox cluster %s serving on %s", self.name, self.url)

    def stop(self) -> None:
        """Stop serving: end watches, close connections and the store. Idempotent."""
        with self._lock:
            httpd, self._httpd = self._httpd, None
            if httpd is None:
                return
            self._stopping.set()
            httpd.shutdown()
            httpd.close_connections()
            httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            if self.store is not None:
                self.store.close()
            log.info("sandbox cluster %s stopped", self.name)

    def __enter__(self) -> ClusterServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
