"""A new commit re-parses only the files it changed (issue 21 item 3): the last parse of a file is kept by its path
and content; a changed file is parsed again, and what a render returns is its own copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_tui.reconciler import render as render_mod
from gitops_tui.reconciler.render import render
from tests.world import configmap


def _tree(root: Path, values: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for name, value in values.items():
        (root / f"{name}.yaml").write_text(configmap(name, value))
    return root


def test_a_commit_reparses_only_its_changed_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two trees (two commits) of 20 files, one changed: the second render parses one file, and shows its change."""
    parsed: list[str] = []
    real = render_mod.load_documents
    monkeypatch.setattr(render_mod, "load_documents", lambda text, file: parsed.append(file) or real(text, file))
    values = {f"reuse-{i:02d}": "v1" for i in range(20)}
    first = render(_tree(tmp_path / "one", values))
    values["reuse-07"] = "v2"
    parsed.clear()
    second = render(_tree(tmp_path / "two", values))
    assert parsed == ["reuse-07.yaml"]
    assert [m.obj["data"]["value"] for m in second if m.obj["metadata"]["name"] == "reuse-07"] == ["v2"]
    assert [m.obj["data"]["value"] for m in first if m.obj["metadata"]["name"] == "reuse-07"] == ["v1"]


def test_what_a_render_returns_is_its_own(tmp_path: Path) -> None:
    """Changing the objects of one render (the reconciler labels them) changes nothing in the next one."""
    tree = _tree(tmp_path / "one", {"own": "v1"})
    render(tree)[0].obj["metadata"]["labels"] = {"changed": "yes"}
    assert "labels" not in render(tree)[0].obj["metadata"]
