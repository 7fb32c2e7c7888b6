"""The reconciler's automatic corrections (drift corrected, prune) into the journal, from each cluster's work."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubernetes.client import ApiClient

from gitops_tui import journal

#: The journal actor of automatic corrections.
RECONCILER_ACTOR = "reconciler"


def record_corrections(api: ApiClient, project: str, source: str, works: Iterable[Any]) -> None:
    """Record every correction a cluster's work noted (``work.corrections``: (action, objects, reason))."""
    for work in works:
        for action, objects, reason in getattr(work, "corrections", ()):
            journal.record(api, action=action, actor=RECONCILER_ACTOR, reason=reason, project=project, source=source,
                           clusters=[work.name], objects=list(objects))
