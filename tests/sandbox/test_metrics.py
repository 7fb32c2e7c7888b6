"""The sandbox's /metrics: kube-apiserver's apiserver_request_total and apiserver_longrunning_requests (issue 12 item 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gitops_tui.sandbox.serving.server import ClusterServer
from tests.metrics import RequestCounter, parse, scrape, total
from tests.sandbox.conftest import raw_request
from tests.sandbox.test_hostile_requests import tls_connect
from tests.waiting import wait_until

CMS = "/api/v1/namespaces/default/configmaps"
JSON = {"Content-Type": "application/json"}


def client(kubeconfig: Path) -> Any:
    """An official-client ApiClient for the test sandbox."""
    from kubernetes import config

    return config.new_client_from_config(config_file=str(kubeconfig), context="sandbox", persist_config=False)


def test_requests_are_counted_by_kube_apiserver_verb_resource_and_code(
        sandbox_server: ClusterServer, sandbox_kubeconfig: Path, sandbox_http: Any, kubectl: Any) -> None:
    api = client(sandbox_kubeconfig)
    counter = RequestCounter(api)
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "metered"}})
    assert sandbox_http("POST", CMS, body, headers=JSON).status == 201
    assert sandbox_http("POST", CMS, body, headers=JSON).status == 409
    for _ in range(3):
        sandbox_http("GET", CMS)
    sandbox_http("GET", CMS + "/metered")
    sandbox_http("PUT", CMS + "/metered", sandbox_http("GET", CMS + "/metered").body, headers=JSON)
    sandbox_http("PATCH", CMS + "/metered", '{"data":{"a":"b"}}',
                 headers={"Content-Type": "application/merge-patch+json"})
    sandbox_http("PATCH", CMS + "/applied?fieldManager=t", body.replace("metered", "applied"),
                 headers={"Content-Type": "application/apply-patch+yaml"})
    sandbox_http("DELETE", CMS + "/metered")
    sandbox_http("DELETE", CMS)
    kubectl("get", "configmaps", "-n", "default")
    assert counter.count(verb="CREATE", resource="configmaps", code="201") == 1
    assert counter.count(verb="CREATE", resource="configmaps", code="409") == 1
    assert counter.count(verb="LIST", resource="configmaps") == 4  # three raw, one kubectl
    assert counter.count(verb="GET", resource="configmaps", code="200") == 2
    assert counter.count(verb="UPDATE", resource="configmaps") == 1
    assert counter.count(verb="PATCH", resource="configmaps") == 1
    assert counter.count(verb="APPLY", resource="configmaps") == 1
    assert counter.count(verb="DELETE", resource="configmaps") == 1
    assert counter.count(verb="DELETECOLLECTION", resource="configmaps") == 1
    assert counter.count(verb="GET", resource="") >= 1, "discovery and /version are non-resource GETs"
    series = parse(scrape(api))
    assert any(name == "apiserver_request_total" and labels.get("scope") == "namespace" and labels["group"] == ""
               and labels["version"] == "v1" for name, labels, _ in series)


def test_watches_are_long_running_requests(sandbox_server: ClusterServer, sandbox_kubeconfig: Path) -> None:
    api = client(sandbox_kubeconfig)
    counter = RequestCounter(api)
    sock = tls_connect(sandbox_server)
    try:
        sock.sendall(f"GET {CMS}?watch=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {sandbox_server.token}\r\n\r\n"
                     .encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert total(scrape(api), "apiserver_longrunning_requests", verb="WATCH", resource="configmaps") == 1
        assert counter.count(verb="WATCH", resource="configmaps") == 1
    finally:
        sock.close()
    wait_until(lambda: total(scrape(api), "apiserver_longrunning_requests", verb="WATCH", resource="configmaps") == 0,
               timeout=10, message="the watch to end when its client left")


def test_metrics_need_the_token_and_speak_prometheus_text(sandbox_server: ClusterServer, kubectl: Any) -> None:
    anonymous = raw_request(sandbox_server, "GET", "/metrics", token=None)
    assert anonymous.status == 401 and anonymous.json()["kind"] == "Status"
    answer = raw_request(sandbox_server, "GET", "/metrics")
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = kubectl("get", "--raw", "/metrics").stdout
    assert "# TYPE apiserver_request_total counter" in text
    assert "# TYPE apiserver_longrunning_requests gauge" in text
    assert raw_request(sandbox_server, "POST", "/metrics", "{}").status == 405
