"""The new-project, new-source and new-secret forms, validated in place (a message beside each bad field)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select

from gitops_tui.tui.screens.dialogs import Dialog
from gitops_tui.tui.widgets.cluster_picker import ClusterPicker
from gitops_tui.views.forms import (
    REF_KINDS,
    SECRET_KINDS,
    SecretRequest,
    SourceRequest,
    refused_field,
    refused_source_field,
    validate_secret,
    validate_source,
)


class FormDialog(Dialog):
    """A dialog of labelled fields, each with an error line; ctrl+s or the button submits."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "submit", "Create")]
    AUTO_FOCUS = "#name"
    DEFAULT_CSS = """
    FormDialog VerticalScroll { height: auto; max-height: 18; }
    FormDialog .field { height: auto; }
    FormDialog .field > Label.name { width: 12; padding-top: 0; }
    FormDialog .field Input { width: 1fr; }
    FormDialog .field Select { width: 1fr; }
    FormDialog Label.error { padding-left: 12; width: 100%; }
    FormDialog .-hidden { display: none; }
    """

    def field(self, label: str, key: str, widget: Widget) -> ComposeResult:
        """Yield one labelled field row and its error line."""
        with Horizontal(classes="field", id=f"row-{key}"):
            yield Label(label, classes="name")
            yield widget
        yield Label("", id=f"{key}-error", classes="error -hidden")

    def show_errors(self, errors: dict[str, str]) -> None:
        """Put each message beside its field; focus the first bad one."""
        first = None
        for label in self.query("Label.error").results(Label):
            key = (label.id or "").removesuffix("-error")
            label.update(errors.get(key, ""))
            label.set_class(key not in errors, "-hidden")
            if key in errors and first is None:
                first = key
        if first is not None:
            widget = self.query_one(f"#row-{first}").children[1]
            widget.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Editing a field takes its message away until the next submit."""
        self.clear_error(event.input.id or "")

    def on_selection_list_selected_changed(self, event: ClusterPicker.SelectedChanged) -> None:
        """Choosing a cluster takes the clusters message away."""
        self.clear_error(event.selection_list.id or "")

    def clear_error(self, key: str) -> None:
        """Hide the message under one field."""
        for label in self.query(f"#{key}-error"):
            label.set_class(True, "-hidden")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a field submits the form."""
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Create or cancel."""
        if event.button.id == "ok":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_submit(self) -> None:
        """Validate and dismiss with the request (subclasses)."""
        raise NotImplementedError

    create: Callable[[Any], str] | None = None
    """When set, the form creates the object itself (in a worker) and stays open with a refusal beside its field."""

    def submit_valid(self, request: Any) -> None:
        """A request that passed the checks: create it here (``create``), else hand it to the caller."""
        if self.create is None:
            self.dismiss(request)
        else:
            self._create(request)

    @work(thread=True, exclusive=True, group="form create", exit_on_error=False)
    def _create(self, request: Any) -> None:
        assert self.create is not None
        try:
            result = self.create(request)
        except Exception as exc:  # noqa: BLE001 - every refusal is one sentence beside its field
            message = str(exc).rstrip(".") + "."
            self.app.call_from_thread(self._refused, message)
            return
        self.app.call_from_thread(self.dismiss, result)

    def _refused(self, message: str) -> None:
        self.show_errors({self.refused_field(message): message[:1].upper() + message[1:]})

    def refused_field(self, message: str) -> str:
        """The field a refusal from the management side is about."""
        return refused_field(message)

    def buttons(self) -> ComposeResult:
        """The Create / Cancel buttons and the key hint."""
        with Horizontal(classes="buttons"):
            yield Label("enter / ctrl+s: create   esc: cancel", classes="hint")
            yield Button(compact=True, label="Create", variant="primary", id="ok")
            yield Button(compact=True, label="Cancel", id="cancel")


class SourceForm(FormDialog):
    """New GitOps source: URL, ref, path, a secret from a list, clusters to place on.

    With ``create`` the form creates the source itself; a refusal (a URL outside the allowed directories, a name
    taken meanwhile) stays in the form beside the field it is about.
    """

    def __init__(self, namespace: str, project: str, secrets: list[str], clusters: list[str],
                 known_sources: set[str], default_clusters: list[str],
                 create: Callable[[SourceRequest], str] | None = None) -> None:
        super().__init__()
        self.create = create
        self.namespace = namespace
        self.project = project
        self.secrets = secrets
        self.clusters = clusters
        self.known_sources = known_sources
        self.default_clusters = default_clusters

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical():
            yield Label(f"New source in project {self.project}", classes="title")
            with VerticalScroll():
                yield from self.field("Name", "name", Input(compact=True, placeholder="podinfo", id="name"))
                yield from self.field("Git URL", "url", Input(compact=True, placeholder="https://github.com/org/repo", id="url"))
                yield from self.field("Ref kind", "ref_kind", Select(compact=True, options=[(k, k) for k in REF_KINDS], value="branch",
                                                                     allow_blank=False, id="ref_kind"))
                yield from self.field("Ref", "ref", Input(compact=True, value="main", id="ref"))
                yield from self.field("Path", "path", Input(compact=True, value="./", id="path"))
                options = [("(no secret)", "")] + [(s, s) for s in self.secrets]
                yield from self.field("Secret", "secret", Select(compact=True, options=options, value="", allow_blank=False, id="secret"))
                yield from self.field("Clusters", "clusters", ClusterPicker(self.clusters, self.default_clusters,
                                                                            id="clusters"))
                yield from self.field("Interval", "interval", Input(compact=True, value="1m", id="interval"))
            yield from self.buttons()

    def request(self) -> SourceRequest:
        """Read the fields into a request."""
        return SourceRequest(
            project=self.project,
            namespace=self.namespace,
            name=self.query_one("#name", Input).value.strip(),
            url=self.query_one("#url", Input).value.strip(),
            ref_kind=str(self.query_one("#ref_kind", Select).value),
            ref=self.query_one("#ref", Input).value.strip(),
            path=self.query_one("#path", Input).value.strip() or "./",
            secret=str(self.query_one("#secret", Select).value or ""),
            clusters=self.query_one("#clusters", ClusterPicker).chosen,
            interval=self.query_one("#interval", Input).value.strip(),
        )

    def action_submit(self) -> None:
        """Validate in place; dismiss with the request when valid."""
        req = self.request()
        errors = validate_source(req, self.known_sources, set(self.clusters))
        self.show_errors(errors)
        if not errors:
            self.submit_valid(req)

    def refused_field(self, message: str) -> str:
        """The source field a refusal is about (the URL for a repository the reconciler may not read)."""
        return refused_source_field(message)


class SecretForm(FormDialog):
    """New git-credentials secret: basic (username + masked password), token, or SSH key file."""

    def __init__(self, namespace: str, project: str, known_secrets: set[str], clusters: list[str],
                 default_clusters: list[str]) -> None:
        super().__init__()
        self.namespace = namespace
        self.project = project
        self.known_secrets = known_secrets
        self.clusters = clusters
        """Every cluster, in the console's cluster order."""
        self.default_clusters = default_clusters
        """The project's clusters, chosen at first."""

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical():
            yield Label(f"New secret in project {self.project}", classes="title")
            with VerticalScroll():
                yield from self.field("Name", "name", Input(compact=True, placeholder="git-creds", id="name"))
                yield from self.field("Kind", "kind", Select(compact=True, options=[(k, k) for k in SECRET_KINDS], value="basic",
                                                             allow_blank=False, id="kind"))
                yield from self.field("Username", "username", Input(compact=True, id="username"))
                yield from self.field("Password", "password", Input(compact=True, password=True, id="password"))
                yield from self.field("Token", "token", Input(compact=True, password=True, id="token"))
                yield from self.field("SSH key", "identity", Input(compact=True, placeholder="path to a private key file",
                                                                   id="identity"))
                yield from self.field("Clusters", "clusters", ClusterPicker(self.clusters, self.default_clusters,
                                                                            id="clusters"))
            yield from self.buttons()

    def on_mount(self) -> None:
        """Show the fields of the default kind."""
        super().on_mount()
        self._show_kind("basic")

    def on_select_changed(self, event: Select.Changed) -> None:
        """Show only the fields of the chosen kind."""
        if event.select.id == "kind":
            self._show_kind(str(event.value))

    def _show_kind(self, kind: str) -> None:
        wanted = {"basic": ("username", "password"), "token": ("token",), "ssh": ("identity",)}.get(kind, ())
        for key in ("username", "password", "token", "identity"):
            self.query_one(f"#row-{key}").set_class(key not in wanted, "-hidden")

    def request(self) -> tuple[SecretRequest, dict[str, str]]:
        """Read the fields (the SSH key from its file) into a request plus read errors."""
        kind = str(self.query_one("#kind", Select).value)
        errors: dict[str, str] = {}
        identity = ""
        if kind == "ssh":
            key_path = self.query_one("#identity", Input).value.strip()
            try:
                identity = Path(key_path).expanduser().read_text() if key_path else ""
            except (OSError, UnicodeDecodeError):
                errors["identity"] = "That key file cannot be read."
        req = SecretRequest(
            project=self.project,
            namespace=self.namespace,
            name=self.query_one("#name", Input).value.strip(),
            kind=kind,
            username=self.query_one("#username", Input).value.strip(),
            password=self.query_one("#password", Input).value,
            token=self.query_one("#token", Input).value.strip(),
            identity=identity,
            clusters=self.query_one("#clusters", ClusterPicker).chosen,
        )
        return req, errors

    def action_submit(self) -> None:
        """Validate in place; dismiss with the request when valid."""
        req, errors = self.request()
        errors = {**validate_secret(req, self.known_secrets), **errors}
        self.show_errors(errors)
        if not errors:
            self.dismiss(req)
