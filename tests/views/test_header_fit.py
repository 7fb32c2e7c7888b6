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


def test_sources_message_gets_its_share_before_the_url() -> None:
    """The URL shortens (then goes) before the Message is cut; the Message is whole at 140 and 160 columns."""
    from gitops_tui.backends.static import StaticBackend
    from gitops_tui.views.rows import clip, fit_table, sources_table
    from tests.tui.conftest import FIXTURE

    backend = StaticBackend.from_file(FIXTURE)
    table = sources_table(backend.state, backend.now())
    message = table.columns.index("Message")
    longest = max(len(r.cells[message]) for r in table.rows)
    for width in (140, 160):
        fitted, caps = fit_table(table, width - 2, 2)
        index = fitted.columns.index("Message")
        assert caps.get(index, longest) >= longest, f"{width} columns: the Message is cut while the URL is shown"
        if "URL" in fitted.columns:
            assert fitted.columns.index("URL") in caps or width >= 200
    frontend = next(r for r in table.rows if r.key == "demo/frontend")
    assert clip(frontend.cells[message], longest, "head") == frontend.cells[message]


def test_the_event_strip_bounds_its_source_column() -> None:
    from gitops_tui.views.rows import SOURCE_WIDTH, event_row

    name = "platform-infrastructure-controllers-cert-manager-webhooks"
    row = event_row({"type": "Normal", "reason": "Applied", "message": "ok", "metadata": {"namespace": "p", "name": "e"},
                     "involvedObject": {"kind": "FederatedKustomization", "name": name}})
    assert len(row.cells[2]) == SOURCE_WIDTH and row.cells[2].endswith("…") and row.tags["source"] == name


def test_describe_indents_its_wrapped_lines() -> None:
    from gitops_tui.views.details import hang

    text = ("Suspended:  ‖ by alice@10.0.0.7 42m ago: hotfix in progress on staging, waiting for the vendor to "
            "ship the patch\n  11:52:10 Warning staging  DriftDetected: Deployment demo/frontend: spec.replicas "
            "changed by kubectl-edit (not corrected: suspended)")
    lines = hang(text, 60).splitlines()
    assert all(len(line) <= 60 for line in lines)
    assert lines[1].startswith(" " * 12) and not lines[1].startswith(" " * 13), "under the value of 'Suspended:'"
    event = next(i for i, line in enumerate(lines) if "11:52:10" in line)
    assert lines[event + 1].startswith(" " * 6) and lines[event + 1].strip(), "an event's message continues indented"


def test_a_wrapped_tree_line_keeps_its_trunk() -> None:
    from gitops_tui.views.details import hang

    line = "│   └── Deployment demo/podinfo-1  InProgress  drift: modified: .spec.replicas managers: gitops-tui, kubectl"
    first, second = hang(line, 78).splitlines()
    assert first.startswith("│   └── ") and second.startswith("│           ") and second.strip()
