"""Fixtures for console tests: an app over the recorded demo objects, clock frozen, feed off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gitops_tui.backends.static import StaticBackend
from gitops_tui.themes import builtin_dir
from gitops_tui.tui.app import GitOpsApp

FIXTURE = Path(__file__).parent / "fixtures" / "demo.yaml"


@pytest.fixture
def console_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data directory so no remembered theme or log leaks in."""
    monkeypatch.setenv("GITOPS_TUI_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def make_app(console_home: Path) -> Callable[..., GitOpsApp]:
    """Build the console over the recorded demo objects (static backend, no feed, no blink)."""

    def build(theme: str = "gitops-dark", read_only: bool = False, **kwargs: object) -> GitOpsApp:
        backend = StaticBackend.from_file(FIXTURE)
        return GitOpsApp(backend, theme=theme, read_only=read_only, live=False, remember_theme=False,
                         theme_dirs=(builtin_dir(),), **kwargs)

    return build
