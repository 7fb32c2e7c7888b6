"""Lanes of a reconcile, from the effective state: pinned clusters at the pin, a break glass's at its revision, the others
at git; each cluster's applied-revision history; a pin released once git contains its fix commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import git

from gitops_tui.api.effective import INTENT_BREAK_GLASS, INTENT_FOLLOW, INTENT_PINNED
from gitops_tui.api.formats import parse_revision, short_revision
from gitops_tui.api.holds import lifted_pin_record, operator_record, record_patch
from gitops_tui.api.pin import history_of, pin_patch, with_history
from gitops_tui.api.source import GitOpsSource
from gitops_tui.reconciler.context import ReconcileContext, ReconcileResult
from gitops_tui.reconciler.desired import RevisionFailed, failure_of, fetch_artifact, fetch_revision
from gitops_tui.reconciler.errors import ReconcileError
from gitops_tui.reconciler.freeze import Plan, patch_management, write_held
from gitops_tui.reconciler.status import Failure, cluster_entries, git_credentials, patch_object

log = logging.getLogger(__name__)

#: The status entry field naming the revision a cluster is pinned at.
PINNED_FIELD = "pinnedRevision"
#: Who applied a revision that git asked for.
BY_GIT = "reconciler (git)"
LANE_GIT = "git"
LANE_PIN = "pin"
LANE_BREAK_GLASS = "break-glass"
#: A pin (or break glass) at a commit that is not the source's.
REASON_PIN_REFUSED = "PinRefused"


@dataclass
class Lane:
    """Clusters reconciled together at one revision: git's, a pin's or a break glass's; ``keep`` the others'."""

    clusters: list[str]
    revision: str = ""
    """The revision this lane applies ('' for git's, fetched by the source's ref)."""
    kind: str = LANE_GIT
    by: str = ""
    """Who asked for the lane's revision (the pin's or the break glass's author)."""
    keep: list[str] = field(default_factory=list)
    exact: str = ""
    """For git's lane of a source with a rollout: exactly the revision rolling out (a later commit waits its turn)."""

    @property
    def pinned(self) -> bool:
        """True for the lane of a pin's clusters."""
        return self.kind == LANE_PIN

    def fetch(self, ctx: ReconcileContext, source: GitOpsSource) -> Any:
        """The artifact this lane applies: the lane's commit (checked to belong to the source), else the source's ref."""
        if not self.revision and not self.exact:
            return fetch_artifact(ctx, source)
        branch, commit = parse_revision(self.revision or self.exact)
        if self.revision:
            check_known(ctx, source, self.revision)
        ref = {"commit": commit, **({"branch": branch} if branch else {})}
        try:
            return fetch_revision(ctx, source, ref)
        except ReconcileError as exc:
            raise RevisionFailed(failure_of(exc)) from None

    @property
    def applied_by(self) -> str:
        """Who or what the history names for a revision this lane applies."""
        if self.kind == LANE_PIN:
            return f"pin by {self.by}"
        return f"break glass by {self.by}" if self.kind == LANE_BREAK_GLASS else BY_GIT

    def mark(self, entries: Iterable[dict[str, Any]]) -> None:
        """Set (pinned lane) or clear (git lane) each cluster entry's pinned revision (a break glass leaves it)."""
        for entry in entries:
            if self.kind == LANE_PIN:
                entry[PINNED_FIELD] = self.revision
            elif self.kind == LANE_GIT:
                entry.pop(PINNED_FIELD, None)

    def note_applied(self, entries: Iterable[dict[str, Any]], old: dict[str, dict[str, Any]]) -> None:
        """Add each newly applied revision to its cluster's history."""
        for entry in entries:
            revision = entry.get("lastAppliedRevision") or ""
            if revision and revision != (old.get(entry.get("name") or "") or {}).get("lastAppliedRevision"):
                with_history(entry, revision, entry.get("lastSyncTime") or "", self.applied_by)


def lanes(ctx: ReconcileContext, plan: Plan,
          release: Callable[[ReconcileContext, Plan], bool] | None = None) -> list[Lane]:
    """The lanes of this reconcile, from the effective state: the pinned clusters, a break glass's, then git's.

    Held clusters are in no lane (nothing is written to them); every lane keeps the other clusters as they are.
    """
    state = plan.state
    released = state.pin is not None and bool(state.pin.token) and (release or release_when_fixed)(ctx, plan)
    groups: dict[str, list[str]] = {LANE_PIN: [], LANE_BREAK_GLASS: [], LANE_GIT: []}
    for cluster in state.clusters:
        if cluster.intent == INTENT_PINNED and not released:
            groups[LANE_PIN].append(cluster.name)
        elif cluster.intent == INTENT_BREAK_GLASS:
            groups[LANE_BREAK_GLASS].append(cluster.name)
        elif cluster.intent in (INTENT_FOLLOW, INTENT_PINNED):
            groups[LANE_GIT].append(cluster.name)
    found: list[Lane] = []
    for kind, hold in ((LANE_PIN, state.pin), (LANE_BREAK_GLASS, state.break_glass), (LANE_GIT, None)):
        chosen = groups[kind]
        if chosen or (kind == LANE_GIT and not found):
            found.append(Lane(chosen, hold.revision if hold is not None else "", kind,
                              hold.by if hold is not None else "", keep=[c for c in state.names if c not in chosen],
                              exact=state.rollout.revision if kind == LANE_GIT and state.rollout is not None else ""))
    return found


@dataclass
class LaneRun:
    """The results of a reconcile's lanes, and the break-glass lane's clusters with their status once it ran."""

    source: GitOpsSource
    """The source as last read: a later lane reads it again."""
    results: list[ReconcileResult] = field(default_factory=list)
    glass_done: dict[str, str] | None = None
    """The break-glass lane's clusters and their status ('' when applied); None when there was none."""


def run_lanes(ctx: ReconcileContext, plan: Plan, source: GitOpsSource,
              reconcile_lane: Callable[[GitOpsSource, Lane], ReconcileResult]) -> LaneRun:
    """Reconcile each lane in turn with ``reconcile_lane``; a later lane starts from the status the previous wrote.

    It stops when the source is gone or a freeze now holds it.
    """
    run = LaneRun(source)
    for index, lane in enumerate(lanes(ctx, plan)):
        if index:  # the previous lane wrote the status: start from it
            source = run.source = ctx.source(source.namespace, source.name)
            if source.kustomization is None or write_held(ctx, source.kustomization, plan, None):
                break
        run.results.append(reconcile_lane(source, lane))
        if lane.kind == LANE_BREAK_GLASS:
            rows = cluster_entries(ctx.source(source.namespace, source.name))
            run.glass_done = {c: str((rows.get(c) or {}).get("status") or "") for c in lane.clusters}
    return run


def check_known(ctx: ReconcileContext, source: GitOpsSource, revision: str) -> None:
    """Refuse (RevisionFailed, PinRefused) a revision neither in the history of the tracked ref nor applied before."""
    if revision in history_of(source).revisions():
        return
    commit = parse_revision(revision)[1]
    try:
        head = fetch_artifact(ctx, source)
    except RevisionFailed:
        return  # git cannot be asked: the lane's own fetch says why
    if not contains(ctx, source, head.commit, commit):
        raise RevisionFailed(Failure(REASON_PIN_REFUSED, refused_message(revision, source.ref_display), stalled=True),
                             revision)


def refused_message(revision: str, ref: str) -> str:
    """One sentence for a revision that is not the source's."""
    return (f"revision {short_revision(revision)} is not in the history of {ref or 'the tracked ref'} and was never "
            "applied by this source: nothing applied (pin a commit of the tracked ref, or one it applied before)")


def contains(ctx: ReconcileContext, source: GitOpsSource, head_commit: str, fix: str) -> bool:
    """Whether ``head_commit`` contains ``fix`` (fix is an ancestor of head, or head itself) in the cached clone."""
    try:
        repo_dir = ctx.git.repo_dir(source.url, git_credentials(ctx, source.namespace, source.secret_ref)) / "git"
        repo = git.Repo(repo_dir)
        try:
            # GitPython passes the revisions to `git merge-base` as text; its stubs ask for Commit objects.
            return head_commit.startswith(fix) or bool(repo.is_ancestor(fix, head_commit))  # type: ignore[arg-type]
        finally:
            repo.close()
    except (git.GitCommandError, git.NoSuchPathError, git.InvalidGitRepositoryError, ValueError, ReconcileError):
        return False


def release_when_fixed(ctx: ReconcileContext, plan: Plan) -> bool:
    """Unpin the source when git's revision contains the pin's fix commit; True when released.

    The operator's record on the Project is lifted first, then the FederatedKustomization's copy.
    """
    source, pin = plan.source, plan.state.pin
    if pin is None or not pin.token:
        return False
    try:
        head = fetch_artifact(ctx, source)
    except RevisionFailed:
        return False
    if not contains(ctx, source, head.commit, pin.token):
        return False
    record = operator_record(plan.project, source.name).pin
    if record is not None and plan.project is not None:
        lifted = lifted_pin_record(record, "reconciler", head.revision)
        patch_management(ctx, plan.project, record_patch(source.name, pin=lifted))
    if patch_object(ctx.api_client, source.kustomization or {}, pin_patch(None)) is None:
        return False
    from gitops_tui import journal

    text = f"git reached {head.revision}, which contains {pin.token[:12]}: back to following git"
    ctx.recorder.emit(source.kustomization or {}, "Normal", "PinReleased", text, revision=head.revision)
    journal.record(ctx.api_client, action="unpin", actor="reconciler", reason=text, project=plan.project_name,
                   source=source.name, clusters=list(pin.clusters))
    return True
