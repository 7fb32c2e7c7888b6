"""Placement resolution: which registered clusters a placement (names or label selector) selects."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str] | None) -> bool:
    """Whether a label selector (matchLabels / matchExpressions) matches the labels.

    An empty selector ({}) matches everything; None matches nothing.
    Operators: In, NotIn, Exists, DoesNotExist.
    """
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key = expression.get("key", "")
        operator = expression.get("operator", "")
        values = expression.get("values") or []
        if operator == "In":
            if key not in labels or labels[key] not in values:
                return False
        elif operator == "NotIn":
            if key in labels and labels[key] in values:
                return False
        elif operator == "Exists":
            if key not in labels:
                return False
        elif operator == "DoesNotExist":
            if key in labels:
                return False
        else:
            return False
    return True


def is_placement_set(placement: dict[str, Any] | None) -> bool:
    """Whether a placement says anything (clusters or clusterSelector present)."""
    return bool(placement) and ("clusters" in placement or "clusterSelector" in placement)  # type: ignore[operator]


def _cluster_name(cluster: dict[str, Any]) -> str:
    """The name of a KubeFedCluster dict."""
    return str((cluster.get("metadata") or {}).get("name", ""))


def _cluster_labels(cluster: dict[str, Any]) -> dict[str, str]:
    """The labels of a KubeFedCluster dict."""
    return dict((cluster.get("metadata") or {}).get("labels") or {})


def _select(placement: dict[str, Any], clusters: list[dict[str, Any]], include_unknown: bool) -> list[str]:
    """Apply one placement to the clusters (KubeFed rules: `clusters` wins over `clusterSelector`)."""
    known = {_cluster_name(c): c for c in clusters}
    if placement.get("clusters") is not None:
        wanted = [str(entry.get("name", "")) for entry in placement.get("clusters") or []]
        return sorted({n for n in wanted if n and (include_unknown or n in known)})
    selector = placement.get("clusterSelector")
    return sorted(n for n, c in known.items() if selector_matches(selector, _cluster_labels(c)))


def placed_clusters(
    placement: dict[str, Any] | None,
    clusters: list[dict[str, Any]],
    project_placement: dict[str, Any] | None = None,
    *,
    include_unknown: bool = False,
) -> list[str]:
    """Return the names of the clusters a placement selects, in the project's placement order.

    Rules (KubeFed's, plus the project boundary):
    - `placement.clusters` (a list of {name}) wins over `placement.clusterSelector`; an empty
      list selects nothing; `clusterSelector: {}` selects every cluster.
    - A missing or empty placement falls back to `project_placement`.
    - With a project placement, an explicit object placement is limited to the project's clusters
      (a source never lands on a cluster outside its project).
    - Names not registered as KubeFedClusters are dropped unless `include_unknown`.
    - Order: the order the project's placement lists its clusters (``placement_order``), then by name; without a
      project placement, the order the placement itself lists them.
    """
    project_selected: list[str] | None = None
    if is_placement_set(project_placement):
        project_selected = _select(project_placement or {}, clusters, include_unknown)
    if not is_placement_set(placement):
        selected = project_selected or []
    else:
        selected = _select(placement or {}, clusters, include_unknown)
        if project_selected is not None:
            allowed = set(project_selected)
            selected = [name for name in selected if name in allowed]
    order_of = project_placement if is_placement_set(project_placement) else placement
    return in_order(selected, placement_order(order_of, clusters))


def placement_order(placement: dict[str, Any] | None, clusters: list[dict[str, Any]]) -> dict[str, int]:
    """Rank clusters as a placement lists them: its named clusters in their order, else the selected ones by name.

    The one ordering every surface uses (panes, tree, describe, journal, CLI columns, the header): a project
    placed on ``dev, staging, prod`` shows them in that order, never alphabetically.
    """
    placement = placement or {}
    if placement.get("clusters") is not None:
        listed = [str(entry.get("name", "")) for entry in placement.get("clusters") or [] if entry.get("name")]
    elif "clusterSelector" in placement:
        listed = _select(placement, clusters, False)
    else:
        listed = []
    order: dict[str, int] = {}
    for name in listed:
        order.setdefault(name, len(order))
    return order


def fleet_order(project_placements: list[dict[str, Any] | None], clusters: list[dict[str, Any]]) -> dict[str, int]:
    """Rank every cluster once for views of several projects: each project's placement order in turn, then the rest by name."""
    order: dict[str, int] = {}
    for placement in project_placements:
        for name in placement_order(placement, clusters):
            order.setdefault(name, len(order))
    for name in sorted(_cluster_name(c) for c in clusters):
        order.setdefault(name, len(order))
    return order


def in_order(names: Iterable[str], order: dict[str, int]) -> list[str]:
    """``names`` (each once) sorted by ``order``; names it does not rank come last, by name."""
    return sorted(set(names), key=lambda name: (order.get(name, len(order)), name))


def placement_for_names(names: list[str]) -> dict[str, Any]:
    """Build a placement selecting the given cluster names."""
    return {"clusters": [{"name": name} for name in names]}


def placed_in_memo(placement: dict[str, Any], clusters: list[dict[str, Any]], project_placement: dict[str, Any] | None,
                   memo: dict[Any, list[str]] | None) -> list[str]:
    """placed_clusters, remembered in ``memo`` by the two placements (as JSON) when one is given."""
    if memo is None:
        return placed_clusters(placement, clusters, project_placement)
    key = (placement_key(placement), placement_key(project_placement))
    if key not in memo:
        memo[key] = placed_clusters(placement, clusters, project_placement)
    return memo[key]


def placement_key(placement: dict[str, Any] | None) -> Any:
    """A hashable key of a placement: its cluster names when it lists them (the common case), else its JSON."""
    if not placement:
        return None if placement is None else ""
    if set(placement) == {"clusters"} and isinstance(placement["clusters"], list):
        return tuple(str((c or {}).get("name")) for c in placement["clusters"] if isinstance(c, dict))
    return json.dumps(placement, sort_keys=True)
