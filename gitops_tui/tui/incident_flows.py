"""The incident flows of the main screen: pin (with its preview), unpin and the tree of a source."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text

from gitops_tui.tui.base import ConsoleApp
from gitops_tui.views import model
from gitops_tui.views.pin_view import PinChoice, PinRequest, pin_preview_lead

if TYPE_CHECKING:
    from gitops_tui.tui.widgets.pane import ResourcePane


class IncidentFlows:
    """Mixin for the main screen: ``p`` pin, ``u`` unpin, ``t`` tree (Sources and Propagation)."""

    app: ConsoleApp
    if TYPE_CHECKING:  # MainScreen gives the active pane
        @property
        def pane(self) -> ResourcePane: ...
    _need_source: Callable[[], model.SourceView | None]
    _fetch_then: Callable[..., Any]
    run_op: Callable[..., Any]

    def action_pin(self) -> None:
        """Pin the source at a revision it applied: choose, say why, preview what changes, confirm."""
        from gitops_tui.tui.screens.pin_dialog import PinDialog
        source = self._need_source()
        if source is None:
            return
        ops = self.app.backend.ops

        def ask(choices: list[PinChoice]) -> None:
            if not choices:
                self.app.notify(f"{source.name} has applied no revision yet: nothing to pin to.", severity="warning")
                return
            self.app.push_screen(PinDialog(f"source {source.project}/{source.name}", choices, source.clusters),
                                 lambda request: self._preview_pin(source, request) if request else None)

        self._fetch_then("Pin", lambda: ops.pin_choices(source.project, source.name), ask)

    def _preview_pin(self, source: model.SourceView, request: PinRequest) -> None:
        from gitops_tui.tui.screens.dialogs import ConfirmDialog, diff_lines
        ops = self.app.backend.ops

        def confirm(preview: str) -> None:
            body = Text(pin_preview_lead(request, preview) + "\n\n")
            body.append_text(diff_lines(preview))
            self.app.push_screen(
                ConfirmDialog(f"Pin {source.name}", body, "Pin", variant="warning"),
                lambda ok: self.run_op(f"Pin {source.name}", ops.pin_source, source.project, source.name, request)
                if ok else None)

        self._fetch_then("Pin preview", lambda: ops.preview_pin(source.project, source.name, request), confirm)

    def action_unpin(self) -> None:
        """Unpin the source after a confirmation naming the pin."""
        from gitops_tui.tui.screens.dialogs import ConfirmDialog
        source = self._need_source()
        if source is None:
            return
        if source.pin is None:
            self.app.notify(f"{source.name} is not pinned.", severity="warning")
            return
        ops = self.app.backend.ops
        body = f"{source.name} is {source.pin.describe()}.\n\nUnpinning applies git's revision again at once."
        self.app.push_screen(ConfirmDialog(f"Unpin {source.name}", body, "Unpin"),
                             lambda ok: self.run_op(f"Unpin {source.name}", ops.unpin_source, source.project,
                                                    source.name) if ok else None)

    def action_tree(self) -> None:
        """Show the source across clusters: objects with kind, health, drift and field managers."""
        from gitops_tui.tui.screens.text import TextView
        source = self._need_source()
        if source is None:
            return
        ops = self.app.backend.ops
        self._fetch_then("Tree", lambda: ops.source_tree(source.project, source.name),
                         lambda text: self.app.push_screen(
                             TextView(f"Tree: {source.project}/{source.name}", text or "No tree recorded.")))
