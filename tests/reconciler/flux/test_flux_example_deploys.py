"""Flux's own example repository deploys end to end (issue 20 item 6): fluxcd/flux2-kustomize-helm-example at
4f1a5b1, bootstrapped for clusters/staging with the ``gotk-sync.yaml`` that ``flux bootstrap`` writes, and changed in
nothing but its HelmRepository and OCIRepository URLs.

Stand-in charts named cert-manager, gateway-helm and podinfo (tests/fixtures/flux-example-charts) are served from a
real docker-registry over TLS (OCI) and a Helm repository over loopback HTTP; a platform project with the operator's
allow-list for both follows infra-controllers -> infra-configs -> apps to Ready on dev, staging and prod, in
dependency order. Each cluster's objects are compared one by one with what Flux would apply: real `kubectl
kustomize` of the example's folders plus the Kustomization's own rules (its JSON 6902 patch), and Helm's own render
(``helm template``: helm_python) of each chart with the HelmRelease's values, plus the chart's CRDs.
"""

from __future__ import annotations

import difflib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops_tui.api import names, paths
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.flux.children import LABEL_PARENT
from tests.flux_example import bootstrapped, example_files
from tests.flux_example_charts import ChartServers, serve_charts, with_chart_urls
from tests.waiting import wait_until
from tests.world import CLUSTERS, World

#: The example's Kustomizations under clusters/staging, in dependency order (dependsOn).
ORDER = ["infra-controllers", "infra-configs", "apps"]
#: Each Kustomization's folder in the repository (its ExternalArtifact's path, as the ArtifactGenerator copies it).
FOLDERS = {"infra-controllers": "infrastructure/controllers", "infra-configs": "infrastructure/configs",
           "apps": "apps/staging"}
#: The chart behind each HelmRelease (chartRef OCIRepository or chart.spec.chart).
CHART_OF = {"cert-manager": "cert-manager", "envoy-gateway": "gateway-helm", "podinfo": "podinfo"}


@pytest.fixture
def charts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChartServers]:
    """The stand-in charts served on loopback (TLS registry and Helm repository), stopped at the end."""
    with serve_charts(tmp_path / "charts", monkeypatch) as servers:
        yield servers


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """Real `kubectl kustomize` of a folder of the example."""
    out = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def flux_applies(root: Path, child: str) -> list[dict[str, Any]]:
    """What Flux's kustomize-controller applies for ``child``: the build of its folder plus the Kustomization's
    own rules. The example sets no targetNamespace, commonMetadata or postBuild; infra-configs has one JSON 6902
    patch (read from clusters/staging/infrastructure.yaml, not restated here)."""
    objects = kustomize(root / FOLDERS[child])
    declared = {d["metadata"]["name"]: d for d in yaml.safe_load_all((root / "clusters/staging/infrastructure.yaml")
                                                                     .read_text()) if d}
    for patch in (declared.get(child) or {}).get("spec", {}).get("patches") or []:
        ops, target = yaml.safe_load(patch["patch"]), patch["target"]
        for obj in objects:
            if obj["kind"] == target["kind"] and obj["metadata"]["name"] == target["name"]:
                for op in ops:
                    assert op["op"] == "replace", op
                    *parents, leaf = op["path"].strip("/").split("/")
                    node = obj
                    for part in parents:
                        node = node[part]
                    node[leaf] = op["value"]
    return objects


def helm_applies(charts: ChartServers, release: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What Flux's helm-controller installs for ``release``: `helm template` of its chart with its values (Helm's
    own render, helm_python), and the chart's crds/ folder (install.crds defaults to Create)."""
    spec = release["spec"]
    chart = charts.chart(CHART_OF[release["metadata"]["name"]])
    try:
        rendered = chart.render(spec.get("values") or {}, name=spec.get("releaseName") or release["metadata"]["name"],
                                namespace=release["metadata"]["namespace"], is_install=True)
        crds = [c.get("data") or "" for c in chart.crds]
    finally:
        chart.close()
    texts = [text for path, text in sorted(rendered.items()) if not path.endswith("NOTES.txt")]
    return ([d for text in texts for d in yaml.safe_load_all(text) if d],
            [d for text in crds for d in yaml.safe_load_all(text) if d])


def key(obj: dict[str, Any]) -> tuple[str, str, str]:
    """(kind, namespace, name) of an object."""
    return obj["kind"], obj["metadata"].get("namespace") or "", obj["metadata"]["name"]


def contains(live: Any, expected: Any, where: str) -> None:
    """Every field of ``expected`` is in ``live`` with the same value (lists element by element, same length);
    the API server's defaults and status may add fields, and nothing else may differ."""
    if isinstance(expected, dict):
        assert isinstance(live, dict), where
        for field, value in expected.items():
            assert field in live, f"{where}.{field} is missing"
            contains(live[field], value, f"{where}.{field}")
    elif isinstance(expected, list):
        assert isinstance(live, list) and len(live) == len(expected), f"{where}: {live!r} != {expected!r}"
        for index, (got, want) in enumerate(zip(live, expected, strict=True)):
            contains(got, want, f"{where}[{index}]")
    else:
        assert live == expected, f"{where}: {live!r} != {expected!r}"


def live_objects(world: World, cluster: str, expected: list[dict[str, Any]]) -> dict[tuple[str, str, str], Any]:
    """The live objects of ``expected`` on ``cluster``, read with real kubectl (one call per namespace)."""
    by_namespace: dict[str, list[str]] = {}
    for obj in expected:
        ref = f"{resource_ref(obj)}/{obj['metadata']['name']}"
        by_namespace.setdefault(obj["metadata"].get("namespace") or "default", []).append(ref)
    found: dict[tuple[str, str, str], Any] = {}
    for namespace, refs in by_namespace.items():
        out = world.sandbox.kubectl(cluster, "get", "-n", namespace, "-o", "json", *refs).stdout
        answer = json.loads(out)
        for item in answer["items"] if answer["kind"] == "List" else [answer]:
            found[key(item)] = item
    return found


def resource_ref(obj: dict[str, Any]) -> str:
    """kubectl's ``kind.group`` for an object's kind (``namespace`` for the core group)."""
    group = obj["apiVersion"].rpartition("/")[0]
    return f"{obj['kind'].lower()}{'.' + group if group else ''}"


def labelled_objects(world: World, cluster: str, kinds: set[str], child: str) -> set[tuple[str, str, str]]:
    """Every object of ``kinds`` on ``cluster`` labelled as applied for this project's source ``child`` (kubectl)."""
    out = world.sandbox.kubectl(cluster, "get", ",".join(sorted(kinds)), "-A", "-o", "json",
                                "-l", f"{names.LABEL_PROJECT}={world.project},{names.LABEL_SOURCE}={child}").stdout
    return {key(item) for item in json.loads(out)["items"]}


#: What the example leaves on the (shared) clusters, deleted after the test so later tests start clean.
LEFT_BEHIND = ["namespace/cert-manager", "namespace/envoy-gateway-system", "namespace/podinfo",
               "clusterissuer.cert-manager.io/letsencrypt", "gatewayclass.gateway.networking.k8s.io/envoy",
               "customresourcedefinition.apiextensions.k8s.io/clusterissuers.cert-manager.io",
               "customresourcedefinition.apiextensions.k8s.io/gatewayclasses.gateway.networking.k8s.io",
               "customresourcedefinition.apiextensions.k8s.io/gateways.gateway.networking.k8s.io",
               "customresourcedefinition.apiextensions.k8s.io/httproutes.gateway.networking.k8s.io"]


@pytest.fixture
def cleanup(world: World) -> Iterator[None]:
    """Delete what the example made on every cluster when the test ends (the sandbox is shared by the session)."""
    yield
    for cluster in CLUSTERS:
        world.sandbox.kubectl(cluster, "delete", "--ignore-not-found", "--wait=false", *LEFT_BEHIND, check=False)


def ready_after_reconcile(world: World, child: str) -> dict[str, Any] | None:
    """Reconcile ``child`` once (as its queue would) and return its Ready condition when True (else say why)."""
    world.reconcile(child)
    ready = world.condition(child, names.READY)
    if ready.get("status") != "True":
        raise AssertionError(f"{child}: {ready.get('reason')}: {ready.get('message')}")
    return ready


def test_the_bootstrapped_example_deploys_on_every_cluster_as_flux_would(world: World, charts: ChartServers,
                                                                        cleanup: None) -> None:
    original = bootstrapped(example_files(), "staging")
    files = with_chart_urls(original, charts.urls())
    changed = [line for path in sorted(files) for line in difflib.unified_diff(
        original[path].splitlines(), files[path].splitlines(), lineterm="", n=0) if line[:1] in "+-"
        and line not in ("--- ", "+++ ")]  # the diff's own two header lines
    assert sorted(changed) == sorted([*(f"-  url: {old}" for old in charts.urls()),
                                      *(f"+  url: {new}" for new in charts.urls().values())]), changed
    repo = world.repo("example", files)
    world.make_platform()
    world.ctx.fetch_policy = charts.policy()  # the operator's `run --allow-fetch` for the two loopback servers
    world.create("staging", f"file://{repo}", path="./clusters/staging")
    world.reconcile("staging")

    # The bootstrapped repository makes exactly the sources its Kustomizations declare: flux-system is the source.
    declared = sorted(d["metadata"]["name"] for name in ("apps.yaml", "infrastructure.yaml")
                      for d in yaml.safe_load_all(files[f"clusters/staging/{name}"]) if d)
    assert declared == sorted(ORDER)
    listed = json_request(world.api, "GET", paths.management_path(names.KIND_FEDERATED_KUSTOMIZATION,
                                                                  world.namespace))["items"]
    assert sorted(i["metadata"]["name"] for i in listed) == sorted([*declared, "staging"])
    assert all((i["metadata"].get("labels") or {}).get(LABEL_PARENT) == "staging" for i in listed
               if i["metadata"]["name"] != "staging")
    repositories = json_request(world.api, "GET", paths.management_path(names.KIND_FEDERATED_GIT_REPOSITORY,
                                                                        world.namespace))["items"]
    assert sorted(i["metadata"]["name"] for i in repositories) == sorted([*declared, "staging"])
    assert world.status("staging")["flux"]["bootstrap"] == ["Kustomization/flux-system"]
    assert world.condition("staging", names.READY)["status"] == "True", world.condition("staging", names.READY)

    # Dependency order: a child whose dependency is not Ready waits for it, and says which.
    for waiting, dependency in (("infra-configs", "infra-controllers"), ("apps", "infra-configs")):
        world.reconcile(waiting)
        cond = world.condition(waiting, names.READY)
        assert cond["reason"] == "DependencyNotReady" and cond["message"].startswith(
            f"dependency {dependency} is not ready"), (waiting, cond)
    for index, child in enumerate(ORDER):
        wait_until(lambda child=child: ready_after_reconcile(world, child), timeout=120, interval=0.2,
                   message=f"{child} Ready on {', '.join(CLUSTERS)}")
        for later in ORDER[index + 2:]:  # the one after next still waits for the next
            world.reconcile(later)
            assert world.condition(later, names.READY)["reason"] == "DependencyNotReady", later

    root = world.tmp / "example"
    for child in ORDER:
        plain = flux_applies(root, child)
        releases = [o for o in plain if o["kind"] == "HelmRelease"]
        rendered = [helm_applies(charts, release) for release in releases]
        templates = [o for objects, _ in rendered for o in objects]
        crds = [o for _, objects in rendered for o in objects]
        expected = {key(o): o for o in [*plain, *templates, *crds]}
        for cluster in CLUSTERS:
            live = live_objects(world, cluster, list(expected.values()))
            assert sorted(live) == sorted(expected), (child, cluster)
            # Nothing else is applied for the child: its own objects and its releases' (not the charts' crds/).
            applied = labelled_objects(world, cluster, {resource_ref(o) for o in expected.values()}, child)
            assert applied == {key(o) for o in [*plain, *templates]}, (cluster, child, applied)
            for ident, want in expected.items():
                got = live[ident]
                contains(got, want, f"{cluster}:{child}:{'/'.join(ident)}")
                labels = got["metadata"].get("labels") or {}
                # Flux labels what it applies kustomize.toolkit.fluxcd.io/name=<Kustomization>; the reconciler's
                # own source label carries the same name (docs/flux.md).
                if want in plain:
                    assert labels.get(names.LABEL_SOURCE) == child, (cluster, ident, labels)
                elif want in templates:  # Helm labels what it renders, not its crds/ folder
                    assert labels.get("app.kubernetes.io/managed-by") == "Helm", (cluster, ident, labels)
            for release in releases:
                name = release["spec"].get("releaseName") or release["metadata"]["name"]
                got = live[key(release)]
                ready = {c["type"]: c for c in (got.get("status") or {}).get("conditions") or []}
                assert ready.get("Ready", {}).get("status") == "True", (cluster, name, got.get("status"))

    # The values the example's overlays set reached the charts: staging's hostname, redis on, the Gateway API on.
    for cluster in CLUSTERS:
        route = json.loads(world.sandbox.kubectl(cluster, "get", "-n", "podinfo", "-o", "json",
                                                 "httproute.gateway.networking.k8s.io/podinfo").stdout)
        assert route["spec"]["hostnames"] == ["podinfo.staging"], route["spec"]
        assert route["spec"]["parentRefs"] == [{"name": "envoy", "namespace": "envoy-gateway-system",
                                                "sectionName": "http"}], route["spec"]
        issuer = json.loads(world.sandbox.kubectl(cluster, "get", "-o", "json",
                                                  "clusterissuer.cert-manager.io/letsencrypt").stdout)
        assert issuer["spec"]["acme"]["server"] == "https://acme-staging-v02.api.letsencrypt.org/directory"
