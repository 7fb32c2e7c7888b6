"""ControllerRevisions of StatefulSets and DaemonSets: the history `kubectl rollout history / undo` reads."""

from __future__ import annotations

import copy
from typing import Any

from gitops_tui.sandbox.controllers.base import Context
from gitops_tui.sandbox.controllers.kinds import CONTROLLERREVISIONS
from gitops_tui.sandbox.controllers.objects import (
    deleting,
    meta,
    owned_by,
    owner_reference,
    pruned,
    spec,
    status,
    template_hash,
)

HASH_LABEL = "controller-revision-hash"


def revision_data(template: Any) -> dict[str, Any]:
    """A revision's data: the strategic merge patch that puts the template back (as the controllers write it)."""
    return {"spec": {"template": {**copy.deepcopy(template or {}), "$patch": "replace"}}}


def _template_of(revision: dict[str, Any]) -> Any:
    template = dict(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return pruned(template)


def sync_history(ctx: Context, owner: dict[str, Any]) -> tuple[str, str]:
    """Make sure the owner's current template has a ControllerRevision; return its name and hash.

    A template that matches an older revision (a `rollout undo`) gets the newest revision number
    again, as the real controllers do; revisions beyond spec.revisionHistoryLimit are removed.
    """
    template = spec(owner).get("template") or {}
    namespace = meta(owner).get("namespace", "")
    revisions = [r for r in owned_by(ctx.items(CONTROLLERREVISIONS, namespace), owner) if not deleting(r)]
    top = max((int(r.get("revision") or 0) for r in revisions), default=0)
    current = next((r for r in revisions if _template_of(r) == pruned(template)), None)
    if current is not None:
        digest = (meta(current).get("labels") or {}).get(HASH_LABEL, "")
        if int(current.get("revision") or 0) < top:
            current = ctx.patch(CONTROLLERREVISIONS, current, {"revision": top + 1}) or current
    else:
        digest = template_hash(template, status(owner).get("collisionCount"))
        labels = {**((spec(owner).get("selector") or {}).get("matchLabels") or {}), HASH_LABEL: digest}
        current = ctx.create(CONTROLLERREVISIONS, {
            "apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": f"{meta(owner).get('name')}-{digest}", "namespace": namespace, "labels": labels,
                         "annotations": dict(meta(owner).get("annotations") or {}),
                         "ownerReferences": [owner_reference(owner)]},
            "data": revision_data(template), "revision": top + 1})
        revisions.append(current or {})
    limit = spec(owner).get("revisionHistoryLimit")
    limit = 10 if limit is None else int(limit)
    name = f"{meta(owner).get('name')}-{digest}"
    old = sorted((r for r in revisions if r and meta(r).get("name") != name), key=lambda r: int(r.get("revision") or 0))
    for stale in old[: max(0, len(old) - limit)]:
        ctx.delete(CONTROLLERREVISIONS, stale)
    return name, digest
