"""The alert key of the main screen: A on Projects opens the new-alert form (the project's alerts listed in it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gitops_tui.tui.base import ConsoleApp
from gitops_tui.tui.form_results import form_project, told
from gitops_tui.views import model

if TYPE_CHECKING:
    from gitops_tui.tui.widgets.pane import ResourcePane


class AlertFlows:
    """Mixin for the main screen: ``A`` a new alert of the selected project."""

    app: ConsoleApp
    if TYPE_CHECKING:  # MainScreen gives the active pane
        @property
        def pane(self) -> ResourcePane: ...
    _project: Callable[[], str | None]
    _namespace_of: Callable[[str], str]
    _fetch_then: Callable[..., Any]

    def action_alert(self) -> None:
        """Open the new-alert form of the selected project after reading its alerts (their names are taken)."""
        from gitops_tui.tui.screens.alert_form import AlertForm
        project = form_project(self.app, self._project())
        if project is None:
            return
        secrets = model.secret_names(self.app.backend.state, self._namespace_of(project))
        ops = self.app.backend.ops
        done = told(self.app)

        def ask(alerts: list[dict[str, Any]]) -> None:
            known = [str(a.get("name") or "") for a in alerts]
            self.app.push_screen(AlertForm(project, secrets, known, ops.create_alert), done)

        self._fetch_then("Alerts", lambda: ops.project_alerts(project), ask)
