"""The textual-free views: rows, cells, glyphs, header, filter, forms and redaction."""

from __future__ import annotations

from datetime import UTC, datetime

from gitops_tui.backends.static import StaticBackend
from gitops_tui.views import details, forms, glyphs, header, model, rows
from gitops_tui.views.state import Change
from tests.tui.conftest import FIXTURE


def _backend() -> StaticBackend:
    return StaticBackend.from_file(FIXTURE)


def test_sources_show_status_and_suspension() -> None:
    b = _backend()
    table = rows.sources_table(b.state, b.now())
    by_name = {r.tags["source"]: r for r in table.rows}
    assert by_name["frontend"].status == glyphs.SUSPENDED
    assert by_name["frontend"].cells[0].startswith("‖")
    assert "by alice@10.0.0.7 42m ago: hotfix in progress on staging" in by_name["frontend"].cells
    assert by_name["podinfo"].status == glyphs.FAILING
    assert by_name["redis"].status == glyphs.PROGRESS
    assert by_name["ledger"].status == glyphs.READY


def test_propagation_cells() -> None:
    b = _backend()
    table = rows.propagation_table(b.state, b.now())
    assert table.columns == ("Source", "dev", "staging", "◌ prod: stale 10m"), "placement order; prod is offline"
    podinfo = next(r for r in table.rows if r.key == "demo/podinfo")
    assert podinfo.cells[1:] == ("✓ main@9f2c41d", "✓ main@9f2c41d", "✗ ClusterNotReachable")
    ledger = next(r for r in table.rows if r.key == "payments/ledger")
    assert ledger.cells[3] == "·" and ledger.statuses[3] == glyphs.NONE


def test_secrets_never_show_values() -> None:
    b = _backend()
    table = rows.secrets_table(b.state, b.now())
    text = repr(table.rows)
    assert "password,username" in text and "c2VjcmV0LXZhbHVl" not in text
    obj = b.state.get("secrets", "demo", "git-creds")
    assert "c2VjcmV0LXZhbHVl" not in details.to_yaml(obj)


def test_header_lease_holder() -> None:
    b = _backend()
    info = header.header_info(b.state, "ctx", "console-static", b.now())
    assert (info.leader, info.ready, info.failing, info.suspended) == (header.THIS_CONSOLE, 1, 1, 1)
    assert header.lease_holder(b.state, "someone-else", b.now()) == "console-static"
    later = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
    assert header.lease_holder(b.state, "console-static", later) == header.NOBODY


def test_filter_by_source_and_cluster() -> None:
    b = _backend()
    events = rows.events_table(b.state, b.now()).rows
    assert {r.tags["source"] for r in events if rows.matches(r, "cluster=staging")} == {"podinfo", "frontend", "redis"}
    assert all(r.tags["source"] == "frontend" for r in events if rows.matches(r, "source=frontend"))
    assert [r for r in events if rows.matches(r, "drift")][0].cells[4] == "DriftDetected"


def test_events_keep_time_order() -> None:
    b = _backend()
    early = {"metadata": {"name": "x", "namespace": "demo"}, "lastTimestamp": "2026-01-15T10:00:00Z"}
    b.state.apply(Change("events", "ADDED", early))
    assert b.state.items("events")[0]["metadata"]["name"] == "x"


def test_static_operations_suspend_and_resume() -> None:
    b = _backend()
    b.ops.suspend_source("demo", "podinfo", "why")
    view = next(s for s in model.sources(b.state) if s.name == "podinfo")
    assert view.suspension and view.suspension.reason == "why" and view.status == glyphs.SUSPENDED
    b.ops.resume_source("demo", "podinfo")
    assert next(s for s in model.sources(b.state) if s.name == "podinfo").suspension is None


def test_form_validation_messages() -> None:
    bad = forms.SourceRequest(project="demo", namespace="demo", name="Bad", url="nope", ref_kind="commit",
                              ref="xyz", path="../up", clusters=[], interval="soon")
    errors = forms.validate_source(bad, set(), {"dev"})
    assert set(errors) == {"name", "url", "ref", "path", "clusters", "interval"}
    ok = forms.SourceRequest(project="demo", namespace="demo", name="web", url="https://example.com/r.git",
                             clusters=["dev"])
    assert forms.validate_source(ok, set(), {"dev"}) == {}
    assert "already exists" in forms.validate_source(ok, {"web"}, {"dev"})["name"]
    secret = forms.SecretRequest(project="demo", namespace="demo", name="s", kind="basic", username="u",
                                 password="hunter2", clusters=["dev"])
    assert forms.validate_secret(secret, set()) == {}
    assert "hunter2" not in repr(secret)


def test_helm_rows_one_per_version_with_unique_keys_and_differences_marked() -> None:
    """A release at one version on three clusters is one row; at two versions, two rows marked as differing."""
    from gitops_tui.backends.static import StaticBackend
    from gitops_tui.views import helm

    backend = StaticBackend.from_file(FIXTURE)
    try:
        table = helm.helm_table(backend.state, backend.now(), backend.helm)
        keys = [r.key for r in table.rows]
        assert keys == ["demo/frontend@1.3.0", "demo/redis@0.1.0", "demo/redis@0.2.0"]
        by_key = {r.key: r for r in table.rows}
        assert by_key["demo/frontend@1.3.0"].cells[1:3] == ("1.3.0", "dev,staging,prod")
        assert by_key["demo/redis@0.1.0"].cells[1:3] == (f"{helm.DIFFERS} 0.1.0", "prod")
        assert by_key["demo/redis@0.2.0"].statuses[1] == "differs"
        rows = helm.helm_rows(backend.state, backend.helm)
        redis_prod = next(r for r in rows if r.key == "demo/redis@0.1.0")
        text = helm.detail_text(redis_prod, helm.release_history(redis_prod, backend.helm), rows)
        assert "differs: dev,staging run 0.2.0" in text
        assert "History on prod" in text and "History on dev" not in text
        assert [line.split()[0] for line in text.splitlines() if line.strip().startswith(("2 ", "1 "))] == ["2", "1"]
    finally:
        backend.close()
    other = StaticBackend({"projects": backend.state.items("projects")})
    assert helm.helm_rows(other.state, other.helm) == [], "one backend's Helm releases never show in another's"


def test_flexible_columns_shrink_to_fit_and_keep_the_right_end() -> None:
    """Messages keep their head, URLs their tail; fixed columns never shrink; digests are shortened."""
    table = rows.Table(("Name", "Message", "URL"),
                       [rows.Row("a", ("podinfo", "m" * 60, "https://example.com/team/podinfo.git"))],
                       flexible={"Message": "head", "URL": "tail"})
    caps = rows.fit_widths(table, 60)
    assert 0 not in caps and sum([7, caps.get(1, 60), caps.get(2, 36)]) <= 60
    clipped = rows.clip("https://example.com/team/podinfo.git", 16, "tail")
    assert clipped.startswith("…") and clipped.endswith("/podinfo.git") and len(clipped) == 16
    assert rows.clip("applied revision main", 10, "head") == "applied r…"
    assert rows.fit_widths(table, 200) == {}
    text = "applied revision main@sha1:93c45e007411b0a135f7098873b35e7f1f0c6ec9 to dev"
    assert glyphs.shorten_digests(text) == "applied revision main@93c45e0 to dev"


def test_git_url_credentials_never_reach_the_console() -> None:
    """A URL stored with a token or password (e.g. by kubectl) is shown without it."""
    from gitops_tui.views.details import to_yaml
    from gitops_tui.views.model import sources
    from gitops_tui.views.state import ManagementState

    repo = {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedGitRepository",
        "metadata": {"name": "app", "namespace": "demo"},
        "spec": {"template": {"spec": {"url": "https://bot:s3cr3t-token@git.example.com/app.git", "ref": {"branch": "main"}}}},
    }
    state = ManagementState({"gitrepositories": [repo]})
    shown = [v.url for v in sources(state)]
    assert shown and all("s3cr3t-token" not in url for url in shown)
    assert "s3cr3t-token" not in to_yaml(repo)
    assert repo["spec"]["template"]["spec"]["url"].endswith("s3cr3t-token@git.example.com/app.git"), "input untouched"
