"""The live backend's freeze operations: suspend and resume (some clusters, an expiry), project freezes, break glass."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_tui.api.formats import short_revision
from gitops_tui.api.freeze import source_freeze
from gitops_tui.views.freeze import FreezeChoice
from gitops_tui.views.preview import format_preview


def _request(freeze: Any, reason: str, choice: FreezeChoice | None) -> Any:
    """An actions.freeze.FreezeRequest from the dialog's reason and choice."""
    return freeze.FreezeRequest(reason, **(choice or FreezeChoice()).request_fields())


class LiveFreezeOperations:
    """Freeze operations through gitops_tui.actions.freeze (called in workers); LiveOperations gives ``api``."""

    if TYPE_CHECKING:  # LiveOperations gives the management client
        @property
        def api(self) -> Any: ...
    data_dir: Path

    def suspend_source(self, project: str, name: str, reason: str, choice: FreezeChoice | None = None) -> str:
        """Suspend one source (an expiry, some clusters), or extend its freeze."""
        from gitops_tui.actions import freeze

        source = freeze.freeze_source(self.api, project, name, _request(freeze, reason, choice))
        frozen = source_freeze(source.kustomization)
        return f"Suspended {name} on {frozen.where() if frozen else 'every cluster'}: {reason}"

    def resume_source(self, project: str, name: str, clusters: tuple[str, ...] = ()) -> str:
        """Resume one source, on every cluster or on ``clusters``."""
        from gitops_tui.actions import freeze

        freeze.resume_source(self.api, project, name, list(clusters) or None)
        return f"Resumed {name}{' on ' + ', '.join(clusters) if clusters else ''}."

    def suspend_project(self, project: str, reason: str, choice: FreezeChoice | None = None) -> str:
        """Freeze a project: its sources, present or created later, are held."""
        from gitops_tui.actions import freeze

        frozen = freeze.freeze_project(self.api, project, _request(freeze, reason, choice))
        return f"Froze project {project} on {frozen.where()}: every source of it is held."

    def resume_project(self, project: str, clusters: tuple[str, ...] = ()) -> str:
        """Lift the project's freeze and resume its suspended sources (on ``clusters`` when given)."""
        from gitops_tui.actions import freeze

        done = freeze.resume_project(self.api, project, list(clusters) or None)
        return f"Resumed project {project}{' on ' + ', '.join(clusters) if clusters else ''} ({len(done)} source(s))."

    def break_glass(self, project: str, name: str, reason: str, revision: str = "",
                    clusters: tuple[str, ...] = ()) -> str:
        """Apply exactly ``revision`` once on the frozen ``clusters`` (as the dialog showed); they stay suspended."""
        from gitops_tui.actions import freeze

        freeze.break_glass(self.api, project, name, reason, revision=revision, clusters=list(clusters) or None)
        where = ", ".join(clusters) or "its frozen clusters"
        return f"Break glass on {name}: {short_revision(revision) or 'its revision'} is applied once on {where}."

    def preview_project_resume(self, project: str) -> str:
        """What resuming reverts, source by source ('nothing to revert' for a source with nothing)."""
        from gitops_tui.actions import freeze

        blocks = []
        for preview in freeze.preview_project_resume(self.api, project, self.data_dir / "reconciler"):
            body = preview.error or (format_preview(preview.report) if preview.report else "")
            blocks.append(f"# {preview.name}\n{body or 'nothing to revert'}")
        return "\n".join(blocks)


