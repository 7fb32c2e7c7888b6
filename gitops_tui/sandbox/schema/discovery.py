"""The discovery documents a sandbox cluster serves (legacy and aggregated), built from its catalog of types."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.schema.catalog import (
    BUILTIN_GROUP_ORDER,
    METRICS_GROUP,
    SPECIAL_SUBRESOURCES,
    SUBRESOURCE_VERBS,
    Catalog,
    ResourceType,
)


def _served(catalog: Catalog, group: str, version: str) -> list[ResourceType]:
    return sorted((rt for rt in catalog.all() if rt.group == group and rt.version == version), key=lambda r: r.plural)


def ordered_groups(catalog: Catalog) -> list[tuple[str, list[str]]]:
    """The API groups but the core one, with their versions, in the order /apis lists them."""
    groups = catalog.groups()
    groups.pop("", None)
    order = [g for g in BUILTIN_GROUP_ORDER if g in groups]
    order += sorted(g for g in groups if g not in BUILTIN_GROUP_ORDER and g != METRICS_GROUP)
    order += [METRICS_GROUP] if METRICS_GROUP in groups else []  # metrics-server's APIService: priority 100
    return [(g, groups[g]) for g in order]


def api_group(name: str, versions: list[str]) -> dict:
    """An APIGroup's name, versions and preferred version."""
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def resource_list(catalog: Catalog, group: str, version: str) -> dict | None:
    """The APIResourceList for one group-version, or None when nothing is served there."""
    types = _served(catalog, group, version)
    if not types:
        return None
    resources: list[dict] = []
    for rt in types:
        entry: dict[str, Any] = {"name": rt.plural, "singularName": rt.singular, "namespaced": rt.namespaced,
                                 "kind": rt.kind, "verbs": list(rt.verbs)}
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        if rt.categories:
            entry["categories"] = list(rt.categories)
        resources.append(entry)
        for sub in sorted(rt.subresources):
            verbs, kind = SPECIAL_SUBRESOURCES.get(sub, (SUBRESOURCE_VERBS, rt.kind))
            sub_entry: dict[str, Any] = {"name": f"{rt.plural}/{sub}", "singularName": "",
                                         "namespaced": rt.namespaced, "kind": kind, "verbs": list(verbs)}
            if sub == "scale":
                sub_entry.update({"group": "autoscaling", "version": "v1", "kind": "Scale"})
            resources.append(sub_entry)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def discovery(catalog: Catalog, path: str) -> dict | None:
    """The legacy (non-aggregated) discovery document served at ``path``, or None for 404."""
    path = "/" + path.strip("/")
    parts = path.split("/")[1:]
    if parts == ["api"]:
        core_versions = catalog.groups().get("", [])
        return {"kind": "APIVersions", "versions": core_versions, "serverAddressByClientCIDRs": []}
    if len(parts) == 2 and parts[0] == "api":
        return resource_list(catalog, "", parts[1])
    if parts == ["apis"]:
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [api_group(g, vs) for g, vs in ordered_groups(catalog)]}
    if len(parts) == 2 and parts[0] == "apis":
        versions = catalog.groups().get(parts[1])
        if not versions or not parts[1]:
            return None
        body = api_group(parts[1], versions)
        return {"kind": "APIGroup", "apiVersion": "v1", **body}
    if len(parts) == 3 and parts[0] == "apis" and parts[1]:
        return resource_list(catalog, parts[1], parts[2])
    return None


def aggregated_discovery(catalog: Catalog, path: str) -> dict | None:
    """The apidiscovery.k8s.io/v2 APIGroupDiscoveryList for "/api" or "/apis", else None.

    Serve it only when the Accept header asks for it, with AGGREGATED_DISCOVERY_CONTENT_TYPE.
    """
    path = "/" + path.strip("/")
    if path == "/api":
        groups = [("", catalog.groups().get("", []))]
    elif path == "/apis":
        groups = ordered_groups(catalog)
    else:
        return None
    items = []
    for group, versions in groups:
        entries = []
        for version in versions:
            types = _served(catalog, group, version)
            entries.append({"version": version, "resources": [aggregated_resource(rt) for rt in types],
                            "freshness": "Current"})
        items.append({"metadata": {"name": group, "creationTimestamp": None}, "versions": entries})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {"creationTimestamp": None}, "items": items}


def aggregated_resource(rt: ResourceType) -> dict:
    """One resource's entry in an aggregated discovery document, its subresources with it."""
    entry: dict[str, Any] = {
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": "Namespaced" if rt.namespaced else "Cluster", "singularResource": rt.singular,
        "verbs": list(rt.verbs)}
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    subs = []
    for sub in sorted(rt.subresources):
        verbs, special = SPECIAL_SUBRESOURCES.get(sub, (SUBRESOURCE_VERBS, rt.kind))
        kind = ({"group": "autoscaling", "version": "v1", "kind": "Scale"} if sub == "scale"
                else {"group": rt.group, "version": rt.version, "kind": special})
        subs.append({"subresource": sub, "responseKind": kind, "verbs": list(verbs)})
    if subs:
        entry["subresources"] = subs
    return entry
