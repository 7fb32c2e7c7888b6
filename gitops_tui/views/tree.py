"""The tree of a source as data and text: clusters, then the objects applied there (kind, health, drift, managers).

Like ``flux tree`` but across clusters. ``gitops_tui.backends.tree.read_tree`` reads it from the clusters;
``tree_lines`` renders a SourceTree as text for the CLI and the console. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitops_tui.api.flux_role import FluxRole
from gitops_tui.api.formats import short_revision
from gitops_tui.api.pin import Pin

#: The manager gitops-tui applies with; shown first, others after it.
OWN_MANAGER = "gitops-tui"


@dataclass
class TreeObject:
    """One applied object on one cluster."""

    kind: str
    namespace: str
    name: str
    health: str = "Unknown"
    drift: str = ""
    managers: list[str] = field(default_factory=list)
    overridden: list[str] = field(default_factory=list)
    """The fields this cluster's overrides change (JSON pointers), empty when none."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return dict(vars(self))


@dataclass
class ClusterTree:
    """One cluster of the source: the revision applied there, whether pinned, and its objects."""

    name: str
    revision: str = ""
    pinned: bool = False
    status: str = ""
    intent: str = "follow"
    """The cluster's intent in the effective state: follow, frozen, pinned or break-glass."""
    wave: str = ""
    """Its place in the source's rollout: ``wave 3 of 3 (prod): awaiting approval`` ('' without one)."""
    hold: str = ""
    """``window NAME`` when a freeze window holds it ('' otherwise: the intent says ``frozen``)."""
    error: str = ""
    objects: list[TreeObject] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        fields = {k: v for k, v in vars(self).items() if k != "objects"}
        return {**fields, "objects": [o.to_dict() for o in self.objects]}


@dataclass
class SourceTree:
    """A source across its clusters."""

    project: str
    source: str
    revision: str = ""
    pin: Pin | None = None
    clusters: list[ClusterTree] = field(default_factory=list)
    flux: FluxRole = field(default_factory=FluxRole)
    """What the source is to Flux (a child, a bootstrap): api/flux_role.py."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"project": self.project, "source": self.source, "revision": self.revision,
                "pin": self.pin.to_spec() if self.pin else None, "flux": self.flux.to_dict(),
                "clusters": [c.to_dict() for c in self.clusters]}


def managers_of(live: dict[str, Any] | None) -> list[str]:
    """The field managers that wrote ``live`` (gitops-tui first), each once."""
    found = []
    for item in ((live or {}).get("metadata") or {}).get("managedFields") or []:
        manager = str(item.get("manager") or "")
        if manager and manager not in found:
            found.append(manager)
    return sorted(found, key=lambda m: (m != OWN_MANAGER, m))


def _object_line(obj: TreeObject) -> str:
    where = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
    drift = f"  drift: {obj.drift}" if obj.drift else "  in sync"
    managers = f"  managers: {', '.join(obj.managers)}" if obj.managers else ""
    overridden = f"  overridden: {', '.join(obj.overridden)}" if obj.overridden else ""
    return f"{obj.kind} {where}  {obj.health}{drift}{managers}{overridden}"


def tree_lines(tree: SourceTree) -> list[str]:
    """The tree as text lines with box-drawing branches, like `flux tree`."""
    head = f"Source {tree.project}/{tree.source}{tree.flux.tag()}"
    if tree.revision:
        head += f"  git {short_revision(tree.revision)}"
    if tree.pin is not None:
        head += f"  {tree.pin.describe()}"
    lines = [head]
    if tree.flux.sentence():
        lines.append(f"│   Flux: {tree.flux.sentence()}")
    for index, cluster in enumerate(tree.clusters):
        last = index == len(tree.clusters) - 1
        branch, indent = ("└── ", "    ") if last else ("├── ", "│   ")
        label = f"Cluster {cluster.name}  {short_revision(cluster.revision) or 'nothing applied'}"
        if cluster.pinned:
            label += "  (pinned)"
        if cluster.intent in ("frozen", "break-glass"):
            label += f"  ({cluster.hold or cluster.intent})"
        if cluster.wave:
            label += f"  [{cluster.wave}]"
        if cluster.status:
            label += f"  {cluster.status}"
        lines.append(branch + label)
        if cluster.error:
            lines.append(indent + f"!  {cluster.error}")
        for j, obj in enumerate(cluster.objects):
            twig = "└── " if j == len(cluster.objects) - 1 else "├── "
            lines.append(indent + twig + _object_line(obj))
    if not tree.clusters:
        lines.append("└── (no cluster has a status yet)")
    return lines
