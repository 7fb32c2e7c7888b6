"""What the main screen's create forms share: the project they need first, and how a form's own write is told."""

from __future__ import annotations

from collections.abc import Callable

from gitops_tui.tui.base import ConsoleApp
from gitops_tui.tui.messages import OperationDone, StateChanged

#: The hint when a form needs a project and there is none.
NO_PROJECT = "Create a project first: n on the Projects pane."


def form_project(app: ConsoleApp, project: str | None) -> str | None:
    """The project a create form is for: None on a read-only console, or (with a hint) when there is no project."""
    if app.read_only:
        return None
    if project is None:
        app.notify(NO_PROJECT, severity="warning")
    return project


def told(app: ConsoleApp) -> Callable[[str | None], None]:
    """The callback of a form that wrote itself: its one-line result as a notification, then a redraw."""

    def done(result: str | None) -> None:
        if result:
            app.post_message(OperationDone(result))
            app.post_message(StateChanged())

    return done
