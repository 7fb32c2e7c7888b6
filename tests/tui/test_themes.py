"""Theme files: the shipped ones load, a bad file gives a notification and the default, the choice is remembered."""

from __future__ import annotations

from pathlib import Path

from gitops_tui import themes
from gitops_tui.backends.static import StaticBackend
from gitops_tui.tui.app import GitOpsApp
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


def test_themes_are_found_in_the_checkout_then_the_install_prefix_then_the_data_dir(
        tmp_path: Path, monkeypatch, console_home: Path) -> None:
    """Repository themes/ first; without it (a wheel install) <sys.prefix>/share/gitops-tui/themes; then <data>/themes."""
    assert themes.builtin_dir() == themes.repo_dir() and (themes.repo_dir() / "gitops-dark.yaml").is_file()
    prefix = tmp_path / "venv"
    installed = prefix / "share" / "gitops-tui" / "themes"
    installed.mkdir(parents=True)
    for path in themes.repo_dir().glob("*.yaml"):
        (installed / path.name).write_text(path.read_text())
    monkeypatch.setattr(themes, "repo_dir", lambda: tmp_path / "no-checkout" / "themes")
    monkeypatch.setattr(themes.sys, "prefix", str(prefix))
    assert themes.builtin_dir() == installed
    user = console_home / "themes"
    user.mkdir(parents=True)
    (user / "mine.yaml").write_text((installed / "gitops-dark.yaml").read_text().replace(
        "name: gitops-dark", "name: mine"))
    assert themes.search_dirs() == (installed, user)
    loaded, errors = themes.load_themes()
    assert errors == [] and {"gitops-dark", "gitops-ansi16", "mine"} <= set(loaded)
    assert loaded["gitops-dark"].path == installed / "gitops-dark.yaml"
    monkeypatch.setattr(themes.sys, "prefix", str(tmp_path / "empty"))
    assert themes.builtin_dir() == tmp_path / "no-checkout" / "themes"
    assert set(themes.load_themes()[0]) == {"mine"}


def test_pyproject_ships_the_themes_as_data_files() -> None:
    """A wheel installs themes/*.yaml under share/gitops-tui/themes, where installed_dir() looks."""
    import tomllib

    root = themes.repo_dir().parent
    config = tomllib.loads((root / "pyproject.toml").read_text())
    assert config["tool"]["setuptools"]["data-files"] == {"share/gitops-tui/themes": ["themes/*.yaml"]}
    assert themes.installed_dir("/p") == Path("/p/share/gitops-tui/themes")
