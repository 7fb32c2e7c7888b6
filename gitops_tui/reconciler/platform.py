"""Platform projects: Namespaces, cluster-scoped objects and any namespace no other project owns (docs/flux.md).

An ordinary project stays confined by ``tenancy.enforce``; a project whose ``spec.platform`` is true
goes through ``enforce`` here instead. One owner per object still holds across both kinds of project.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from gitops_tui.api.namespace_claims import SYSTEM_NAMESPACES
from gitops_tui.api.project import Project
from gitops_tui.kube.apply_order import declared_kinds
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.errors import TenancyViolation
from gitops_tui.reconciler.render import Manifest
from gitops_tui.reconciler.tenancy import IsNamespaced


@dataclass(frozen=True)
class Policy:
    """What a project may apply: ``platform`` lifts the namespace wall except for ``foreign`` (other projects')."""

    platform: bool = False
    foreign: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        """A short text naming the policy, for caches."""
        return f"platform:{','.join(sorted(self.foreign))}" if self.platform else "tenant"


def policy_for(ctx: ReconcileContext, namespace: str, project: str) -> Policy:
    """The policy of the project owning ``namespace``: platform or not, and the namespaces other projects own."""
    projects = [Project(raw) for raw in ctx.projects()]
    mine = next((p for p in projects if p.name == project and p.namespace == namespace), None)
    if mine is None or not mine.platform:
        return Policy()
    return Policy(True, frozenset(p.namespace for p in projects if p.name != project))


def enforce(manifests: list[Manifest], namespace: str, is_namespaced: IsNamespaced, policy: Policy,
            *, unknown_is_namespaced: bool = False) -> list[dict[str, Any]]:
    """Return copies of the objects a platform project may apply, or raise TenancyViolation naming the first refused.

    Namespaced objects without a namespace get the project's; cluster-scoped objects keep none; kinds
    a CustomResourceDefinition of the same revision declares take that CRD's scope. Refused: a kind no
    cluster serves nor the revision declares, and an object in (or a Namespace named as) a namespace
    another project owns.
    """
    declared = declared_kinds(m.obj for m in manifests)
    objects: list[dict[str, Any]] = []
    problems: list[tuple[Manifest, str]] = []
    for manifest in manifests:
        obj = copy.deepcopy(manifest.obj)
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        scoped = declared.get((api_version.rpartition("/")[0], kind))
        if scoped is None:
            scoped = is_namespaced(api_version, kind)
        if scoped is None and unknown_is_namespaced:
            scoped = True
        meta = obj.setdefault("metadata", {})
        what = f"{manifest.display} in {manifest.origin}"
        if scoped is None:
            problems.append((manifest, f"{what} has kind {api_version} {kind}, which the cluster does not serve "
                                       "and no CustomResourceDefinition of the revision declares"))
            continue
        if scoped:
            meta["namespace"] = meta.get("namespace") or namespace
            target = meta["namespace"]
        else:
            meta.pop("namespace", None)
            target = meta.get("name") if kind == "Namespace" and api_version == "v1" else None
        if target and target in policy.foreign:
            problems.append((manifest, f"{what} targets namespace {target!r}, which belongs to another project"))
            continue
        if target and target in SYSTEM_NAMESPACES - {"default"} and kind == "Namespace":
            problems.append((manifest, f"{what} is the system namespace {target!r}, which no project may own"))
            continue
        objects.append(obj)
    if problems:
        first, message = problems[0]
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more object(s) refused)"
        raise TenancyViolation(message, origin=first.origin, object=first.display)
    return objects

