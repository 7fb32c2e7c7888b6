"""What a new user tripped over (issue 11, item 6), each on recorded objects: keys, filter, dialogs, forms, order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitops_tui import themes
from gitops_tui.backends.static import FROZEN_NOW, StaticBackend
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.tui.screens.forms import SecretForm, SourceForm
from gitops_tui.tui.screens.freeze_dialogs import FreezeDialog
from gitops_tui.tui.screens.main import MainScreen
from gitops_tui.tui.screens.project_form import ProjectForm
from gitops_tui.tui.screens.text import TextView
from gitops_tui.tui.widgets.cluster_picker import ClusterPicker
from gitops_tui.views import deletion, details, helm, model, rows
from gitops_tui.views.state import Change, ManagementState
from tests.tui.conftest import FIXTURE
from tests.tui.screen_text import screen_text


def _footer(app: Any) -> str:
    return screen_text(app).splitlines()[-1]


@pytest.mark.parametrize("pane", ["5", "6", "7"])
async def test_footer_offers_no_key_that_does_nothing_on_the_pane(make_app: Any, pane: str) -> None:
    """Helm, Clusters, Events: no Suspend / Resume / Reconcile / New / Delete in the footer, and the keys do nothing."""
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(pane)
        await pilot.pause()  # the footer redraws after the pane's bindings refresh (slow on a loaded machine)
        footer = _footer(app)
        for word in ("Suspend", "Resume", "Reconcile", "New", "Delete"):
            assert word not in footer, f"{word} offered on pane {pane}: {footer}"
        assert "Filter" in footer and "Quit" in footer
        await pilot.press("s", "n", "ctrl+d", *(["y"] if pane == "5" else []))
        assert isinstance(app.screen, MainScreen), "no dialog opened by a key that does not act here"
        assert app.backend.ops.calls == []


async def test_footer_keeps_the_keys_that_act(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        await pilot.pause()
        footer = _footer(app)
        assert all(word in footer for word in ("Suspend", "Resume", "Reconcile", "New", "Delete", "Quit")), footer
        await pilot.press("1")
        await pilot.pause()  # the footer follows the pane on the next refresh (flaky under load without it)
        assert "Reconcile" not in _footer(app) and "New" in _footer(app)


async def test_filter_applies_as_you_type_and_the_status_line_follows(make_app: Any) -> None:
    """No Enter needed; the line above the footer never describes a row the filter hides."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.pane.selected_key() == "demo/frontend"
        await pilot.press("slash", *"redis")
        await pilot.pause()
        assert screen.pane._keys == ["demo/redis"]
        detail = screen_text(app).splitlines()[-3]
        assert "redis" in detail and "frontend" not in detail, detail
        await pilot.press(*"-nope")
        await pilot.pause()
        assert screen.pane._keys == []
        assert "No row matches the filter: redis-nope" in screen_text(app).splitlines()[-3]
        await pilot.press(*["backspace"] * 10)
        await pilot.pause()
        assert len(screen.pane._keys) == 4, "emptying the field shows every row again"


async def test_suspend_dialog_drops_the_required_message_once_a_reason_is_typed(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "down", "s", "enter")
        assert isinstance(app.screen, FreezeDialog)
        assert "A reason is required." in screen_text(app)
        await pilot.press(*"db")
        await pilot.pause()
        assert "A reason is required." not in screen_text(app)
        await pilot.press("backspace", "backspace", "enter")
        assert "A reason is required." in screen_text(app), "an empty reason is refused again"


async def test_chosen_clusters_have_their_own_glyph_and_keep_the_listed_order(make_app: Any) -> None:
    """[✓] chosen, [ ] not (readable without colour); toggling prod then dev still asks for dev,prod."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2", "n")
        form = app.screen
        assert isinstance(form, SourceForm)
        text = screen_text(app)
        assert "[✓] dev" in text and "[✓] staging" in text and "[✓] prod" in text
        picker = form.query_one("#clusters", ClusterPicker)
        picker.deselect_all()
        await pilot.pause()
        assert "[ ] dev" in screen_text(app) and "[✓]" not in screen_text(app)
        picker.select("prod")
        picker.select("dev")
        await pilot.pause()
        assert "[✓] dev" in screen_text(app) and "[ ] staging" in screen_text(app)
        assert list(picker.selected) == ["prod", "dev"], "Textual keeps the toggle order..."
        assert form.request().clusters == ["dev", "prod"], "...the request keeps the listed order"


def test_one_cluster_order_in_every_pane() -> None:
    """The project's placement order (dev, staging, prod) in Sources, Propagation, Secrets, Helm and Clusters."""
    backend = StaticBackend.from_file(FIXTURE)
    try:
        state, now = backend.state, backend.now()
        assert model.cluster_order(state) == {"dev": 0, "staging": 1, "prod": 2}
        sources = {r.key: r for r in rows.sources_table(state, now).rows}
        assert sources["demo/podinfo"].cells[4] == "dev,staging,prod"
        assert [c.split()[-1] if " " in c else c for c in rows.propagation_table(state, now).columns[1:]] == \
            ["dev", "staging", "10m"]
        assert rows.propagation_table(state, now).columns[3].startswith("◌ prod")
        assert [r.key for r in rows.clusters_table(state, now).rows] == ["dev", "staging", "prod"]
        assert {r.key: r.cells[4] for r in rows.secrets_table(state, now).rows}["demo/git-creds"] == "dev,staging,prod"
        assert {r.key: r.cells[2] for r in helm.helm_table(state, now, backend.helm).rows}["demo/frontend@1.3.0"] == \
            "dev,staging,prod"
    finally:
        backend.close()


def test_events_of_one_second_keep_the_order_they_were_written() -> None:
    """Same lastTimestamp: resourceVersion decides, after a relist (RESET) and one by one (watch), whatever the names."""
    def event(name: str, version: str) -> dict[str, Any]:
        return {"metadata": {"name": name, "namespace": "demo", "resourceVersion": version},
                "lastTimestamp": "2026-01-15T11:00:00Z", "reason": name}

    written = [event("zeta.1", "101"), event("alpha.2", "102"), event("mid.3", "103")]
    relisted = ManagementState({"events": sorted(written, key=lambda e: e["metadata"]["name"])})
    assert [e["metadata"]["name"] for e in relisted.items("events")] == ["zeta.1", "alpha.2", "mid.3"]
    watched = ManagementState()
    for item in sorted(written, key=lambda e: e["metadata"]["name"]):
        watched.apply(Change("events", "ADDED", item))
    assert [e["metadata"]["name"] for e in watched.items("events")] == ["zeta.1", "alpha.2", "mid.3"]
    fraction = event("frac.4", "90")
    fraction["lastTimestamp"] = "2026-01-15T11:00:00.500000Z"
    watched.apply(Change("events", "ADDED", fraction))
    assert watched.items("events")[-1]["metadata"]["name"] == "frac.4", "half a second later comes last"


def test_describe_counts_one_object_in_the_singular() -> None:
    backend = StaticBackend.from_file(FIXTURE)
    try:
        view = model.source_index(backend.state)["payments/ledger"]
        one = model.Cell(view.cells["dev"].status, view.cells["dev"].text, "", 1)
        view.cells = {**view.cells, "dev": one}
        text = details.describe_source(view, backend.state, backend.now())
        assert "main@9f2c41d     1 object" in text and "1 objects" not in text
    finally:
        backend.close()


def test_project_deletion_lists_what_the_namespace_takes_on_each_cluster() -> None:
    """Sources' objects, the Secrets and the Helm releases in the namespace, per cluster."""
    backend = StaticBackend.from_file(FIXTURE)
    try:
        plan = deletion.project_deletion(backend.state, "demo", backend.helm)
        assert plan is not None and list(plan.clusters) == ["dev", "staging", "prod"]
        text = "\n".join(plan.lines())
        assert "2 Secrets: deploy-key, git-creds" in text
        assert "2 Helm releases: frontend 1.3.0, redis 0.1.0" in text, "prod runs redis 0.1.0"
        assert "2 Helm releases: frontend 1.3.0, redis 0.2.0" in text
    finally:
        backend.close()
    state, reading = _loading_state()
    assert "Helm releases: not read yet" in "\n".join(deletion.project_deletion(state, "demo", reading).lines())


def _loading_state() -> tuple[ManagementState, helm.HelmSources]:
    """The demo objects with a Helm reader that has not heard from every cluster yet."""
    backend = StaticBackend.from_file(FIXTURE)
    backend.close()

    class Reading:
        def __call__(self, state: ManagementState) -> list[Any]:
            return []

        def loading(self, state: ManagementState) -> bool:
            return True

    return backend.state, helm.HelmSources(Reading())


def test_helm_pane_says_loading_until_every_cluster_answered() -> None:
    """A reader still waiting for a cluster: 'Loading', never 'No Helm release found'."""
    state, reading = _loading_state()
    table = helm.helm_table(state, FROZEN_NOW, reading)
    assert table.rows == [] and table.empty == helm.LOADING
    none = helm.HelmSources()
    assert helm.helm_table(state, FROZEN_NOW, none).empty == helm.EMPTY
    assert helm.helm_table(ManagementState(), FROZEN_NOW, none).empty == helm.NO_PROJECT, "nothing listed yet: not 'none'"


def test_theme_given_on_the_command_line_is_remembered(console_home: Path, tmp_path: Path) -> None:
    """--theme NAME and --theme FILE are remembered; the next console without --theme opens with it."""
    dirs = (themes.builtin_dir(),)
    GitOpsApp(StaticBackend.from_file(FIXTURE), theme="gitops-light", live=False, theme_dirs=dirs)
    assert themes.remembered_theme() == "gitops-light"
    assert GitOpsApp(StaticBackend.from_file(FIXTURE), live=False, theme_dirs=dirs).theme == "gitops-light"
    mine = tmp_path / "mine.yaml"
    mine.write_text((themes.builtin_dir() / "gitops-dark.yaml").read_text().replace("name: gitops-dark",
                                                                                    "name: my-theme"))
    GitOpsApp(StaticBackend.from_file(FIXTURE), theme=str(mine), live=False, theme_dirs=dirs)
    assert GitOpsApp(StaticBackend.from_file(FIXTURE), live=False, theme_dirs=dirs).theme == "my-theme"
    GitOpsApp(StaticBackend.from_file(FIXTURE), theme="no-such-theme", live=False, theme_dirs=dirs)
    assert GitOpsApp(StaticBackend.from_file(FIXTURE), live=False, theme_dirs=dirs).theme == "my-theme", \
        "a theme that does not load is not remembered"


async def test_palette_lists_only_the_console_themes(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)):
        commands = list(app.get_system_commands(app.screen))
        titles = [c.title for c in commands]
        assert "Theme" not in titles, "Textual's picker lists its stock themes too"
        themed = sorted(t.removeprefix("Theme: ") for t in titles if t.startswith("Theme: "))
        assert themed == sorted(app.console_themes) and "textual-dark" not in themed
        assert "Quit" in titles and "New project" in titles


async def test_new_project_form_shows_the_refusal_beside_its_field_then_creates(make_app: Any) -> None:
    """A namespace another project owns is refused beside the namespace field; the form stays, then creates."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("1", "n")
        form = app.screen
        assert isinstance(form, ProjectForm)
        await pilot.press("ctrl+s")
        assert "A name is required." in screen_text(app) and "at least one cluster" in screen_text(app)
        await pilot.press(*"web", "tab", *"payments", "tab", "space", "ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is form
        label = form.query_one("#namespace-error")
        assert not label.has_class("-hidden") and "belongs to project payments" in str(label.render())
        assert app.backend.ops.calls == [("create_project", ("web", "payments", ("dev",)))]
        form.query_one("#namespace").value = "web"
        await pilot.press("ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert "web" in app.screen.pane._keys
        assert app.backend.state.get("projects", "", "web")["spec"]["placement"] == {"clusters": [{"name": "dev"}]}


async def test_new_secret_form_chooses_its_clusters(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("4", "n")
        form = app.screen
        assert isinstance(form, SecretForm)
        assert "[✓] dev" in screen_text(app) and "[✓] prod" in screen_text(app), "the project's clusters at first"
        form.query_one("#clusters", ClusterPicker).deselect("prod")
        await pilot.press(*"bot-token", "tab", "tab", *"bot", "tab", *"pw", "ctrl+s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        secret = app.backend.state.get("secrets", "demo", "bot-token")
        assert secret["spec"]["placement"] == {"clusters": [{"name": "dev"}, {"name": "staging"}]}


async def test_a_forbidden_write_turns_the_console_read_only(make_app: Any) -> None:
    """The management cluster answers 403 to a write: the console says so and offers no change any more."""
    app = make_app()

    def refused(*_: Any) -> str:
        raise PermissionError("the management cluster refused the change (HTTP 403)")

    app.backend.ops.suspend_source = refused
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "down", "s", *"why", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.read_only and "Suspend" not in _footer(app)
        assert "[write refused (HTTP 403)]" in screen_text(app).splitlines()[0]
        await pilot.press("s")
        assert isinstance(app.screen, MainScreen)


async def test_no_write_access_turns_the_console_read_only_and_says_so(make_app: Any) -> None:
    app = make_app()
    app.backend.denied = "no write access"
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        assert "Suspend" in _footer(app)
        app.screen.check_write_access()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.read_only and "[no write access]" in screen_text(app).splitlines()[0]
        assert "Suspend" not in _footer(app) and "Filter" in _footer(app)
        assert any("cannot write to the management cluster" in n.message for n in app._notifications)


async def test_describe_key_still_works_on_helm_and_yaml_is_not_offered(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("5")
        assert app.screen.check_action("yaml", ()) is False
        await pilot.press("d")
        assert isinstance(app.screen, TextView)


def test_helm_history_columns_are_as_wide_as_their_widest_value() -> None:
    """podinfo-frontend-1.3.0 is wider than the old fixed CHART column: every value starts under its header."""
    backend = StaticBackend.from_file(FIXTURE)
    try:
        all_rows = helm.helm_rows(backend.state, backend.helm)
        row = next(r for r in all_rows if r.key == "demo/frontend@1.3.0")
        lines = helm.detail_text(row, helm.release_history(row, backend.helm), all_rows).splitlines()
        header = next(line for line in lines if line.strip().startswith("REV"))
        entries = [line for line in lines[lines.index(header) + 1:] if "podinfo-frontend-" in line]
        assert entries
        for line in entries:
            for column in ("APP", "UPDATED", "DESCRIPTION"):
                start = header.index(column)
                assert line[start - 1] == " " and line[start] != " ", f"{column} misaligned:\n{header}\n{line}"
    finally:
        backend.close()


async def test_suspensions_say_who_and_since_when_at_80_columns(make_app: Any) -> None:
    """Sources keeps who and when in its message column (the URL and status word give way); Propagation's
    suspended cells name who and since when; the detail line carries the reason."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        row = next(line for line in screen_text(app).splitlines() if "frontend" in line)
        assert "by alice@10.0.0.7 42m" in row and "‖ frontend" in row, row
        await pilot.press("3")
        row = next(line for line in screen_text(app).splitlines() if "frontend" in line)
        assert row.count("‖ alice 42m") == 2, row
        assert "hotfix in progress on staging" in screen_text(app).splitlines()[-2]
