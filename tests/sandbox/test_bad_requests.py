"""Bad requests get a Status body with reason and code and a clean answer: never a traceback or a hang."""

from __future__ import annotations

import json
import socket
import ssl

import pytest

from gitops_tui.sandbox.schema import discovery
from gitops_tui.sandbox.serving.common import MAX_BODY

CMS = "/api/v1/namespaces/default/configmaps"
JSON = {"Content-Type": "application/json"}


def _status(answer, code: int, reason: str) -> dict:
    assert answer.status == code, answer.body
    assert answer.headers.get("Content-Type", "").startswith("application/json")
    assert b"Traceback" not in answer.body
    body = answer.json()
    assert body["kind"] == "Status" and body["apiVersion"] == "v1"
    assert body["status"] == "Failure" and body["code"] == code and body["reason"] == reason
    assert body["message"]
    return body


def test_no_token_is_401(sandbox_http) -> None:
    _status(sandbox_http("GET", CMS, token=None), 401, "Unauthorized")
    _status(sandbox_http("GET", "/version", token=None), 401, "Unauthorized")


def test_wrong_token_is_401(sandbox_http) -> None:
    _status(sandbox_http("POST", CMS, '{"metadata":{"name":"x"}}', headers=JSON, token="not-the-token"),
            401, "Unauthorized")


def test_malformed_json_is_400(sandbox_http) -> None:
    _status(sandbox_http("POST", CMS, '{"metadata": {"name": ', headers=JSON), 400, "BadRequest")


def test_malformed_yaml_is_400(sandbox_http) -> None:
    answer = sandbox_http("POST", CMS, "metadata: [unclosed\n  name: x",
                          headers={"Content-Type": "application/yaml"})
    _status(answer, 400, "BadRequest")


def test_non_object_body_is_400(sandbox_http) -> None:
    _status(sandbox_http("POST", CMS, "[1, 2]", headers=JSON), 400, "BadRequest")


def test_unknown_resource_is_404(sandbox_http) -> None:
    _status(sandbox_http("GET", "/api/v1/namespaces/default/widgets"), 404, "NotFound")
    _status(sandbox_http("GET", "/apis/nothing.example.com/v1/things"), 404, "NotFound")
    _status(sandbox_http("GET", "/not/an/api/path"), 404, "NotFound")


def test_missing_object_is_404_with_details(sandbox_http) -> None:
    body = _status(sandbox_http("GET", CMS + "/nope"), 404, "NotFound")
    assert body["details"] == {"name": "nope", "kind": "configmaps"}
    assert body["message"] == 'configmaps "nope" not found'


def test_invalid_name_is_422(sandbox_http) -> None:
    answer = sandbox_http("POST", CMS, json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                                   "metadata": {"name": "Bad_Name"}}), headers=JSON)
    body = _status(answer, 422, "Invalid")
    assert any(c.get("field") == "metadata.name" for c in body["details"]["causes"])


def test_body_over_the_limit_is_413(sandbox_http) -> None:
    huge = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
                       "data": {"blob": "x" * (MAX_BODY + 10)}})
    _status(sandbox_http("POST", CMS, huge, headers=JSON), 413, "RequestEntityTooLarge")
    assert sandbox_http("GET", CMS + "/big").status == 404


def test_unsupported_patch_type_is_415(sandbox_http) -> None:
    sandbox_http("POST", CMS, json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}}),
                 headers=JSON)
    _status(sandbox_http("PATCH", CMS + "/p", "data: {}", headers={"Content-Type": "text/plain"}),
            415, "UnsupportedMediaType")


def test_stale_resource_version_is_409(sandbox_http) -> None:
    created = sandbox_http("POST", CMS, json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                                    "metadata": {"name": "rv"}}), headers=JSON).json()
    created["data"] = {"a": "1"}
    assert sandbox_http("PUT", CMS + "/rv", json.dumps(created), headers=JSON).status == 200
    _status(sandbox_http("PUT", CMS + "/rv", json.dumps(created), headers=JSON), 409, "Conflict")


def test_duplicate_create_is_409_already_exists(sandbox_http) -> None:
    body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup"}})
    assert sandbox_http("POST", CMS, body, headers=JSON).status == 201
    _status(sandbox_http("POST", CMS, body, headers=JSON), 409, "AlreadyExists")


def test_mismatched_kind_and_name_are_400(sandbox_http) -> None:
    wrong_kind = json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "k"}})
    _status(sandbox_http("POST", CMS, wrong_kind, headers=JSON), 400, "BadRequest")
    wrong_name = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}})
    _status(sandbox_http("PUT", CMS + "/this", wrong_name, headers=JSON), 400, "BadRequest")


def test_bad_selector_and_resource_version_are_400(sandbox_http) -> None:
    _status(sandbox_http("GET", CMS + "?labelSelector=a%20in%20b"), 400, "BadRequest")
    _status(sandbox_http("GET", CMS + "?watch=1&resourceVersion=abc"), 400, "BadRequest")


def test_garbage_http_gets_a_status_and_the_connection_closes(sandbox_server) -> None:
    context = ssl.create_default_context(cafile=str(sandbox_server.tls.ca_cert))
    with socket.create_connection(("127.0.0.1", sandbox_server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"THIS IS NOT HTTP\r\n\r\n")
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 400")
    assert b'"kind":"Status"' in answer


def test_plain_http_on_the_tls_port_is_refused_promptly(sandbox_server) -> None:
    with socket.create_connection(("127.0.0.1", sandbox_server.port), timeout=10) as raw:
        raw.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = raw.recv(65536)
        except ConnectionResetError:
            data = b""
    assert not data.startswith(b"HTTP/1.1 200")


def test_listens_on_loopback_only(sandbox_server) -> None:
    assert sandbox_server.url.startswith("https://127.0.0.1:")
    assert sandbox_server._httpd.server_address[0] == "127.0.0.1"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
def test_empty_body_is_400(sandbox_http, method: str) -> None:
    path = CMS if method == "POST" else CMS + "/p"
    headers = {"Content-Type": "application/merge-patch+json" if method == "PATCH" else "application/json"}
    _status(sandbox_http(method, path, b"", headers=headers), 400, "BadRequest")


def test_kubeconfig_and_key_are_private_and_tls_is_reused(sandbox_server, sandbox_kubeconfig) -> None:
    import stat

    from gitops_tui.sandbox.serving.tls import ensure_tls

    assert stat.S_IMODE(sandbox_kubeconfig.stat().st_mode) == 0o600
    assert stat.S_IMODE(sandbox_server.tls.server_key.stat().st_mode) == 0o600
    before = sandbox_server.tls.ca_cert.read_bytes()
    again = ensure_tls(sandbox_server.tls.ca_cert.parent)
    assert again == sandbox_server.tls and again.ca_cert.read_bytes() == before


def test_certificate_is_only_trusted_through_the_sandbox_ca(sandbox_server) -> None:
    untrusting = ssl.create_default_context()
    with socket.create_connection(("127.0.0.1", sandbox_server.port), timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            untrusting.wrap_socket(raw, server_hostname="localhost")
    trusting = ssl.create_default_context(cafile=str(sandbox_server.tls.ca_cert))
    for hostname in ("localhost", "127.0.0.1"):
        with socket.create_connection(("127.0.0.1", sandbox_server.port), timeout=10) as raw:
            with trusting.wrap_socket(raw, server_hostname=hostname) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_unacceptable_media_type_is_406(sandbox_http) -> None:
    _status(sandbox_http("GET", CMS, headers={"Accept": "text/html"}), 406, "NotAcceptable")
    assert sandbox_http("GET", CMS, headers={"Accept": "text/html, */*;q=0.1"}).status == 200


def test_unexpected_failure_is_a_500_status_without_traceback(sandbox_server, sandbox_http, monkeypatch) -> None:
    def explode(catalog: object, path: str) -> dict:
        raise RuntimeError("boom in discovery")

    monkeypatch.setattr(discovery, "discovery", explode)
    body = _status(sandbox_http("GET", "/apis"), 500, "InternalError")
    assert "boom" not in body["message"]
    monkeypatch.undo()
    assert sandbox_http("GET", "/apis").status == 200, "the server keeps serving"


def test_scope_must_match_the_path(sandbox_http) -> None:
    _status(sandbox_http("GET", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/clusterroles"),
            404, "NotFound")
    _status(sandbox_http("GET", "/api/v1/configmaps/some-name"), 404, "NotFound")
    everywhere = sandbox_http("GET", "/api/v1/configmaps")
    assert everywhere.status == 200 and everywhere.json()["kind"] == "ConfigMapList"
    cluster = sandbox_http("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles")
    assert cluster.status == 200 and cluster.json()["kind"] == "ClusterRoleList"


def test_unsupported_method_is_a_status(sandbox_http) -> None:
    _status(sandbox_http("POST", CMS + "/some-name", "{}", headers=JSON), 405, "MethodNotAllowed")
    answer = sandbox_http("OPTIONS", CMS)
    assert answer.status == 501 and answer.json()["kind"] == "Status"
