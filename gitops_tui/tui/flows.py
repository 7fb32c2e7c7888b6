"""The operator's flows (reconcile, new, delete, YAML, describe; freezes in freeze_flows.py) as screen actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work

from gitops_tui.tui.base import ConsoleApp
from gitops_tui.tui.form_results import form_project, told
from gitops_tui.tui.freeze_flows import FreezeFlows
from gitops_tui.tui.messages import OperationDone, StateChanged
from gitops_tui.views import deletion, details, helm, model, rows
from gitops_tui.views.access import WRITE_REFUSED, is_forbidden

if TYPE_CHECKING:
    from gitops_tui.tui.widgets.pane import ResourcePane

_PANE_KIND_KEYS = {"project": "projects", "secret": "secrets", "cluster": "clusters", "event": "events"}


class Flows(FreezeFlows):
    """Mixin for the main screen: each ``action_*`` is one key of DESIGN.md section 8 (freezes: FreezeFlows)."""

    app: ConsoleApp
    if TYPE_CHECKING:  # MainScreen gives the active pane, the source under the cursor and the read-only switch
        @property
        def pane(self) -> ResourcePane: ...

        def selected_source(self) -> model.SourceView | None: ...

        def turn_read_only(self, reason: str) -> None: ...

    # Helpers ----------------------------------------------------------------------------------

    def _project(self) -> str | None:
        """The project of the selection (Projects row, or a source's / secret's project)."""
        state = self.app.backend.state
        key = self.pane.selected_key()
        if self.pane.object_kind == "project":
            return key
        if self.pane.object_kind == "source":
            source = self.selected_source()
            return source.project if source else None
        if self.pane.object_kind == "secret" and key:
            return model.project_by_namespace(state).get(key.split("/", 1)[0])
        projects = state.items("projects")
        return projects[0]["metadata"]["name"] if projects else None

    def _namespace_of(self, project: str) -> str:
        for ns, name in model.project_by_namespace(self.app.backend.state).items():
            if name == project:
                return ns
        return project

    def _need_source(self) -> model.SourceView | None:
        source = self.selected_source()
        if source is None:
            self.app.notify("Select a source first (Sources or Propagation pane).", severity="warning")
        return source

    def _when_confirmed(self, label: str, call: Callable[..., Any], *args: Any) -> Callable[[Any], None]:
        """A dialog callback: run the operation when the dialog answered yes."""
        def go(ok: Any) -> None:
            if ok:
                self.run_op(label, call, *args)
        return go

    @staticmethod
    def _with_answer(then: Callable[[Any], object]) -> Callable[[Any], None]:
        """A dialog callback: continue with the answer unless the dialog was dismissed without one."""
        def go(answer: Any) -> None:
            if answer:
                then(answer)
        return go

    @work(thread=True, group="ops", exit_on_error=False)
    def run_op(self, label: str, call: Callable[..., Any], *args: Any) -> None:
        """Run one operation in a thread; report the result as a notification."""
        if self.app.read_only:
            self.app.post_message(OperationDone("Read-only: nothing was changed.", ok=False))
            return
        try:
            result = call(*args)
        except Exception as exc:  # noqa: BLE001 - every failure becomes one notification
            self.app.log_error(label, exc)
            self.app.post_message(OperationDone(f"{label} failed: {exc}", ok=False))
            if is_forbidden(exc):
                self.app.call_from_thread(self.turn_read_only, WRITE_REFUSED)
            return
        self.app.post_message(OperationDone(result if isinstance(result, str) and result else f"{label}: done."))
        self.app.post_message(StateChanged())

    @work(thread=True, group="ops", exit_on_error=False)
    def _fetch_then(self, label: str, fetch: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """Fetch something in a thread (a preview), then continue on the UI thread."""
        try:
            value = fetch()
        except Exception as exc:  # noqa: BLE001
            self.app.log_error(label, exc)
            self.app.post_message(OperationDone(f"{label} failed: {exc}", ok=False))
            return
        self.app.call_from_thread(then, value)

    # Actions ----------------------------------------------------------------------------------

    def action_reconcile(self) -> None:
        """Ask for a reconcile now."""
        source = self._need_source()
        if source is not None:
            self.run_op(f"Reconcile {source.name}", self.app.backend.ops.request_reconcile,
                        source.project, source.name)

    def action_delete(self) -> None:
        """Delete the source, secret or project after a confirmation listing what each cluster loses."""
        from gitops_tui.tui.screens.dialogs import ConfirmDialog, delete_body
        if self.pane.object_kind == "secret":
            self._delete_secret()
            return
        if self.pane.object_kind == "project":
            self._delete_project()
            return
        source = self._need_source()
        if source is None:
            return
        ops = self.app.backend.ops

        def confirm(objects: dict[str, list[str]]) -> None:
            body = delete_body(f"source {source.project}/{source.name}", objects)
            self.app.push_screen(
                ConfirmDialog(f"Delete {source.name}", body, "Delete", variant="error"),
                self._when_confirmed(f"Delete {source.name}", ops.delete_source, source.project, source.name),
            )

        self._fetch_then("Delete preview", lambda: ops.delete_preview(source.project, source.name), confirm)

    def _delete_secret(self) -> None:
        """Delete the highlighted secret; the confirmation lists the clusters that lose it."""
        from gitops_tui.tui.screens.dialogs import ConfirmDialog
        namespace, _, name = (self.pane.selected_key() or "").partition("/")
        plan = deletion.secret_deletion(self.app.backend.state, namespace, name)
        if plan is None:
            self.app.notify("Select a secret first.", severity="warning")
            return
        ops = self.app.backend.ops
        self.app.push_screen(
            ConfirmDialog(f"Delete secret {plan.name}", "\n".join(plan.lines()), "Delete", variant="error"),
            self._when_confirmed(f"Delete secret {plan.name}", ops.delete_secret, plan.project, plan.name),
        )

    def _delete_project(self) -> None:
        """Delete the highlighted project; the confirmation lists what goes and the clusters losing its namespace."""
        from gitops_tui.tui.screens.dialogs import ConfirmDialog
        plan = deletion.project_deletion(self.app.backend.state, self.pane.selected_key() or "", self.app.backend.helm)
        if plan is None:
            self.app.notify("Select a project first.", severity="warning")
            return
        ops = self.app.backend.ops
        self.app.push_screen(
            ConfirmDialog(f"Delete project {plan.project}", "\n".join(plan.lines()), "Delete", variant="error"),
            self._when_confirmed(f"Delete project {plan.project}", ops.delete_project, plan.project),
        )

    def action_new(self) -> None:
        """New project on Projects, new secret on Secrets, else a new source."""
        if self.pane.object_kind == "project":
            self.action_new_project()
            return
        self._new("secret" if self.pane.object_kind == "secret" else "source")

    def action_new_project(self) -> None:
        """Open the new-project form; it creates the project itself and shows a refusal beside its field."""
        from gitops_tui.tui.screens.project_form import ProjectForm
        if self.app.read_only:
            return
        state = self.app.backend.state
        known = {p["metadata"]["name"] for p in state.items("projects")}
        self.app.push_screen(ProjectForm(rows.all_clusters(state), known, self.app.backend.ops.create_project),
                             told(self.app))

    def action_new_source(self) -> None:
        """Open the new-source form."""
        self._new("source")

    def action_new_secret(self) -> None:
        """Open the new-secret form."""
        self._new("secret")

    def _new(self, what: str) -> None:
        from gitops_tui.tui.screens.forms import SecretForm, SourceForm
        project = form_project(self.app, self._project())
        if project is None:
            return
        state = self.app.backend.state
        namespace = self._namespace_of(project)
        secrets = model.secret_names(state, namespace)
        ops = self.app.backend.ops
        clusters = rows.all_clusters(state)
        project_obj = next((p for p in state.items("projects") if p["metadata"]["name"] == project), None)
        placed = model.project_clusters(project_obj, state.items("clusters"))
        if what == "secret":
            self.app.push_screen(
                SecretForm(namespace, project, set(secrets), clusters, placed),
                self._with_answer(lambda req: self.run_op(f"Create secret {req.name}", ops.create_secret, req)),
            )
            return
        sources = {s.name for s in model.sources(state) if s.namespace == namespace}
        form = SourceForm(namespace, project, secrets, clusters, sources, placed, create=ops.create_source)
        self.app.push_screen(form, told(self.app))

    def _selected_objects(self) -> tuple[str, list[dict[str, Any]]]:
        state = self.app.backend.state
        source = self.selected_source()
        if source is not None:
            return f"{source.project}/{source.name}", [o for o in (source.repository, source.kustomization) if o]
        key = self.pane.selected_key()
        kind = _PANE_KIND_KEYS.get(self.pane.object_kind)
        if not key or kind is None:
            return "", []
        ns, _, name = key.rpartition("/")
        if kind == "clusters":
            obj = next((c for c in state.items("clusters") if c["metadata"]["name"] == key), None)
        elif kind == "events":
            obj = next((e for e in state.items("events")
                        if f"{e['metadata'].get('namespace', '')}/{e['metadata'].get('name', '')}" == key), None)
        else:
            obj = state.get(kind, ns, name)
        return key, [obj] if obj else []

    def action_yaml(self) -> None:
        """Show the YAML of the selected object (secret values redacted)."""
        from gitops_tui.tui.screens.text import TextView
        title, objects = self._selected_objects()
        if not objects:
            self.app.notify("Nothing selected.", severity="warning")
            return
        self.app.push_screen(TextView(f"YAML: {title}", details.to_yaml(*objects), language="yaml"))

    def action_describe(self) -> None:
        """Describe the selected object: conditions, clusters, events (a Helm release: its history per cluster)."""
        from gitops_tui.tui.screens.text import TextView
        source = self.selected_source()
        backend = self.app.backend
        if self.pane.object_kind == "helm":
            self._describe_release()
            return
        if source is not None:
            body = details.describe_source(source, backend.state, backend.now())
            self.app.push_screen(TextView(f"Describe: {source.project}/{source.name}", body))
            return
        title, objects = self._selected_objects()
        if not objects:
            self.app.notify("Nothing selected.", severity="warning")
            return
        body = details.describe_object(objects[0])
        if objects[0].get("kind") == "Project":
            name = str((objects[0].get("metadata") or {}).get("name") or "")
            self._fetch_then("Alerts", lambda: backend.ops.project_alerts(name),
                             lambda alerts: self.app.push_screen(TextView(
                                 f"Describe: {title}", "\n".join([body, *details.alert_lines(alerts)]))))
            return
        self.app.push_screen(TextView(f"Describe: {title}", body))

    def _describe_release(self) -> None:
        """Open the per-cluster detail of the highlighted Helm release with its revision history."""
        from gitops_tui.tui.screens.text import TextView
        key = self.pane.selected_key()
        all_rows = helm.helm_rows(self.app.backend.state, self.app.backend.helm)
        row = next((r for r in all_rows if r.key == key), None)
        if row is None:
            self.app.notify("Select a Helm release first.", severity="warning")
            return
        body = helm.detail_text(row, helm.release_history(row, self.app.backend.helm), all_rows,
                                model.cluster_order(self.app.backend.state))
        self.app.push_screen(TextView(f"Helm release: {row.namespace}/{row.name} {row.chart_version}", body))

    def action_help(self) -> None:
        """Show the keys."""
        from gitops_tui.tui.screens.text import HelpScreen
        self.app.push_screen(HelpScreen(self.app.read_only, self.app.remapped_keys))

