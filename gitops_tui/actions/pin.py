"""Pin a source to an earlier revision (on all or some clusters), unpin it, preview a pin, read the history."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from pathlib import Path

from kubernetes.client import ApiClient

from gitops_tui.actions.actor import current_actor, record_action
from gitops_tui.actions.resources import get_project
from gitops_tui.actions.source_access import SourceActionError, patch_project, patch_source, project_source
from gitops_tui.actions.source_diff import DiffReport, diff_clusters, reading_context
from gitops_tui.actions.state import read_source
from gitops_tui.api import builders, holds
from gitops_tui.api.formats import format_revision, parse_revision
from gitops_tui.api.pin import Pin, RevisionHistory, history_of, pin_of, pin_patch
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.events import EventRecorder

_SHA = re.compile(r"^[0-9a-f]{7,40}$")


def revision_history(api: ApiClient, project: str, name: str) -> RevisionHistory:
    """The applied revisions of a source, per cluster, newest first (with time and who or what applied them)."""
    return history_of(project_source(api, project, name))


def resolve_revision(source: GitOpsSource, text: str) -> str:
    """The full revision ("main@sha1:<40 hex>") ``text`` names: a revision, a full SHA or a prefix from the history.

    Raises SourceActionError with one sentence when it names none, or more than one, of the known revisions.
    """
    value = text.strip()
    sha = parse_revision(value)[1] if "sha1:" in value else value
    if not _SHA.match(sha.lower()):
        raise SourceActionError(f"revision {text!r} is not a commit: give a SHA (7 to 40 hex digits) "
                                "or a revision from the source's history")
    sha = sha.lower()
    known = [r for r in history_of(source).revisions() if parse_revision(r)[1].startswith(sha)]
    if len(known) > 1:
        raise SourceActionError(f"revision {text!r} names {len(known)} revisions of the history: give more digits")
    if known:
        return known[0]
    if len(sha) != 40:
        raise SourceActionError(f"revision {text!r} was never applied by this source: give the full 40-digit SHA")
    branch = source.ref.get("branch", "")
    return format_revision(branch or None, sha)


def resolve_known_revision(api: ApiClient, source: GitOpsSource, text: str, data_dir: Path | None = None) -> str:
    """``resolve_revision``, then refuse a commit that is neither one this source applied nor in the history of the
    ref it tracks (a commit of another branch, or one that does not exist), in one sentence."""
    from gitops_tui.reconciler import pin as pin_mod
    from gitops_tui.reconciler.desired import RevisionFailed, fetch_artifact

    revision = resolve_revision(source, text)
    if revision in history_of(source).revisions():
        return revision
    sha = parse_revision(revision)[1]
    ctx = reading_context(api, data_dir)
    try:
        head = fetch_artifact(ctx, source)
        known = pin_mod.contains(ctx, source, head.commit, sha)
    except RevisionFailed as exc:
        raise SourceActionError(f"cannot check revision {sha[:12]} against the source's git: "
                                f"{exc.failure.message}") from None
    finally:
        ctx.clusters.close()
    if not known:
        raise SourceActionError(
            f"revision {sha[:12]} is not in the history of {source.ref_display or 'the tracked ref'} and was never "
            f"applied by source {source.name}: give a commit of {source.ref_display or 'that ref'} "
            f"(`gitops-tui history source {source.name}` lists the applied ones)")
    return revision


def _check_clusters(source: GitOpsSource, clusters: list[str] | None, placed: list[str]) -> tuple[str, ...]:
    """``clusters`` checked against the source's placed clusters, in their placement order."""
    unknown = [c for c in clusters or [] if c not in placed]
    if unknown:
        raise SourceActionError(f"cluster {unknown[0]!r} is not one of the clusters of source {source.name!r} "
                                f"({', '.join(placed) or 'none yet'})")
    return tuple(c for c in placed if c in set(clusters or []))


def plan_pin(api: ApiClient, project: str, name: str, revision: str, reason: str,
             clusters: list[str] | None = None, until_contains: str = "", actor: str | None = None) -> Pin:
    """Check a pin request and return the Pin it would record (nothing is written)."""
    from gitops_tui.kube.whoami import who_am_i

    if not reason.strip():
        raise SourceActionError("a reason is required to pin a source")
    reading = read_source(api, project, name)
    source = reading.source
    fix = until_contains.strip().lower()
    if fix and not _SHA.match(fix):
        raise SourceActionError(f"--until-contains {until_contains!r} is not a commit SHA (7 to 40 hex digits)")
    chosen = _check_clusters(source, clusters, reading.state.names or [c.name for c in source.clusters])
    return Pin(revision=resolve_known_revision(api, source, revision), clusters=chosen,
               by=actor or current_actor(), reason=reason.strip(), until_contains=fix,
               at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
               identity=str(who_am_i(api).get("user") or ""))


def pin_source(api: ApiClient, project: str, name: str, revision: str, reason: str,
               clusters: list[str] | None = None, until_contains: str = "", actor: str | None = None) -> Pin:
    """Pin a source at ``revision`` on ``clusters`` (all when empty): applied at once, held while git moves on."""
    pin = plan_pin(api, project, name, revision, reason, clusters, until_contains, actor)
    source = project_source(api, project, name)
    patch_project(api, project, holds.record_patch(name, pin=pin.to_spec()))  # the operator's record first
    fk = patch_source(api, source.kustomization or {}, pin_patch(pin))
    EventRecorder(api).emit(fk, "Normal", "Pinned", pin.describe(), revision=pin.revision)
    record_action(api, action="pin", actor=pin.by, reason=pin.reason, project=project, source=name,
                   clusters=pin.clusters or [c.name for c in source.clusters], objects=[f"revision {pin.revision}"])
    return pin


def unpin_source(api: ApiClient, project: str, name: str, actor: str | None = None) -> Pin:
    """Remove a source's pin and ask for a reconcile now (back to following git); return the pin removed."""
    actor = actor or current_actor()
    source = project_source(api, project, name)
    record = holds.operator_record(get_project(api, project), name).pin
    pin = record or pin_of(source)
    if pin is None:
        raise SourceActionError(f"source {name!r} is not pinned")
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if record is not None:
        patch_project(api, project, holds.record_patch(name, pin=holds.lifted_pin_record(record, actor, at)))
    fk = patch_source(api, source.kustomization or {}, {**pin_patch(None), **builders.reconcile_patch(at=at)})
    text = f"unpinned by {actor} (was {pin.describe()})"
    EventRecorder(api).emit(fk, "Normal", "Unpinned", text, revision=pin.revision)
    record_action(api, action="unpin", actor=actor, reason=f"was {pin.describe()}", project=project, source=name,
                   clusters=pin.clusters or [c.name for c in source.clusters])
    return pin


def _overrides(api: ApiClient, project: str, name: str) -> tuple:
    """The source's overrides (a pin's preview compares each cluster as its overrides change it)."""

    return read_source(api, project, name).state.overrides


def preview_pin(api: ApiClient, project: str, name: str, pin: Pin, data_dir: Path | None = None) -> DiffReport:
    """What pinning will change: the dry-run diff of each pinned cluster against the pinned revision (no writes)."""
    source = project_source(api, project, name)
    repository = copy.deepcopy(source.repository or {})
    spec = repository.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
    spec["ref"] = {"commit": pin.commit, **({"branch": pin.branch} if pin.branch else {})}
    ctx = reading_context(api, data_dir)
    try:
        report = diff_clusters(ctx, GitOpsSource(repository, source.kustomization), name, overrides=_overrides(api, project, name))
    finally:
        ctx.clusters.close()
    report.clusters = [c for c in report.clusters if pin.covers(c.cluster)]
    return report
