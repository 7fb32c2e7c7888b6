"""Every module of gitops_tui/ stays under 400 lines: a module that grows past it has taken on a second job."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "gitops_tui"
MAX_LINES = 400


def lines_of(path: Path) -> int:
    """The number of lines in ``path``, as `wc -l` counts them."""
    return path.read_bytes().count(b"\n")


def test_no_module_is_over_400_lines() -> None:
    over = {str(p.relative_to(PACKAGE.parent)): n for p in sorted(PACKAGE.rglob("*.py"))
            if (n := lines_of(p)) > MAX_LINES}
    assert over == {}, "split these along their jobs (docs/architecture.md): " + ", ".join(
        f"{path} ({n} lines)" for path, n in over.items())


def test_the_count_sees_a_long_module(tmp_path: Path) -> None:
    long = tmp_path / "long.py"
    long.write_text('"""Long."""\n' + "x = 1\n" * MAX_LINES)
    assert lines_of(long) == MAX_LINES + 1 > MAX_LINES
