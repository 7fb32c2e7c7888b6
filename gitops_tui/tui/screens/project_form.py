"""The new-project form: name, namespace, clusters; the management cluster's refusal shows beside its field."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Label

from gitops_tui.tui.screens.forms import FormDialog
from gitops_tui.tui.widgets.cluster_picker import ClusterPicker
from gitops_tui.views.forms import ProjectRequest, validate_project

#: Creates the project (blocking, in a worker); raises with a one-sentence message when refused.
Creator = Callable[[ProjectRequest], str]


class ProjectForm(FormDialog):
    """New project: its name, the namespace it owns on every cluster, the clusters it is placed on."""

    def __init__(self, clusters: list[str], known_projects: set[str], create: Creator) -> None:
        super().__init__()
        self.clusters = clusters
        """Every cluster, in the console's cluster order."""
        self.known_projects = known_projects
        self.create = create
        """Called with the request in a worker (FormDialog.submit_valid); the form closes only when it succeeds."""

    def compose(self) -> ComposeResult:
        """Lay out the widgets."""
        with Vertical():
            yield Label("New project", classes="title")
            with VerticalScroll():
                yield from self.field("Name", "name", Input(compact=True, placeholder="payments", id="name"))
                yield from self.field("Namespace", "namespace", Input(compact=True, placeholder="(the name)",
                                                                      id="namespace"))
                yield from self.field("Clusters", "clusters", ClusterPicker(self.clusters, [], id="clusters"))
            yield from self.buttons()

    def request(self) -> ProjectRequest:
        """Read the fields into a request."""
        return ProjectRequest(
            name=self.query_one("#name", Input).value.strip(),
            namespace=self.query_one("#namespace", Input).value.strip(),
            clusters=self.query_one("#clusters", ClusterPicker).chosen,
        )

    def action_submit(self) -> None:
        """Validate in place, then create; a refusal stays in the form beside its field."""
        req = self.request()
        errors = validate_project(req, self.known_projects, set(self.clusters))
        self.show_errors(errors)
        if not errors:
            self.submit_valid(req)
