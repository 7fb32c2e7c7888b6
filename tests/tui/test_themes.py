"""Theme files: the shipped ones load, a bad file gives a notification and the default, the choice is remembered."""

from __future__ import annotations

from pathlib import Path

from gitops_tui import themes
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.views.static import StaticBackend
from tests.tui.conftest import FIXTURE


def test_shipped_themes_load() -> None:
    loaded, errors = themes.load_themes(themes.builtin_dir())
    assert errors == []
    assert {"gitops-dark", "gitops-light", "gitops-high-contrast", "gitops-ansi16"} <= set(loaded)
    assert loaded["gitops-ansi16"].ansi


def test_bad_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n")
    (tmp_path / "nocolour.yaml").write_text("name: x\nprimary: not a colour!\n")
    loaded, errors = themes.load_themes(tmp_path)
    assert loaded == {} and len(errors) == 2


async def test_bad_theme_file_notifies_and_uses_default(tmp_path: Path, console_home: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nprimary: '#12345G'\n")
    app = GitOpsApp(StaticBackend.from_file(FIXTURE), theme=str(bad), live=False, remember_theme=False,
                    theme_dirs=(themes.builtin_dir(),))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == themes.DEFAULT_THEME
        assert any("bad.yaml" in n.message for n in app._notifications)


async def test_theme_choice_is_remembered(console_home: Path) -> None:
    app = GitOpsApp(StaticBackend.from_file(FIXTURE), live=False, theme_dirs=(themes.builtin_dir(),))
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = "gitops-light"
        await pilot.pause()
    assert themes.remembered_theme() == "gitops-light"
    again = GitOpsApp(StaticBackend.from_file(FIXTURE), live=False, theme_dirs=(themes.builtin_dir(),))
    assert again.theme == "gitops-light"
