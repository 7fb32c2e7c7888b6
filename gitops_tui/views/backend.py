"""The console's backend contract: a state to read, a change feed, and operations to call.

Implemented by ``gitops_tui.backends`` (``live.LiveBackend``, ``static.StaticBackend``); views never do I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from gitops_tui.views.alert_form import AlertRequest
from gitops_tui.views.controls import OverrideRequest, WindowRequest
from gitops_tui.views.feedhealth import FeedHealth
from gitops_tui.views.forms import ProjectRequest, SecretRequest, SourceRequest
from gitops_tui.views.freeze import FreezeChoice
from gitops_tui.views.helm import HelmSources
from gitops_tui.views.pin_view import PinChoice, PinRequest
from gitops_tui.views.state import Change, ManagementState

#: Maps the management kinds to the state keys.
KIND_KEYS = {
    "Project": "projects",
    "KubeFedCluster": "clusters",
    "FederatedSecret": "secrets",
    "FederatedGitRepository": "gitrepositories",
    "FederatedKustomization": "kustomizations",
    "Event": "events",
    "Lease": "leases",
    "JournalEntry": "journal",
}


class Operations(Protocol):
    """Writes to the management cluster (each blocking; run them in a worker). Sources are named by project."""

    def suspend_source(self, project: str, name: str, reason: str, choice: FreezeChoice | None = None) -> str:
        """Suspend one source with a reason (an expiry, some clusters), or extend its freeze; a one-line result."""

    def resume_source(self, project: str, name: str, clusters: tuple[str, ...] = ()) -> str:
        """Resume one source (on ``clusters`` only when given); return a one-line result."""

    def suspend_project(self, project: str, reason: str, choice: FreezeChoice | None = None) -> str:
        """Freeze a project: every source of it, present or created later, is held."""

    def resume_project(self, project: str, clusters: tuple[str, ...] = ()) -> str:
        """Lift a project's freeze (on ``clusters`` only when given) and resume its suspended sources."""

    def break_glass(self, project: str, name: str, reason: str, revision: str = "",
                    clusters: tuple[str, ...] = ()) -> str:
        """Apply exactly ``revision`` once on the frozen ``clusters`` without resuming them (recorded with who and why)."""

    def preview_project_resume(self, project: str) -> str:
        """Return, for every source of the project, what resuming it reverts ('nothing to revert' when nothing)."""

    def request_reconcile(self, project: str, name: str) -> str:
        """Ask the reconciler to reconcile a source now."""

    def preview_resume(self, project: str, name: str) -> str:
        """Return the dry-run diff a resume would revert ('' when nothing)."""

    def delete_preview(self, project: str, name: str) -> dict[str, list[str]]:
        """Return the objects each cluster would lose if the source were deleted."""

    def delete_source(self, project: str, name: str) -> str:
        """Delete a source (its objects are pruned from every cluster)."""

    def delete_secret(self, project: str, name: str) -> str:
        """Delete a FederatedSecret (its Secret is removed from every cluster)."""

    def delete_project(self, project: str) -> str:
        """Delete a project (its sources, secrets and namespaces are pruned from every cluster)."""

    def create_source(self, request: SourceRequest) -> str:
        """Create a source (FederatedGitRepository + FederatedKustomization)."""

    def create_secret(self, request: SecretRequest) -> str:
        """Create a FederatedSecret for git credentials."""

    def create_project(self, request: ProjectRequest) -> str:
        """Create a project on its clusters; raise with one sentence when refused (e.g. a namespace not its own)."""

    def pin_choices(self, project: str, name: str) -> list[PinChoice]:
        """The revisions the source applied (newest first), to pin one."""

    def preview_pin(self, project: str, name: str, request: PinRequest) -> str:
        """The dry-run diff pinning would apply on the pinned clusters ('' when nothing)."""

    def pin_source(self, project: str, name: str, request: PinRequest) -> str:
        """Pin the source at an earlier revision on some or all clusters."""

    def unpin_source(self, project: str, name: str) -> str:
        """Unpin the source: it follows git again."""

    def project_alerts(self, project: str) -> list[dict[str, Any]]:
        """The project's alerts as `get alerts -o json` items (address: scheme and host only)."""
        ...

    def create_alert(self, request: AlertRequest) -> str:
        """Create an alert of the project (a typed secret value becomes its Secret); raise one sentence when refused."""

    def source_tree(self, project: str, name: str) -> str:
        """The source across clusters: objects with kind, health, drift and field managers, as text."""

    def create_window(self, project: str, request: WindowRequest) -> str:
        """Record a freeze window on the project (schedule, duration, timezone, clusters, reason)."""

    def delete_window(self, project: str, name: str, reason: str) -> str:
        """Remove a freeze window from the project."""

    def approve_wave(self, project: str, name: str, wave: str, reason: str, revision: str = "") -> str:
        """Approve the rollout wave that waits for it, at the revision the operator saw."""

    def set_override(self, project: str, name: str, request: OverrideRequest) -> str:
        """Override one cluster's object of the source (a JSON 6902 patch, or Helm values)."""

    def remove_override(self, project: str, name: str, request: OverrideRequest) -> str:
        """Remove one cluster's override of the source."""


class Backend(Protocol):
    """Where the console's data comes from and where its operations go."""

    context: str
    """The management context shown in the header."""
    identity: str | None
    """This console's reconciler identity (to tell 'this console' holds the lease)."""
    state: ManagementState

    @property
    def ops(self) -> Operations:
        """Where the console's writes go (read-only here, so a backend may hold a more specific kind)."""

    helm: HelmSources
    """The Helm pane's providers (this backend's own)."""
    health: FeedHealth
    """Live, re-listing or failing, per watched kind (the console's banner)."""

    def now(self) -> datetime:
        """The clock the views use for ages (frozen in tests)."""

    def run_feed(self, emit: Callable[[list[Change]], None], stopped: Callable[[], bool]) -> None:
        """Blocking: list then watch the management cluster, calling ``emit`` with changes."""

    def run_reconciler(self, stopped: Callable[[], bool]) -> None:
        """Blocking: run the embedded reconciler (with leader election) until ``stopped()``."""

    def close(self) -> None:
        """Stop everything started; idempotent."""
