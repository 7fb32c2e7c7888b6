"""Helm benchmark on a private sandbox: render + apply of a 50-template chart to three clusters, beside same-run baselines.

Figures (seconds, median of --rounds):
- render: real Helm render of the chart (helm_python, through gitops_tui.helm.render);
- gitops-tui install / upgrade to dev+staging+prod, and to dev alone (reconcile_source of a git source);
- baselines on dev alone: helm_python's own install / upgrade, and `kubectl apply --server-side` of the
  same rendered objects;
- ratios: each gitops-tui figure over each baseline of the same run (so machine speed cancels out).

- render modes: render_release through a warm worker process (now), a fresh interpreter per render, and a
  helper thread in the process (before the workers), with ratios to the latter.
- chart sources (``--sources``, also part of the full run): the same chart installed and upgraded on dev from an
  HTTP chart repository (HelmRepository, index + archive) and from a real OCI registry (docker-registry on
  loopback; OCIRepository + chartRef, pulled with Helm's registry client in a worker), ratio OCI / HTTP. The
  install includes the first pull (a cold cache, and the OCI side's first registry worker start).

Run: .venv/bin/python bench/bench_helm.py [--rounds 3] [--templates 50] [--json] [--render-only] [--sources]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import helm_python as helm  # noqa: E402

from bench.common import CLUSTERS, BenchSandbox, git, init_repo, median, ratio, run  # noqa: E402
from gitops_tui.actions import sources as actions  # noqa: E402
from gitops_tui.helm.charts import load_from_git  # noqa: E402
from gitops_tui.helm.errors import INSTALL_FAILED  # noqa: E402
from gitops_tui.helm.render import render_release  # noqa: E402
from tests.helm.charts import write_chart  # noqa: E402

HELM_RELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
spec:
  releaseName: {name}
  chart:
    spec:
      chart: ./charts/web
      sourceRef: {{kind: GitRepository, name: {name}}}
  values:
    greeting: "{greeting}"
"""


class Bench(BenchSandbox):
    """The private sandbox, and the benchmark chart of ``templates`` templates."""

    def __init__(self, home: Path, project: str, templates: int) -> None:
        """Start the sandbox; charts have ``templates`` templates."""
        super().__init__(home, project)
        self.templates = templates

    def chart(self, root: Path) -> Path:
        """Write the benchmark chart (Deployment + ConfigMap + extra ConfigMaps = ``templates`` templates)."""
        return write_chart(root / "charts", extra_configmaps=self.templates - 2)

    def repo(self, name: str) -> Path:
        """A git repository holding the chart and one HelmRelease named ``name``."""

        def write(path: Path) -> None:
            self.chart(path)
            (path / "deploy").mkdir()
            (path / "deploy" / "release.yaml").write_text(HELM_RELEASE.format(name=name, greeting="v0"))

        return init_repo(self.home / f"repo-{name}", write)


def bench_render(bench: Bench, rounds: int) -> float:
    """Median seconds of one real Helm render of the chart."""
    bench.chart(bench.home / "render")
    chart = load_from_git(bench.home / "render", "charts/web")
    times = []
    for r in range(rounds):
        start = time.monotonic()
        rendered = render_release(chart, {"greeting": str(r)}, release_name="bench", namespace=bench.project,
                                  revision=1, failure_reason=INSTALL_FAILED)
        times.append(time.monotonic() - start)
    assert len(rendered.objects) == bench.templates, len(rendered.objects)
    return median(times)


def bench_render_modes(root: Path, templates: int, rounds: int) -> dict[str, Any]:
    """One render of the chart through render_release, three ways, medians of ``rounds`` (seconds), with ratios to
    how renders ran before the worker pool (a helper thread in this process, which a runaway chart keeps busy):
    a warm pool worker (now), and a fresh interpreter per render (a pool that keeps no worker)."""
    from bench.bench_render_kill import thread_render
    from gitops_tui.helm import render as render_mod
    from gitops_tui.helm.render_pool import RenderPool

    write_chart(root / "modes" / "charts", extra_configmaps=templates - 2)
    chart = load_from_git(root / "modes", "charts/web")
    fresh = RenderPool(keep_idle=0)
    modes = {"thread_before": (thread_render, render_mod.shared_pool), "pool_now": (None, render_mod.shared_pool),
             "fresh_process": (None, lambda: fresh)}
    original = render_mod._render_with_deadline  # noqa: SLF001 - the benchmark swaps the render path
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    try:
        for r in range(rounds):
            for mode, (render, pool) in modes.items():
                render_mod._render_with_deadline = render or original  # type: ignore[assignment]  # noqa: SLF001
                render_mod.shared_pool = pool  # type: ignore[assignment]
                start = time.monotonic()
                rendered = render_release(chart, {"greeting": str(r)}, release_name="bench", namespace="bench",
                                          revision=1, failure_reason=INSTALL_FAILED)
                times[mode].append(time.monotonic() - start)
                assert len(rendered.objects) == templates, (mode, len(rendered.objects))
    finally:
        render_mod._render_with_deadline = original  # type: ignore[assignment]  # noqa: SLF001
        render_mod.shared_pool = modes["pool_now"][1]  # type: ignore[assignment]
        fresh.close()
    medians = {f"{mode}_s": median(values, 4) for mode, values in times.items()}
    base = medians["thread_before_s"]
    return {**medians, "ratio_pool_vs_before": ratio(medians["pool_now_s"], base),
            "ratio_fresh_process_vs_before": ratio(medians["fresh_process_s"], base),
            "ratio_fresh_vs_pool": ratio(medians["fresh_process_s"], medians["pool_now_s"])}


def bench_ours(bench: Bench, name: str, clusters: list[str], rounds: int) -> dict[str, Any]:
    """Install then ``rounds`` upgrades (a values change each) through reconcile_source on ``clusters``."""
    repo = bench.repo(name)
    actions.create_source(bench.api, bench.project, name, f"file://{repo}", path="./deploy", clusters=clusters)
    install = bench.reconcile(name)
    upgrades = []
    for r in range(rounds):
        (repo / "deploy" / "release.yaml").write_text(HELM_RELEASE.format(name=name, greeting=f"v{r + 1}"))
        git(repo, "commit", "-q", "-am", f"values {r + 1}")
        upgrades.append(bench.reconcile(name))
    return {"install_s": round(install, 3), "upgrade_median_s": median(upgrades)}


def bench_helm_python(bench: Bench, rounds: int) -> dict[str, Any]:
    """helm_python's own install and upgrades of the same chart to dev (the baseline)."""
    chart_dir = bench.chart(bench.home / "helm-baseline")
    config = helm.Config(kubeconfig_path=str(bench.kubeconfig), kube_context="dev", namespace=bench.project)
    start = time.monotonic()
    config.install(helm.Chart.load(chart_dir), "baseline", {"greeting": "v0"})
    install = time.monotonic() - start
    upgrades = []
    for r in range(rounds):
        start = time.monotonic()
        config.upgrade(helm.Chart.load(chart_dir), "baseline", {"greeting": f"v{r + 1}"})
        upgrades.append(time.monotonic() - start)
    return {"install_s": round(install, 3), "upgrade_median_s": median(upgrades)}


def bench_kubectl(bench: Bench, rounds: int) -> dict[str, Any]:
    """`kubectl apply --server-side` of the same rendered objects to dev (no Helm bookkeeping at all)."""
    bench.chart(bench.home / "kubectl")
    chart = load_from_git(bench.home / "kubectl", "charts/web")
    kubectl = ["kubectl", "--kubeconfig", str(bench.kubeconfig), "--context", "dev", "-n", bench.project]
    times = []
    for r in range(rounds + 1):
        rendered = render_release(chart, {"greeting": f"v{r}"}, release_name="plain", namespace=bench.project,
                                  revision=1, failure_reason=INSTALL_FAILED)
        start = time.monotonic()
        subprocess.run([*kubectl, "apply", "--server-side", "--field-manager", "bench", "-f", "-"],
                       input=rendered.manifest, text=True, check=True, capture_output=True)
        times.append(time.monotonic() - start)
    return {"install_s": round(times[0], 3), "upgrade_median_s": median(times[1:])}


OCI_SOURCE = """apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: web
spec:
  interval: 10m
  url: {url}
  insecure: true
  ref:
    tag: "0.1.0"
  layerSelector:
    mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip
    operation: copy
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
spec:
  chartRef:
    kind: OCIRepository
    name: web
  values:
    greeting: "{greeting}"
"""
HTTP_SOURCE = """apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: web
spec:
  interval: 10m
  url: {url}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
spec:
  chart:
    spec:
      chart: web
      version: "0.1.0"
      sourceRef: {{kind: HelmRepository, name: web}}
  values:
    greeting: "{greeting}"
"""


def bench_chart_sources(bench: Bench, rounds: int) -> dict[str, Any]:
    """Install and upgrade the chart on dev from an HTTP chart repository and from an OCI registry (same run)."""
    import functools
    import http.server
    import threading

    from gitops_tui.kube.outbound import FetchPolicy
    from tests.registry import Registry

    archive = Path(helm.package(bench.chart(bench.home / "packaged"), destination=bench.home))
    served = bench.home / "http-charts"
    served.mkdir()
    (served / archive.name).write_bytes(archive.read_bytes())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    http_url = f"http://127.0.0.1:{server.server_port}"
    helm.repo_index_generate(served, base_url=http_url)
    registry = Registry.start(bench.home / "registry")
    try:
        registry.push(archive)
        bench.ctx.fetch_policy = FetchPolicy([f"{http_url}/*", f"http://{registry.host}/*"])
        from gitops_tui.reconciler import helm_step

        helm_step.ensure_crds(bench.ctx.clusters.get("dev")[1], [{"kind": "HelmRelease"}])  # neither side pays them
        results = {}
        for kind, template, url in (("http", HTTP_SOURCE, http_url), ("oci", OCI_SOURCE, f"{registry.url}/web")):
            name = f"src-{kind}"

            def write(path: Path, greeting: str = "v0", template: str = template, url: str = url,
                      name: str = name) -> None:
                (path / "deploy").mkdir(exist_ok=True)
                (path / "deploy" / "release.yaml").write_text(template.format(name=name, url=url, greeting=greeting))

            repo = init_repo(bench.home / f"repo-{name}", write)
            actions.create_source(bench.api, bench.project, name, f"file://{repo}", path="./deploy", clusters=["dev"])
            install = bench.reconcile(name)
            upgrades = []
            for r in range(rounds):
                write(repo, f"v{r + 1}")
                git(repo, "commit", "-q", "-am", f"values {r + 1}")
                upgrades.append(bench.reconcile(name))
            results[kind] = {"install_s": round(install, 3), "upgrade_median_s": median(upgrades)}
        results["ratio_oci_vs_http_install"] = ratio(results["oci"]["install_s"], results["http"]["install_s"])
        results["ratio_oci_vs_http_upgrade"] = ratio(results["oci"]["upgrade_median_s"],
                                                     results["http"]["upgrade_median_s"])
        return results
    finally:
        registry.stop()
        server.shutdown()
        server.server_close()


def main() -> int:
    """Run the Helm benchmarks and print the figures, with ratios against the same-run baselines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--templates", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--render-only", action="store_true", help="only the render figures (no sandbox)")
    parser.add_argument("--render-rounds", type=int, default=20)
    parser.add_argument("--sources", action="store_true", help="only the HTTP and OCI chart source figures")
    args = parser.parse_args()
    import os
    import tempfile

    os.environ.setdefault("GITOPS_TUI_ALLOW_LOCAL_REPOS", tempfile.gettempdir())  # the benchmark's own repositories
    if args.sources:
        return run("gitops-tui-helm-bench-", lambda home: Bench(home, "helmbench", args.templates),
                   lambda bench: bench_chart_sources(bench, args.rounds), args.json)
    if args.render_only:
        import json

        with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
            figures = bench_render_modes(Path(tmp), args.templates, args.render_rounds)
        print(json.dumps(figures, indent=2) if args.json else figures)
        return 0

    def measure(bench: Bench) -> dict[str, Any]:
        results: dict[str, Any] = {"templates": args.templates, "render_median_s": bench_render(bench, args.rounds),
                                   "render_modes": bench_render_modes(bench.home, args.templates, args.render_rounds)}
        results["gitops_tui_3_clusters"] = bench_ours(bench, "three", CLUSTERS, args.rounds)
        results["gitops_tui_dev_only"] = bench_ours(bench, "one", ["dev"], args.rounds)
        results["baseline_helm_python_dev"] = bench_helm_python(bench, args.rounds)
        results["baseline_kubectl_ssa_dev"] = bench_kubectl(bench, args.rounds)
        results["chart_sources_dev"] = bench_chart_sources(bench, args.rounds)
        steps = {"install": "install_s", "upgrade": "upgrade_median_s"}
        results["ratios"] = {
            f"{ours}_vs_{base}_{step}": ratio(results[ours][key], results[base][key])
            for ours in ("gitops_tui_dev_only", "gitops_tui_3_clusters")
            for base in ("baseline_helm_python_dev", "baseline_kubectl_ssa_dev")
            for step, key in steps.items()
        }
        return results

    return run("gitops-tui-helm-bench-", lambda home: Bench(home, "helmbench", args.templates), measure, args.json)


if __name__ == "__main__":
    sys.exit(main())
