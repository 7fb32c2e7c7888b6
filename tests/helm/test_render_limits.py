"""Bounded cost of a chart: render deadline, rendered alias bombs and sizes, generateName, and bombs in valuesFrom."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gitops_tui.api import names
from gitops_tui.helm import render as render_mod
from gitops_tui.helm.charts import load_from_git
from gitops_tui.helm.errors import INSTALL_FAILED, HelmReleaseFailed
from gitops_tui.kube import limits
from tests.gitserver import commit
from tests.helm.charts import write_chart
from tests.reconciler.test_bounded_cost import alias_bomb
from tests.world import CLUSTERS, World


def _render(chart_dir: Path) -> render_mod.RenderedRelease:
    chart = load_from_git(chart_dir.parent, chart_dir.name)
    return render_mod.render_release(chart, {}, release_name="shop", namespace="team-a", revision=1,
                                     failure_reason=INSTALL_FAILED)


def test_a_render_past_its_deadline_fails_the_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chart_dir = write_chart(tmp_path)
    (chart_dir / "templates" / "slow.yaml").write_text("{{- range $i := until 400000 }}\n# line {{ $i }}\n{{- end }}\n")
    monkeypatch.setattr(render_mod, "RENDER_TIMEOUT", 0.001)
    with pytest.raises(HelmReleaseFailed, match="render of chart web exceeded its deadline of 0.001 s"):
        _render(chart_dir)


def test_a_template_that_renders_an_alias_bomb_is_refused(tmp_path: Path) -> None:
    chart_dir = write_chart(tmp_path)
    (chart_dir / "templates" / "bomb.yaml").write_text(alias_bomb(8, "bomb"))
    with pytest.raises(HelmReleaseFailed, match="bomb.yaml expands to more than 1,000,000 YAML nodes"):
        _render(chart_dir)


def test_rendered_sizes_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chart_dir = write_chart(tmp_path)
    (chart_dir / "templates" / "big.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: {{ repeat 1100000 \"b\" | quote }}\n")
    with pytest.raises(HelmReleaseFailed, match="ConfigMap big in the chart holds 1.0 MiB of data"):
        _render(chart_dir)
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)
    with pytest.raises(HelmReleaseFailed, match="the chart rendered .* MiB of manifests"):
        _render(chart_dir)


def test_a_rendered_generate_name_says_what_to_do(tmp_path: Path) -> None:
    chart_dir = write_chart(tmp_path)
    (chart_dir / "templates" / "job.yaml").write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\nspec: {}\n")
    with pytest.raises(HelmReleaseFailed, match="Job uses metadata.generateName.*fixed name, or make it a hook"):
        _render(chart_dir)


def test_an_alias_bomb_in_values_from_is_refused(world: World) -> None:
    """A small ConfigMap whose values.yaml string is an alias bomb: refused when the values are composed."""
    bomb_values = alias_bomb(8).split("anchors:\n", 1)[1].replace("spec: ", "greeting: ")
    values = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shop-values"},
              "data": {"values.yaml": "anchors:\n" + bomb_values}}
    release = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "shop"},
               "spec": {"interval": "5m", "valuesFrom": [{"kind": "ConfigMap", "name": "shop-values"}],
                        "chart": {"spec": {"chart": "./charts/web", "sourceRef": {"kind": "GitRepository",
                                                                                   "name": "shop"}}}}}
    repo = world.repo("values-bomb", {"deploy/values.yaml": yaml.safe_dump(values),
                                      "deploy/hr.yaml": yaml.safe_dump(release)})
    write_chart(repo / "charts")
    commit(repo, {}, "chart")
    world.create("shop", f"file://{repo}", path="./deploy")
    world.reconcile("shop")
    ready = world.condition("shop", names.READY)
    # Counted while the values are composed (issue 18, attack E): the ConfigMap's text is refused as it is read.
    assert ready["status"] == "False" and ready["message"] == (
        f"HelmRelease/shop: ConfigMap '{world.namespace}/shop-values' (valuesFrom) expands to more than 1,000,000 "
        "YAML nodes (an alias bomb?); write the objects out instead of nesting aliases"), ready
    assert all(world.get(c, "configmaps", "shop-values") is None for c in CLUSTERS)
