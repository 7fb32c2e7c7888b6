"""Pins in the reconcile: split the placed clusters into lanes (pinned ones at the pinned revision, the others at git),
record each cluster's applied-revision history, and release a pin once git contains its fix commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import git

from gitops_tui.api.pin import Pin, pin_of, pin_patch, with_history
from gitops_tui.api.source import GitOpsSource
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.desired import RevisionFailed, failure_of, fetch_artifact, fetch_revision
from gitops_tui.reconciler.errors import ReconcileError
from gitops_tui.reconciler.status import git_credentials, patch_object

log = logging.getLogger(__name__)

#: The status entry field naming the revision a cluster is pinned at.
PINNED_FIELD = "pinnedRevision"
#: Who applied a revision that git asked for.
BY_GIT = "reconciler (git)"


@dataclass
class Lane:
    """Clusters reconciled together at one revision: ``pin`` set for the pinned ones; ``keep`` the other lane's."""

    clusters: list[str]
    pin: Pin | None = None
    keep: list[str] = field(default_factory=list)

    def fetch(self, ctx: ReconcileContext, source: GitOpsSource) -> Any:
        """The artifact this lane applies: the pinned commit, else the source's ref."""
        if self.pin is None:
            return fetch_artifact(ctx, source)
        ref = {"commit": self.pin.commit, **({"branch": self.pin.branch} if self.pin.branch else {})}
        try:
            return fetch_revision(ctx, source, ref)
        except ReconcileError as exc:
            raise RevisionFailed(failure_of(exc)) from None

    @property
    def applied_by(self) -> str:
        """Who or what the history names for a revision this lane applies."""
        return f"pin by {self.pin.by}" if self.pin is not None else BY_GIT

    def mark(self, entries: Iterable[dict[str, Any]]) -> None:
        """Set (pinned lane) or clear (git lane) each cluster entry's pinned revision."""
        for entry in entries:
            if self.pin is not None:
                entry[PINNED_FIELD] = self.pin.revision
            else:
                entry.pop(PINNED_FIELD, None)

    def note_applied(self, entries: Iterable[dict[str, Any]], old: dict[str, dict[str, Any]]) -> None:
        """Add each newly applied revision to its cluster's history."""
        for entry in entries:
            revision = entry.get("lastAppliedRevision") or ""
            if revision and revision != (old.get(entry.get("name") or "") or {}).get("lastAppliedRevision"):
                with_history(entry, revision, entry.get("lastSyncTime") or "", self.applied_by)


def plan(ctx: ReconcileContext, source: GitOpsSource, clusters: list[str],
         release: Callable[[ReconcileContext, GitOpsSource, Pin], bool] | None = None) -> list[Lane]:
    """The lanes of this reconcile: the pinned clusters first (at the pin), then the others (at git)."""
    pin = pin_of(source)
    if pin is not None and pin.until_contains and (release or release_when_fixed)(ctx, source, pin):
        pin = None
    if pin is None:
        return [Lane(clusters)]
    pinned = [c for c in clusters if pin.covers(c)]
    following = [c for c in clusters if not pin.covers(c)]
    lanes = []
    if pinned:
        lanes.append(Lane(pinned, pin, keep=following))
    if following or not pinned:
        lanes.append(Lane(following, None, keep=pinned))
    return lanes


def contains(ctx: ReconcileContext, source: GitOpsSource, head_commit: str, fix: str) -> bool:
    """Whether ``head_commit`` contains ``fix`` (fix is an ancestor of head, or head itself) in the cached clone."""
    try:
        repo_dir = ctx.git.repo_dir(source.url, git_credentials(ctx, source.namespace, source.secret_ref)) / "git"
        repo = git.Repo(repo_dir)
        try:
            return head_commit.startswith(fix) or bool(repo.is_ancestor(fix, head_commit))
        finally:
            repo.close()
    except (git.GitCommandError, git.NoSuchPathError, git.InvalidGitRepositoryError, ValueError, ReconcileError):
        return False


def release_when_fixed(ctx: ReconcileContext, source: GitOpsSource, pin: Pin) -> bool:
    """Unpin the source when git's revision contains the pin's fix commit; True when released."""
    try:
        head = fetch_artifact(ctx, source)
    except RevisionFailed:
        return False
    if not contains(ctx, source, head.commit, pin.until_contains):
        return False
    if patch_object(ctx.api_client, source.kustomization or {}, pin_patch(None)) is None:
        return False
    from gitops_tui import journal

    text = f"git reached {head.revision}, which contains {pin.until_contains[:12]}: back to following git"
    ctx.recorder.emit(source.kustomization or {}, "Normal", "PinReleased", text, revision=head.revision)
    project = _project_name(ctx, source)
    journal.record(ctx.api_client, action="unpin", actor="reconciler", reason=text, project=project,
                   source=source.name, clusters=list(pin.clusters))
    return True


def _project_name(ctx: ReconcileContext, source: GitOpsSource) -> str:
    from gitops_tui.reconciler.status import project_of

    return project_of(ctx, source)[0]
