"""Each cluster's objects of a revision: the rendered objects with that cluster's overrides (api/overrides.py) applied.

Runs after rendering (and tenancy) and before ownership, limits and the dry-run gate, so an override cannot escape
them: a patched object keeps its kind, name, namespace and labels (api/overrides.py refuses paths that change them, and
the labels are written again), its references are checked again (a HelmRelease patched to name another namespace's
chart is refused), and the cluster's whole revision is measured again against the size limits. A cluster whose
override does not apply refuses the revision there only (``OverrideFailed``, the object and the path named); the
other clusters go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_tui.api import names
from gitops_tui.api import overrides as ov
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube import limits
from gitops_tui.reconciler.status import Failure


@dataclass
class PerCluster:
    """What each cluster applies: its objects (the shared list when it has no override), refusals, changed fields."""

    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    refused: dict[str, Failure] = field(default_factory=dict)
    changed: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def _relabel(obj: dict[str, Any], project: str, source: str) -> None:
    labels = obj.setdefault("metadata", {}).setdefault("labels", {})
    labels[names.LABEL_PROJECT] = project
    labels[names.LABEL_SOURCE] = source


def _recheck(objects: list[dict[str, Any]], patched: list[dict[str, Any]], source: GitOpsSource, project: str,
             revision: str, cluster: str) -> None:
    """The walls again for a cluster's overridden objects: labels, references, size limits."""
    from gitops_tui.reconciler.flux import references

    for obj in patched:
        _relabel(obj, project, source.name)
    references.check_all([(obj, str((obj.get("metadata") or {}).get("namespace") or source.namespace),
                           f"{references.display(obj)} (overridden on {cluster})") for obj in patched])
    limits.check_revision(((obj, "") for obj in objects), f"revision {revision} with the overrides of {cluster}")


def by_cluster(source: GitOpsSource, desired: list[dict[str, Any]], clusters: list[str],
               overrides: tuple[ov.Override, ...], project: str, revision: str) -> PerCluster:
    """Each of ``clusters``' objects; a cluster whose overrides are refused gets its Failure instead."""
    from gitops_tui.api.references import ReferenceRefused

    out = PerCluster()
    bad = ov.problems(source.kustomization) if ov.items_of(source.kustomization) else {}
    for cluster in clusters:
        if cluster in bad:
            out.refused[cluster] = Failure(ov.REASON_OVERRIDE_FAILED, f"{bad[cluster]}; nothing applied on {cluster}")
            continue
        try:
            applied = ov.apply(desired, list(overrides), cluster, revision)
            if applied.changed:
                patched = [o for o, base in zip(applied.objects, desired, strict=False) if o is not base]
                _recheck(applied.objects, patched, source, project, revision, cluster)
        except ov.OverrideRefused as exc:
            out.refused[cluster] = Failure(ov.REASON_OVERRIDE_FAILED, exc.message)
            continue
        except ReferenceRefused as exc:
            out.refused[cluster] = Failure(exc.reason, f"{exc.message}; nothing applied on {cluster}")
            continue
        except limits.LimitExceeded as exc:
            out.refused[cluster] = Failure("LimitExceeded", f"{exc.message}; nothing applied on {cluster}")
            continue
        out.objects[cluster] = applied.objects
        if applied.changed:
            out.changed[cluster] = applied.changed
    return out
