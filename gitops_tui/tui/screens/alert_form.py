"""The new-alert form (A on Projects): name, format, URL, events, a signing secret; created by the form itself."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Label, Select, Static

from gitops_tui.api import alerts as al
from gitops_tui.tui.screens.forms import FormDialog
from gitops_tui.tui.widgets.cluster_picker import ClusterPicker
from gitops_tui.views.alert_form import DEFAULT_EVENTS, AlertRequest, refused_alert_field, validate_alert

#: Creates the alert (blocking, in a worker); raises with a one-sentence message when refused.
Creator = Callable[[AlertRequest], str]


class AlertForm(FormDialog):
    """New alert of a project: where it posts, in which format, on which events, signed with which secret."""

    def __init__(self, project: str, secrets: list[str], known_alerts: list[str], create: Creator) -> None:
        super().__init__()
        self.project = project
        self.secrets = secrets
        """The project's secrets, offered as the signing key (key ``token``)."""
        self.known_alerts = list(known_alerts)
        self.create = create
        """Called with the request in a worker (FormDialog.submit_valid); the form closes only when it succeeds."""

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        known = ", ".join(self.known_alerts) or "none"
        with Vertical():
            yield Label(f"New alert of project {self.project}", classes="title")
            yield Static(f"Its alerts: {known}. Addresses obey the reconciler's allow-list.", classes="hint")
            with VerticalScroll():
                yield from self.field("Name", "name", Input(compact=True, placeholder="oncall", id="name"))
                yield from self.field("Format", "format", Select(compact=True, options=[(f, f) for f in al.FORMATS],
                                                                 value=al.FORMAT_GENERIC, allow_blank=False,
                                                                 id="format"))
                yield from self.field("URL", "url", Input(compact=True, placeholder="https://hooks.example.com/...",
                                                          id="url"))
                yield from self.field("Events", "events", ClusterPicker(list(al.EVENT_KINDS), list(DEFAULT_EVENTS),
                                                                        id="events"))
                options = [("(none)", "")] + [(s, s) for s in self.secrets]
                yield from self.field("Secret", "secret", Select(compact=True, options=options, value="",
                                                                 allow_blank=False, id="secret"))
                yield from self.field("or value", "secret_value", Input(
                    compact=True, password=True, placeholder="a new signing key (kept in a Secret)",
                    id="secret_value"))
            yield from self.buttons()

    def request(self) -> AlertRequest:
        """Read the fields into a request."""
        return AlertRequest(
            project=self.project,
            name=self.query_one("#name", Input).value.strip(),
            format=str(self.query_one("#format", Select).value),
            url=self.query_one("#url", Input).value.strip(),
            events=self.query_one("#events", ClusterPicker).chosen,
            secret=str(self.query_one("#secret", Select).value or ""),
            secret_value=self.query_one("#secret_value", Input).value,
        )

    def action_submit(self) -> None:
        """Validate in place, then create; a refusal stays in the form beside its field."""
        req = self.request()
        errors = validate_alert(req, set(self.known_alerts))
        self.show_errors(errors)
        if not errors:
            self.submit_valid(req)

    def refused_field(self, message: str) -> str:
        """The alert field a refusal is about."""
        return refused_alert_field(message)
