"""``GET /metrics``: kube-apiserver's request counters in Prometheus text format (apiserver_request_total and
apiserver_longrunning_requests), with the verbs kube-apiserver names (GET, LIST, WATCH, CREATE, UPDATE, PATCH,
APPLY, DELETE, DELETECOLLECTION)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

from gitops_tui.sandbox.serving.common import Response
from gitops_tui.sandbox.serving.errors import ApiError
from gitops_tui.sandbox.serving.routing import ResourceRoute, parse_path

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LABELS = ("component", "group", "resource", "scope", "subresource", "verb", "version")
_REQUEST_HELP = ("# HELP apiserver_request_total [STABLE] Counter of apiserver requests broken out for each verb, "
                 "group, version, resource, scope, component, and HTTP response code.\n"
                 "# TYPE apiserver_request_total counter\n")
_LONGRUNNING_HELP = ("# HELP apiserver_longrunning_requests [STABLE] Gauge of all active long-running apiserver "
                     "requests broken out by verb, group, version, resource, scope and component.\n"
                     "# TYPE apiserver_longrunning_requests gauge\n")


def request_labels(method: str, target: str, headers: Mapping[str, str]) -> tuple[str, ...]:
    """The label values (in _LABELS order) kube-apiserver gives one request."""
    parts = urlsplit(target)
    route = parse_path(parts.path)
    if not isinstance(route, ResourceRoute):
        return ("apiserver", "", "", "", "", method.upper(), "")
    query = parse_qs(parts.query)
    verb = _verb(method.upper(), route, query, headers.get("Content-Type") or "")
    scope = "resource" if route.name else "namespace" if route.namespace else "cluster"
    return ("apiserver", route.group, route.plural, scope, route.subresource, verb, route.version)


def _verb(method: str, route: ResourceRoute, query: dict[str, list[str]], content_type: str) -> str:
    watch = route.watch_path or (query.get("watch") or [""])[0].lower() in ("1", "true")
    if method == "GET":
        return "WATCH" if watch else "GET" if route.name else "LIST"
    if method == "POST":
        return "CREATE"
    if method == "PUT":
        return "UPDATE"
    if method == "PATCH":
        return "APPLY" if content_type.split(";")[0].strip() == "application/apply-patch+yaml" else "PATCH"
    if method == "DELETE":
        return "DELETE" if route.name else "DELETECOLLECTION"
    return method


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _series(name: str, labels: tuple[str, ...], extra: tuple[tuple[str, str], ...], value: int) -> str:
    pairs = sorted([*zip(_LABELS, labels, strict=False), *extra])
    text = ",".join(f'{key}="{_escape(val)}"' for key, val in pairs)
    return f"{name}{{{text}}} {value}\n"


class RequestMetrics:
    """Counts answered requests by labels and code, and tracks running watches."""

    def __init__(self) -> None:
        """Start from zero."""
        self._lock = threading.Lock()
        self._requests: Counter[tuple[tuple[str, ...], int]] = Counter()
        self._watches: Counter[tuple[str, ...]] = Counter()

    def observe(self, method: str, target: str, headers: Mapping[str, str], code: int) -> None:
        """Count one answered request (a watch is counted when its stream starts)."""
        labels = request_labels(method, target, headers)
        with self._lock:
            self._requests[(labels, code)] += 1

    def watch_started(self, method: str, target: str, headers: Mapping[str, str]) -> None:
        """One more running watch."""
        with self._lock:
            self._watches[request_labels(method, target, headers)] += 1

    def watch_ended(self, method: str, target: str, headers: Mapping[str, str]) -> None:
        """One watch less."""
        with self._lock:
            self._watches[request_labels(method, target, headers)] -= 1

    def render(self) -> str:
        """The Prometheus text exposition of both metrics."""
        with self._lock:
            requests = sorted(self._requests.items())
            watches = sorted(self._watches.items())
        lines = [_REQUEST_HELP]
        lines += [_series("apiserver_request_total", labels, (("code", str(code)),), count)
                  for (labels, code), count in requests]
        lines.append(_LONGRUNNING_HELP)
        lines += [_series("apiserver_longrunning_requests", labels, (), count) for labels, count in watches]
        return "".join(lines)

    def response(self, method: str) -> Response:
        """The answer to a request for /metrics (GET only)."""
        if method != "GET":
            raise ApiError(405, f"{method} is not supported on /metrics", "MethodNotAllowed")
        return Response(200, self.render().encode(), CONTENT_TYPE)

