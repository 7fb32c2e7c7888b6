"""Keys once: every key has an id and a description; help, footer and README come from tui/keymap.py's KEYS."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_tui.tui import keymap

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_key_has_one_id_a_label_and_a_description() -> None:
    ids = [k.id for k in keymap.KEYS]
    assert len(ids) == len(set(ids)), "ids are unique"
    assert all(k.description for k in keymap.KEYS)
    assert all(k.label and k.keys for k in keymap.KEYS if k.binds)
    bound = [b for b in keymap.BINDINGS if not isinstance(b, tuple)]
    assert all(b.id for b in bound), "a user keymap can name every binding"
    assert {b.id for b in bound} >= {k.id for k in keymap.KEYS if k.binds}


def test_footer_and_help_come_from_the_same_keys() -> None:
    footer = [b.description for b in keymap.BINDINGS if not isinstance(b, tuple) and b.show]
    # Approve is bound for the footer but offered only while a wave awaits it (MainScreen.check_action)
    assert footer == ["Suspend", "Resume", "Reconcile", "Window", "Override", "Approve", "New", "Delete", "Filter",
                      "Help", "Quit"]
    assert [a for _, a, _ in keymap.HELP][:3] == ["suspend", "resume", "resume_clusters"]
    delete = next(k for k in keymap.KEYS if k.id == "delete")
    assert ("ctrl+d", "delete", delete.description) in keymap.HELP


def test_readme_keymap_table_is_the_generated_one() -> None:
    """README's table is `keymap.readme_table()`: paste its output into README when a key changes."""
    assert keymap.readme_table() in README.read_text()


def test_a_user_keymap_remaps_known_ids_and_names_each_mistake(tmp_path: Path) -> None:
    path = tmp_path / "keymap.toml"
    path.write_text('[keys]\nnew = "a"\nfilter = "f,slash"\nlaunch = "x"\nquit = "q q"\n')
    remapped, problems = keymap.load_user_keymap(path)
    assert remapped == {"new": "a", "filter": "f,slash"}
    assert len(problems) == 2
    assert "'launch' is not a key id" in problems[0]
    assert "quit = 'q q' is not a key name" in problems[1]
    assert keymap.help_lines(remapped)[keymap.HELP.index(next(h for h in keymap.HELP if h[1] == "new"))][0] == "a"


@pytest.mark.parametrize("text, problem", [
    ("[keys\n", "is not read"),
    ('keys = "x"\n', "has no [keys] table"),
])
def test_a_broken_keymap_file_remaps_nothing_and_says_why(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "keymap.toml"
    path.write_text(text)
    remapped, problems = keymap.load_user_keymap(path)
    assert remapped == {} and len(problems) == 1 and problem in problems[0]


def test_no_keymap_file_is_no_remap(tmp_path: Path) -> None:
    assert keymap.load_user_keymap(tmp_path / "absent.toml") == ({}, [])


def test_a_remapped_key_shows_in_the_footer(snap_compare, make_app, tmp_path: Path) -> None:
    """`new = "a"` in the operator's keymap: the footer says `a New`, and `a` opens the new-source form."""
    path = tmp_path / "keymap.toml"
    path.write_text('[keys]\nnew = "a"\n')
    assert snap_compare(make_app(keymap_file=path), press=["2"], terminal_size=(120, 36))
