#!/usr/bin/env python3
"""The baseline of the console benchmark: a bare Textual app with a header, a table and a footer."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header


class BareApp(App):
    """A header, a table of 20 rows and a footer: what any Textual app paints first."""

    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        yield Header()
        yield DataTable()
        yield Footer()

    def on_mount(self) -> None:
        """Fill the table."""
        table = self.query_one(DataTable)
        table.add_columns("Name", "Status", "Revision")
        for index in range(20):
            table.add_row(f"row-{index}", "ready", f"main@{index:07x}")


if __name__ == "__main__":
    BareApp().run()
