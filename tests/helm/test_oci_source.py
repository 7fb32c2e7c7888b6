"""An OCIRepository's fields as Flux reads them: refused ones named, the tag a range picks, registry credentials."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from gitops_tui.helm import oci_source
from gitops_tui.helm.errors import HelmReleaseFailed


def repo(**spec: Any) -> dict[str, Any]:
    return {"kind": "OCIRepository", "metadata": {"name": "podinfo"},
            "spec": {"url": "oci://ghcr.io/stefanprodan/charts/podinfo", "interval": "5m", **spec}}


@pytest.mark.parametrize(("spec", "words"), [
    ({"verify": {"provider": "cosign"}}, "spec.verify (cosign/notation signatures) is not supported"),
    ({"provider": "aws"}, "spec.provider aws is not supported; only generic"),
    ({"certSecretRef": {"name": "tls"}}, "spec.certSecretRef is not supported"),
    ({"proxySecretRef": {"name": "p"}}, "spec.proxySecretRef is not supported"),
    ({"serviceAccountName": "puller"}, "spec.serviceAccountName is not supported"),
    ({"layerSelector": {"operation": "unpack"}}, 'spec.layerSelector.operation: Unsupported value: "unpack"'),
    ({"ref": {"digest": "sha256:1234"}}, "spec.ref.digest 'sha256:1234' is not sha256:<64 hex digits>"),
    ({"url": "oci://ghcr.io/x/podinfo:6.5.0"}, "names a tag or digest; give it in spec.ref"),
    ({"url": "https://ghcr.io/x/podinfo"}, "is not an OCI repository URL"),
])
def test_fields_refused_by_name(spec: dict[str, Any], words: str) -> None:
    with pytest.raises(HelmReleaseFailed) as refused:
        oci_source.from_oci_repository(repo(**spec))
    assert words in refused.value.message


def test_ref_precedence_and_semver_filter() -> None:
    source = oci_source.from_oci_repository(repo(ref={"tag": "6.5.0", "semver": ">=6.0.0-0", "semverFilter": "-rc"}))
    assert source.ref_text.startswith("semver")
    assert oci_source.choose_tag(source, ["6.5.0", "6.6.0-rc.1", "7.0.0-rc.2", "latest"]) == "7.0.0-rc.2"
    plain = oci_source.from_oci_repository(repo(ref={"semver": "6.x"}))
    assert oci_source.choose_tag(plain, ["6.5.0", "6.6.0-rc.1", "7.0.0"]) == "6.5.0"
    with pytest.raises(HelmReleaseFailed, match="no tag of .* matches semver '8.x'"):
        oci_source.choose_tag(oci_source.from_oci_repository(repo(ref={"semver": "8.x"})), ["6.5.0"])


def test_docker_registry_secret_gives_the_registry_hosts_entry() -> None:
    source = oci_source.from_oci_repository(repo(url="oci://registry.corp:5000/charts/web", secretRef={"name": "r"}))
    config = {"auths": {"other.io": {"auth": base64.b64encode(b"x:y").decode()},
                        "https://registry.corp:5000": {"auth": base64.b64encode(b"bot:pa:ss").decode()}}}
    assert oci_source.credentials(source, {".dockerconfigjson": json.dumps(config).encode()}) == ("bot", "pa:ss")
    assert oci_source.credentials(source, {"username": b"u", "password": b"p"}) == ("u", "p")
    with pytest.raises(HelmReleaseFailed, match="holds no credentials for registry.corp:5000"):
        oci_source.credentials(source, {".dockerconfigjson": b'{"auths": {"other.io": {}}}'})
