"""Charts from a real OCI registry (Debian's docker-registry) through reconcile_source on dev, staging and prod.

Charts are pushed with Helm's own client (``helm push``); the reconciler pulls them with Helm's registry client:
an OCIRepository behind a HelmRelease ``chartRef`` by tag, semver (with semverFilter) and digest, with a
layerSelector, and a HelmRelease ``chart.spec`` from an OCI HelmRepository. Nothing is mocked.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from gitops_tui.helm import oci, oci_source
from gitops_tui.helm.errors import HelmReleaseFailed
from gitops_tui.kube.client import json_request
from gitops_tui.kube.outbound import FetchPolicy
from tests.gitserver import commit
from tests.helm.charts import write_chart
from tests.helm.test_helm_reconcile import conditions, decode, helm_list, live_release, storage_secrets
from tests.registry import Registry
from tests.world import CLUSTERS, World, assert_propagated

CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A docker-registry on a free loopback port, its own config and storage; stopped at the end."""
    started = Registry.start(tmp_path_factory.mktemp("registry"))
    try:
        yield started
    finally:
        started.stop()


def package(work: Path, name: str, version: str) -> Path:
    """A chart archive made by real Helm (``helm package``)."""
    source = write_chart(work / f"src-{name}-{version}", name=name, version=version, app_version=f"app-{version}")
    return Path(helm.package(source, destination=work))


def oci_repository(name: str, url: str, ref: dict[str, str], **spec: Any) -> str:
    """An OCIRepository manifest (no namespace: tenancy sets the project's)."""
    body = {"interval": "1m", "url": url, "insecure": True, "ref": ref, **spec}
    return yaml.safe_dump({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "OCIRepository",
                           "metadata": {"name": name}, "spec": body}, sort_keys=False)


def chart_ref_release(name: str, repository: str, values: dict[str, Any] | None = None) -> str:
    """A HelmRelease whose chart is an OCIRepository (``spec.chartRef``)."""
    return yaml.safe_dump({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                           "metadata": {"name": name},
                           "spec": {"interval": "5m", "chartRef": {"kind": "OCIRepository", "name": repository},
                                    "values": values or {}}}, sort_keys=False)


def allow(world: World, registry: Registry) -> None:
    """The operator's allow-list names the loopback registry over plain http (`run --allow-fetch`)."""
    world.ctx.fetch_policy = FetchPolicy([f"http://{registry.host}/*"])


def test_chart_ref_by_tag_semver_and_digest_on_three_clusters(world: World, registry: Registry) -> None:
    allow(world, registry)
    first = registry.push(package(world.tmp, "podinfo", "6.5.0"))
    registry.push(package(world.tmp, "podinfo", "6.5.1"))
    registry.push(package(world.tmp, "podinfo", "7.0.0-rc.1"))
    url = f"{registry.url}/podinfo"
    layer = {"mediaType": CHART_LAYER, "operation": "copy"}
    repo = world.repo("apps", {
        "deploy/source.yaml": oci_repository("podinfo", url, {"tag": "6.5.0"}, layerSelector=layer),
        "deploy/release.yaml": chart_ref_release("podinfo", "podinfo", {"greeting": "oci"}),
    })
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")
    for cluster in CLUSTERS:
        assert helm_list(world, cluster) == [("podinfo", 1, "deployed", "6.5.0")]
        assert world.get(cluster, "configmaps", "podinfo-greeting")["data"] == {"greeting": "oci"}
        stored = decode(storage_secrets(world, cluster, "podinfo")[0])
        assert stored["chart"]["metadata"]["appVersion"] == "app-6.5.0"
        applied = json_request(world.client(cluster), "GET", f"/apis/source.toolkit.fluxcd.io/v1/namespaces/"
                                                             f"{world.namespace}/ocirepositories/podinfo")
        assert applied["spec"]["url"] == url, "the OCIRepository is applied like a HelmRepository"

    # A semver range picks the highest release (the prerelease only when the range names one).
    commit(repo, {"deploy/source.yaml": oci_repository("podinfo", url, {"semver": ">=6.0.0"}, layerSelector=layer)})
    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert helm_list(world, cluster) == [("podinfo", 2, "deployed", "6.5.1")]
        assert conditions(live_release(world, cluster, "podinfo"))["Released"]["reason"] == "UpgradeSucceeded"

    # semverFilter narrows the tags before the range: only the release candidates.
    commit(repo, {"deploy/source.yaml": oci_repository("podinfo", url, {"semver": ">=6.0.0-0",
                                                                        "semverFilter": ".*-rc.*"})})
    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert helm_list(world, cluster)[0][1:] == (3, "deployed", "7.0.0-rc.1")

    # A digest wins over the tag, as in Flux, and names the exact manifest pushed first.
    commit(repo, {"deploy/source.yaml": oci_repository("podinfo", url, {"tag": "6.5.1", "digest": first},
                                                        layerSelector={"mediaType": CHART_LAYER})})
    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert helm_list(world, cluster)[0][1:] == (4, "deployed", "6.5.0")
        assert conditions(live_release(world, cluster, "podinfo"))["Ready"]["status"] == "True"


def test_chart_from_an_oci_helm_repository(world: World, registry: Registry) -> None:
    allow(world, registry)
    registry.push(package(world.tmp, "cache", "1.2.0"))
    registry.push(package(world.tmp, "cache", "1.3.0"))
    repository = yaml.safe_dump({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
                                 "metadata": {"name": "charts"},
                                 "spec": {"type": "oci", "url": registry.url, "insecure": True}})
    release = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "cache"},
               "spec": {"interval": "1m", "values": {"greeting": "from-oci-repo"},
                        "chart": {"spec": {"chart": "cache", "version": "1.2.0",
                                           "sourceRef": {"kind": "HelmRepository", "name": "charts"}}}}}
    repo = world.repo("apps", {"deploy/repo.yaml": repository, "deploy/cache.yaml": yaml.safe_dump(release)})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")
    for cluster in CLUSTERS:
        assert helm_list(world, cluster) == [("cache", 1, "deployed", "1.2.0")]
        assert world.get(cluster, "configmaps", "cache-greeting")["data"] == {"greeting": "from-oci-repo"}

    release["spec"]["chart"]["spec"]["version"] = "1.x"
    commit(repo, {"deploy/cache.yaml": yaml.safe_dump(release)})
    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert helm_list(world, cluster) == [("cache", 2, "deployed", "1.3.0")]


def test_registry_credentials_from_a_docker_registry_secret(world: World, tmp_path: Path) -> None:
    password = "s3cret-registry-pass"
    private = Registry.start(tmp_path / "private", users={"puller": password})
    try:
        allow(world, private)
        private.push(package(world.tmp, "vault", "0.3.0"))
        config = {"auths": {private.host: {"username": "puller", "password": password}}}
        secret = yaml.safe_dump({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "regcred"},
                                 "type": "kubernetes.io/dockerconfigjson",
                                 "stringData": {".dockerconfigjson": json.dumps(config)}})
        url = f"{private.url}/vault"
        without = oci_repository("vault", url, {"tag": "0.3.0"})
        repo = world.repo("apps", {"deploy/source.yaml": without, "deploy/release.yaml": chart_ref_release("vault", "vault")})
        world.create("apps", f"file://{repo}", path="./deploy")
        world.reconcile("apps")
        ready = world.condition("apps", "Ready")
        assert ready["status"] == "False" and "HelmRelease/vault" in ready["message"], ready
        assert "basic credential not found" in ready["message"], ready  # Helm's own words
        assert all(helm_list(world, c) == [] for c in CLUSTERS), "nothing is installed without credentials"

        commit(repo, {"deploy/regcred.yaml": secret,
                      "deploy/source.yaml": oci_repository("vault", url, {"tag": "0.3.0"},
                                                           secretRef={"name": "regcred"})})
        world.reconcile("apps")
        assert_propagated(world, "apps", f"main@sha1:{world.head(repo)}")
        for cluster in CLUSTERS:
            assert helm_list(world, cluster) == [("vault", 1, "deployed", "0.3.0")]
        shown = json.dumps([world.status("apps"), world.events("apps")])
        assert password not in shown
    finally:
        private.stop()


def test_refusals_name_the_url_and_open_no_connection(world: World, registry: Registry) -> None:
    registry.push(package(world.tmp, "guarded", "1.0.0"))
    url = f"{registry.url}/guarded"
    repo = world.repo("apps", {"deploy/source.yaml": oci_repository("guarded", url, {"tag": "1.0.0"}),
                               "deploy/release.yaml": chart_ref_release("guarded", "guarded")})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.ctx.fetch_policy = FetchPolicy([])  # the default: public https only
    world.reconcile("apps")
    ready = world.condition("apps", "Ready")
    assert ready["reason"] == "URLNotAllowed", ready
    assert f"oci://{registry.host}/charts/guarded" in ready["message"] and "--allow-fetch" in ready["message"]

    # Plain http only to a loopback address written in the URL, whatever the allow-list says.
    commit(repo, {"deploy/source.yaml": oci_repository("guarded", f"oci://localhost.localdomain:{registry.port}"
                                                                   "/charts/guarded", {"tag": "1.0.0"})})
    world.ctx.fetch_policy = FetchPolicy([f"http://localhost.localdomain:{registry.port}/*"])
    world.reconcile("apps")
    ready = world.condition("apps", "Ready")
    assert ready["reason"] == "URLNotAllowed" and "loopback address written in the URL" in ready["message"], ready

    # An artifact that is not a Helm chart layer is refused by name.
    commit(repo, {"deploy/source.yaml": oci_repository(
        "guarded", url, {"tag": "1.0.0"}, layerSelector={"mediaType": "application/vnd.cncf.flux.content.v1.tar+gzip"})})
    allow(world, registry)
    world.reconcile("apps")
    ready = world.condition("apps", "Ready")
    assert "layerSelector.mediaType application/vnd.cncf.flux.content.v1.tar+gzip is not a Helm chart layer" in \
        ready["message"], ready
    assert all(helm_list(world, c) == [] for c in CLUSTERS)


def big_chart(work: Path, name: str, mebibytes: int) -> Path:
    """A chart archive of about ``mebibytes`` MiB (incompressible files, 3 MiB each), packaged by real Helm."""
    chart = write_chart(work / f"src-{name}", name=name, version="1.0.0")
    (chart / "files").mkdir()
    for index in range(mebibytes // 3):
        (chart / "files" / f"blob-{index}.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    return Path(helm.package(chart, destination=work))


def test_a_chart_larger_than_the_limit_is_refused(registry: Registry, tmp_path: Path) -> None:
    registry.push(big_chart(tmp_path, "big", 12))
    source = oci_source.from_oci_repository({"kind": "OCIRepository", "metadata": {"name": "big"}, "spec": {
        "url": f"{registry.url}/big", "insecure": True, "ref": {"tag": "1.0.0"}}})
    with pytest.raises(HelmReleaseFailed) as refused:
        oci.load_chart(source, tmp_path / "cache", FetchPolicy([f"http://{registry.host}/*"]))
    assert "MiB; at most 10 MiB is read" in refused.value.message, refused.value.message
    assert not list((tmp_path / "cache").rglob("*.tgz")), "nothing of it is kept"
