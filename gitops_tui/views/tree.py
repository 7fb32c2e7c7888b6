"""The tree of a source: clusters, then the objects it applied there with kind, health, drift and field managers.

Like ``flux tree`` but across clusters. ``read_tree`` reads the management and workload clusters (no writes);
``tree_lines`` renders a SourceTree as text for the CLI and the console.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes.client import ApiClient

from gitops_tui.api.formats import parse_revision, short_revision
from gitops_tui.api.pin import Pin, pin_of
from gitops_tui.api.source import GitOpsSource

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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"project": self.project, "source": self.source, "revision": self.revision,
                "pin": self.pin.to_spec() if self.pin else None, "clusters": [c.to_dict() for c in self.clusters]}


def managers_of(live: dict[str, Any] | None) -> list[str]:
    """The field managers that wrote ``live`` (gitops-tui first), each once."""
    found = []
    for item in ((live or {}).get("metadata") or {}).get("managedFields") or []:
        manager = str(item.get("manager") or "")
        if manager and manager not in found:
            found.append(manager)
    return sorted(found, key=lambda m: (m != OWN_MANAGER, m))


def _desired_at(ctx: Any, source: GitOpsSource, revision: str, project: str, dynamic: Any) -> list[dict]:
    """The objects of ``revision`` of the source, rendered as the reconciler renders them."""
    from gitops_tui.reconciler.desired import desired_objects, scope_checker
    from gitops_tui.reconciler.status import git_credentials

    branch, sha = parse_revision(revision)
    credentials = git_credentials(ctx, source.namespace, source.secret_ref)
    artifact = ctx.git.fetch(source.url, {"commit": sha, **({"branch": branch} if branch else {})}, credentials,
                             source.git_timeout)
    return desired_objects(source, artifact, project, scope_checker({"cluster": dynamic}))


def _cluster(ctx: Any, source: GitOpsSource, project: str, entry: Any, pin: Pin | None) -> ClusterTree:
    from gitops_tui.kube.apply import get_object
    from gitops_tui.kube.client import ClusterUnreachable
    from gitops_tui.reconciler import drift
    from gitops_tui.reconciler.health import health

    node = ClusterTree(entry.name, entry.last_applied_revision, pinned=pin is not None and pin.covers(entry.name),
                       status=entry.status)
    try:
        dynamic = ctx.clusters.get(entry.name)[1]
    except ClusterUnreachable as exc:
        node.error = exc.detail
        return node
    drifts: dict[str, str] = {}
    if node.revision:
        try:
            found = drift.detect(entry.name, dynamic, _desired_at(ctx, source, node.revision, project, dynamic))
            drifts = {d.ref.id: ("missing" if d.missing else "modified: " + ", ".join(c.path for c in d.fields[:3]))
                      for d in found.objects}
            node.error = found.error
        except Exception as exc:  # noqa: BLE001 - the tree shows what it could read
            node.error = f"drift not checked ({type(exc).__name__})"
    for ref in entry.inventory_refs:
        item = TreeObject(ref.kind, ref.namespace, ref.name, drift=drifts.get(ref.id, ""))
        try:
            live = get_object(dynamic, ref.api_version, ref.kind, ref.name, ref.namespace or None)
        except Exception:  # noqa: BLE001 - one unreadable object does not hide the others
            item.health = "Unknown"
        else:
            item.health = health(live).status
            item.managers = managers_of(live)
            if live is None:
                item.drift = "missing"
        node.objects.append(item)
    return node


def read_tree(api: ApiClient, project: str, name: str, data_dir: Path | None = None) -> SourceTree:
    """Read the tree of source ``name`` of ``project`` from the management and workload clusters (no writes)."""
    from gitops_tui.actions.sources import reading_context
    from gitops_tui.actions.state import read_source

    reading = read_source(api, project, name)
    source, state = reading.source, reading.state
    pin = pin_of(source)
    tree = SourceTree(project, name, source.artifact_revision, pin)
    rank = {cluster: index for index, cluster in enumerate(state.names)}
    ctx = reading_context(api, data_dir)
    try:
        for entry in sorted(source.clusters, key=lambda c: (rank.get(c.name, len(rank)), c.name)):
            node = _cluster(ctx, source, project, entry, pin)
            found = state.cluster(entry.name)
            node.intent = found.intent if found is not None else node.intent
            tree.clusters.append(node)
    finally:
        ctx.clusters.close()
    return tree


def _object_line(obj: TreeObject) -> str:
    where = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
    drift = f"  drift: {obj.drift}" if obj.drift else "  in sync"
    managers = f"  managers: {', '.join(obj.managers)}" if obj.managers else ""
    return f"{obj.kind} {where}  {obj.health}{drift}{managers}"


def tree_lines(tree: SourceTree) -> list[str]:
    """The tree as text lines with box-drawing branches, like `flux tree`."""
    head = f"Source {tree.project}/{tree.source}"
    if tree.revision:
        head += f"  git {short_revision(tree.revision)}"
    if tree.pin is not None:
        head += f"  {tree.pin.describe()}"
    lines = [head]
    for index, cluster in enumerate(tree.clusters):
        last = index == len(tree.clusters) - 1
        branch, indent = ("└── ", "    ") if last else ("├── ", "│   ")
        label = f"Cluster {cluster.name}  {short_revision(cluster.revision) or 'nothing applied'}"
        if cluster.pinned:
            label += "  (pinned)"
        if cluster.intent in ("frozen", "break-glass"):
            label += f"  ({cluster.intent})"
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
