"""At 80 columns the header keeps every count: the lease and context text shorten instead (views.header_fit)."""

from __future__ import annotations

from gitops_tui.views.header import STANDS_BY, HeaderInfo
from gitops_tui.views.header_fit import fit_header, header_parts


def _text(info: HeaderInfo, width: int) -> str:
    return "".join(p.text for p in fit_header(header_parts(info), width))


def test_every_count_stays_at_80_columns() -> None:
    info = HeaderInfo("sandbox/management-with-a-long-name", f"node-a/4242 · {STANDS_BY}", ready=12, failing=3,
                      suspended=2, progressing=1, read_only=True, stale=4, read_only_reason="no write access",
                      freezes="demo frozen on prod")
    text = _text(info, 78)
    assert len(text) <= 78, text
    for count in ("✓12", "✗3", "‖2", "↻1", "◌4"):
        assert count in text, f"{count} lost at 80 columns: {text}"
    assert "ctx:" in text and "lease:" in text and "‖ demo frozen" in text
    wide = _text(info, 200)
    assert f"lease:node-a/4242 · {STANDS_BY} " in wide and "ctx:sandbox/management-with-a-long-name " in wide


def test_nothing_is_cut_when_it_fits() -> None:
    info = HeaderInfo("sandbox/management", "this console", ready=1, failing=1, suspended=1, progressing=1)
    assert _text(info, 78) == "gitops-tui ctx:sandbox/management lease:this console ✓1 ✗1 ‖1 ↻1 "
