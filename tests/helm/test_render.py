"""Rendering with real Helm: objects, schema and template failures carry Helm's own message."""

from __future__ import annotations

from pathlib import Path

import helm_python as helm
import pytest

from gitops_tui.helm.charts import load_from_git, load_from_repository
from gitops_tui.helm.errors import ARTIFACT_FAILED, INSTALL_FAILED, HelmReleaseFailed
from gitops_tui.helm.render import release_record, render_release
from gitops_tui.kube.outbound import FetchPolicy
from tests.helm.charts import write_chart


def _render(chart: helm.Chart, values: dict, revision: int = 1):
    return render_release(
        chart, values, release_name="shop", namespace="team-a", revision=revision, failure_reason=INSTALL_FAILED
    )


def test_render_gives_objects_manifest_and_notes(tmp_path: Path) -> None:
    chart = load_from_git(tmp_path, write_chart(tmp_path).name)
    rendered = _render(chart, {"replicaCount": 3})
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in rendered.objects)
    assert kinds == [("ConfigMap", "shop-greeting"), ("Deployment", "shop-web")]
    deployment = next(o for o in rendered.objects if o["kind"] == "Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert "# Source: web/templates/deployment.yaml" in rendered.manifest
    assert rendered.notes.startswith("Thanks for installing web")


def test_digest_changes_with_values_only(tmp_path: Path) -> None:
    chart = load_from_git(tmp_path, write_chart(tmp_path).name)
    assert _render(chart, {}).digest == _render(chart, {}).digest
    assert _render(chart, {}).digest != _render(chart, {"greeting": "hi"}).digest


def test_schema_violation_reports_helms_message(tmp_path: Path) -> None:
    chart = load_from_git(tmp_path, write_chart(tmp_path).name)
    with pytest.raises(HelmReleaseFailed) as caught:
        _render(chart, {"replicaCount": "many"})
    assert caught.value.reason == INSTALL_FAILED
    assert "replicaCount" in caught.value.message and "integer" in caught.value.message


def test_template_error_and_required_value(tmp_path: Path) -> None:
    chart_dir = write_chart(tmp_path)
    (chart_dir / "templates" / "secret-ref.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ref\ndata:\n"
        "  db: {{ required \"database.host is required\" .Values.database.host | quote }}\n"
    )
    chart = load_from_git(tmp_path, chart_dir.name)
    with pytest.raises(HelmReleaseFailed) as caught:
        _render(chart, {})
    assert "database" in caught.value.message
    with pytest.raises(HelmReleaseFailed) as caught:
        _render(chart, {"database": {}})
    assert "database.host is required" in caught.value.message


def test_missing_chart_path_names_it(tmp_path: Path) -> None:
    with pytest.raises(HelmReleaseFailed) as caught:
        load_from_git(tmp_path, "charts/nope")
    assert caught.value.reason == ARTIFACT_FAILED
    assert "charts/nope" in caught.value.message
    with pytest.raises(HelmReleaseFailed):
        load_from_git(tmp_path, "../outside")


def test_release_record_has_helm_schema(tmp_path: Path) -> None:
    chart = load_from_git(tmp_path, write_chart(tmp_path, version="1.2.3").name)
    rendered = _render(chart, {"greeting": "hi"})
    record = release_record(
        rendered, chart=chart, release_name="shop", namespace="team-a", revision=1, status="deployed",
        description="Install complete", first_deployed="2026-01-01T00:00:00Z", now="2026-01-01T00:00:00Z",
    )
    assert record["chart"]["metadata"]["version"] == "1.2.3"
    assert record["config"] == {"greeting": "hi"}
    assert record["info"]["status"] == "deployed" and record["version"] == 1


def test_an_unreachable_chart_repository_is_named_without_its_password(tmp_path: Path) -> None:
    with pytest.raises(HelmReleaseFailed) as caught:
        load_from_repository(tmp_path, "http://bob:hunter2@127.0.0.1:1/charts", "web", "1.0.0",
                             FetchPolicy(["http://127.0.0.1:1/*"]))  # a loopback repository: the operator allows it
    assert caught.value.reason == ARTIFACT_FAILED
    assert "127.0.0.1:1/charts" in caught.value.message and "hunter2" not in caught.value.message
