"""Helm's storage format round-trips, and the cross-cluster view groups releases by version."""

from __future__ import annotations

import base64
import gzip
import json

from gitops_tui.helm.listing import history, records_from_secrets, release_rows
from gitops_tui.helm.storage import decode_release, encode_release, secret_name, storage_secret


def _release(name: str, version: int, chart_version: str, status: str = "deployed") -> dict:
    return {
        "name": name,
        "namespace": "team-a",
        "version": version,
        "info": {"status": status, "last_deployed": f"2026-01-0{version}T00:00:00Z", "description": "x"},
        "chart": {"metadata": {"name": "web", "version": chart_version, "appVersion": "1.0"}},
        "config": {"greeting": "hi"},
    }


def test_encoding_is_helms_gzip_base64_json() -> None:
    release = _release("shop", 1, "0.1.0")
    encoded = encode_release(release)
    assert json.loads(gzip.decompress(base64.b64decode(encoded))) == release
    assert decode_release(encoded) == release
    plain = base64.b64encode(json.dumps(release).encode()).decode()
    assert decode_release(plain) == release, "Helm also reads records stored without gzip"


def test_storage_secret_shape() -> None:
    secret = storage_secret(_release("shop", 2, "0.1.0"), modified_at=1700000000)
    assert secret["metadata"]["name"] == secret_name("shop", 2) == "sh.helm.release.v1.shop.v2"
    assert secret["type"] == "helm.sh/release.v1"
    assert secret["metadata"]["labels"] == {
        "name": "shop", "owner": "helm", "status": "deployed", "version": "2", "modifiedAt": "1700000000"
    }
    inner = base64.b64decode(secret["data"]["release"]).decode()
    assert decode_release(inner)["version"] == 2


def test_rows_group_clusters_and_show_version_differences() -> None:
    secrets = {
        "dev": [storage_secret(_release("shop", 1, "0.1.0", "superseded"), 1), storage_secret(_release("shop", 2, "0.2.0"), 2)],
        "staging": [storage_secret(_release("shop", 1, "0.1.0"), 1)],
        "prod": [storage_secret(_release("shop", 1, "0.1.0"), 1)],
    }
    records = {cluster: records_from_secrets(cluster, items) for cluster, items in secrets.items()}
    rows = release_rows(records)
    assert [(r.chart_version, r.clusters, r.versions_differ) for r in rows] == [
        ("0.1.0", ("prod", "staging"), True),
        ("0.2.0", ("dev",), True),
    ]
    same = release_rows({"staging": records["staging"], "prod": records["prod"]})
    assert len(same) == 1 and same[0].clusters == ("prod", "staging") and not same[0].versions_differ
    assert [r.revision for r in history(records["dev"], "dev", "team-a", "shop")] == [2, 1]


def test_undecodable_record_is_skipped() -> None:
    broken = storage_secret(_release("shop", 1, "0.1.0"), 1)
    broken["data"]["release"] = base64.b64encode(b"not base64 !!").decode()
    assert records_from_secrets("dev", [broken]) == []
