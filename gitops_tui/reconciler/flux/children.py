"""Flux Kustomizations and GitRepositories in a revision become child sources of the source that renders them.

A ``kustomize.toolkit.fluxcd.io/v1`` Kustomization found in a source's revision is not applied: it
becomes a child GitOps source (a FederatedGitRepository + FederatedKustomization that keeps the
Kustomization's own name, unique in the project namespace as Flux's names are, labelled with its parent)
that the reconciler runs like any other, with its own status per cluster. Children that leave git are
deleted (their objects pruned when ``prune``). Cycles and the per-project cap: flux/bounds.py.
Semantics and the supported fields: docs/flux.md.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from kubernetes.client.exceptions import ApiException

from gitops_tui.api import flux_role, names
from gitops_tui.api.paths import management_path
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.errors import ReconcileError, ValidationFailed
from gitops_tui.reconciler.flux.artifact_generator import is_generator, recipe
from gitops_tui.reconciler.flux.kustomize_fields import read_fields
from gitops_tui.reconciler.render import Manifest

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
LABEL_PARENT = names.LABEL_PARENT_SOURCE
ANNOTATION_FLUX_NAME = flux_role.ANNOTATION_FLUX_NAME
ANNOTATION_PARENT_PATH = "gitops-tui.io/parent-path"
#: The name Flux's bootstrap gives the repository itself: a sourceRef to it means the parent's repository.
BOOTSTRAP_NAME = "flux-system"
#: Kustomization fields taken over by the child, as they are.
_CARRIED = ("path", "targetNamespace", "wait", "healthChecks", "timeout", "interval", "retryInterval", "force",
            "postBuild", "patches", "images", "components", "ignoreMissingComponents", "namePrefix", "nameSuffix",
            "commonMetadata", "deletionPolicy", "decryption")
#: Kustomization fields this reconciler does not implement: the revision is refused rather than half-applied.
_REFUSED = ("kubeConfig", "serviceAccountName", "healthCheckExprs")
#: Flux's deletionPolicy values (MirrorPrune: the objects go when prune is true, as they went).
DELETION_POLICIES = ("MirrorPrune", "Delete", "WaitForTermination", "Orphan")
#: Flux source kinds the reconciler reads itself (never applied); OCIRepository and HelmRepository are applied and
#: read by the HelmReleases of the revision (helm/charts.py).
_SOURCE_KINDS = {"GitRepository", "Bucket", "ExternalArtifact"}


@dataclass(frozen=True)
class Instructions:
    """The Flux objects of a revision that the reconciler runs itself: Kustomizations and GitRepositories.

    ``bootstrap`` holds the Kustomizations that are the rendering source itself (flux/bootstrap.py),
    ``this_repository`` the GitRepository names that mean its own repository at its commit, and ``components``
    Flux's own controllers the revision declares (left out unless ``components_mode`` is ``apply``).
    """

    kustomizations: tuple[Manifest, ...] = ()
    repositories: tuple[Manifest, ...] = ()
    generators: tuple[Manifest, ...] = ()
    bootstrap: tuple[Manifest, ...] = ()
    this_repository: frozenset[str] = frozenset()
    components: tuple[Manifest, ...] = ()
    components_mode: str = ""


def _group(obj: dict[str, Any]) -> str:
    return str(obj.get("apiVersion", "")).rpartition("/")[0]


def is_instruction(obj: dict[str, Any]) -> bool:
    """True for a Flux Kustomization, a Flux source object or an ArtifactGenerator (never applied as a manifest)."""
    return ((_group(obj) == KUSTOMIZE_GROUP and obj.get("kind") == "Kustomization")
            or (_group(obj) == SOURCE_GROUP and obj.get("kind") in _SOURCE_KINDS) or is_generator(obj))


def split(manifests: list[Manifest]) -> tuple[list[Manifest], Instructions]:
    """Separate the Flux instructions from the manifests to apply; refuse the source kinds not supported."""
    rest: list[Manifest] = []
    kustomizations: list[Manifest] = []
    repositories: list[Manifest] = []
    generators: list[Manifest] = []
    for manifest in manifests:
        obj = manifest.obj
        if not is_instruction(obj):
            rest.append(manifest)
        elif is_generator(obj):
            generators.append(manifest)
        elif obj.get("kind") == "Kustomization":
            kustomizations.append(manifest)
        elif obj.get("kind") == "GitRepository":
            repositories.append(manifest)
        elif obj.get("kind") == "ExternalArtifact":
            raise ValidationFailed(f"{manifest.display} in {manifest.origin}: an ExternalArtifact is made by an "
                                   "ArtifactGenerator; declare the ArtifactGenerator instead (docs/flux.md)",
                                   origin=manifest.origin)
        else:
            raise ValidationFailed(f"{manifest.display} in {manifest.origin}: {obj.get('kind')} sources are not "
                                   "supported; use a GitRepository (docs/flux.md)", origin=manifest.origin)
    return rest, Instructions(tuple(kustomizations), tuple(repositories), tuple(generators))


def child_name(parent: str, flux_name: str) -> str:
    """The child source's name: the Kustomization's own (Flux's names are unique per namespace; ``parent`` unused)."""
    return flux_name


def _parent_repository(parent: GitOpsSource, commit: str) -> dict[str, Any]:
    """The parent's own repository at ``commit`` (without the recipe of an artifact the parent itself reads)."""
    spec = copy.deepcopy((((parent.repository or {}).get("spec") or {}).get("template") or {}).get("spec") or {})
    spec.pop("artifact", None)
    spec["ref"] = {"commit": commit}
    return spec


def _git_spec(manifest: Manifest, parent: GitOpsSource, commit: str, repositories: dict[str, Manifest],
              instructions: Instructions | None = None) -> dict[str, Any]:
    """The child repository's spec: the parent's repository at the parent's commit, or a declared GitRepository,
    or (an ExternalArtifact) the parent's repository with the recipe of the artifact to build from it.

    ``instructions.this_repository`` names the GitRepositories that are the parent's own (flux/bootstrap.py).
    """
    obj = manifest.obj
    ref = (obj.get("spec") or {}).get("sourceRef") or {}
    kind, name = ref.get("kind") or "GitRepository", str(ref.get("name") or "")
    where = f"{manifest.display} in {manifest.origin}"
    mine = instructions.this_repository if instructions is not None else frozenset()
    mine = mine or frozenset({BOOTSTRAP_NAME, parent.name} - set(repositories))
    if kind == "ExternalArtifact":
        generated = _parent_repository(parent, commit)
        generated["artifact"] = recipe(name, instructions.generators if instructions else (), mine, repositories,
                                       where)
        return generated
    if kind != "GitRepository":
        raise ValidationFailed(f"{where}: spec.sourceRef.kind {kind} is not supported; use a GitRepository "
                               "or an ExternalArtifact (docs/flux.md)", origin=manifest.origin)
    if name in mine:
        return _parent_repository(parent, commit)
    declared = repositories.get(name)
    if declared is None:
        raise ValidationFailed(f"{where}: spec.sourceRef names GitRepository {name!r}, which the revision does not "
                               f"declare (use {BOOTSTRAP_NAME!r} or {parent.name!r} for this repository)",
                               origin=manifest.origin)
    git = declared.obj.get("spec") or {}
    spec: dict[str, Any] = {"url": str(git.get("url") or ""), "ref": {k: str(v) for k, v in
                                                                      (git.get("ref") or {}).items() if k in
                                                                      ("branch", "tag", "semver", "commit")}}
    for key in ("interval", "timeout", "provider"):
        if git.get(key):
            spec[key] = git[key]
    if (git.get("secretRef") or {}).get("name"):
        spec["secretRef"] = {"name": git["secretRef"]["name"]}
    return spec


def _kustomization_spec(manifest: Manifest, parent: str) -> dict[str, Any]:
    """The child kustomization's spec from a Flux Kustomization; ValidationFailed for fields not supported."""
    spec = manifest.obj.get("spec") or {}
    where = f"{manifest.display} in {manifest.origin}"
    for field in _REFUSED:
        if spec.get(field):
            raise ValidationFailed(f"{where}: spec.{field} is not supported (docs/flux.md)", origin=manifest.origin)
    if spec.get("deletionPolicy") not in (None, "", *DELETION_POLICIES):
        raise ValidationFailed(f"{where}: spec.deletionPolicy: Unsupported value: {str(spec['deletionPolicy'])!r}: "
                               f"supported values: {', '.join(repr(p) for p in DELETION_POLICIES)}",
                               origin=manifest.origin)
    try:  # as Flux's CRD schema would refuse the Kustomization: every name, path and pattern checked
        read_fields(spec)
    except ReconcileError as exc:
        raise type(exc)(f"{where}: {exc.message}", origin=manifest.origin) from None
    out: dict[str, Any] = {key: copy.deepcopy(spec[key]) for key in _CARRIED if spec.get(key) not in (None, "")}
    out["prune"] = bool(spec.get("prune", False))
    if spec.get("suspend"):
        out["suspend"] = True
    out["dependsOn"] = [child_name(parent, str(dep.get("name") or "")) for dep in spec.get("dependsOn") or []
                        if isinstance(dep, dict) and dep.get("name")]
    return out


def desired_children(parent: GitOpsSource, instructions: Instructions,
                     commit: str) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """name -> (FederatedGitRepository, FederatedKustomization) of every child the revision declares."""
    repositories = {str(m.obj["metadata"]["name"]): m for m in instructions.repositories}
    parent_ks = parent.kustomization or {}
    placement = copy.deepcopy((parent_ks.get("spec") or {}).get("placement"))
    owner = {"apiVersion": parent_ks.get("apiVersion"), "kind": parent_ks.get("kind"),
             "name": parent.name, "uid": (parent_ks.get("metadata") or {}).get("uid")}
    children: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for manifest in instructions.kustomizations:
        flux_name = str(manifest.obj["metadata"]["name"])
        name = child_name(parent.name, flux_name)
        metadata = {"name": name, "namespace": parent.namespace, "labels": {LABEL_PARENT: parent.name},
                    "annotations": {ANNOTATION_FLUX_NAME: flux_name, ANNOTATION_PARENT_PATH: parent.path},
                    "ownerReferences": [owner] if owner["uid"] else []}
        objects = []
        for kind, spec in ((names.KIND_FEDERATED_GIT_REPOSITORY, _git_spec(manifest, parent, commit, repositories,
                                                                                    instructions)),
                           (names.KIND_FEDERATED_KUSTOMIZATION, _kustomization_spec(manifest, parent.name))):
            body: dict[str, Any] = {"apiVersion": names.TYPES_API_VERSION, "kind": kind,
                                    "metadata": copy.deepcopy(metadata), "spec": {"template": {"spec": spec}}}
            if placement:
                body["spec"]["placement"] = copy.deepcopy(placement)
            objects.append(body)
        children[name] = (objects[0], objects[1])
    return children


def _write(api: Any, body: dict[str, Any]) -> None:
    """Create ``body``, or merge-patch its spec, labels and annotations onto the existing object."""
    meta = body["metadata"]
    try:
        json_request(api, "POST", management_path(body["kind"], meta["namespace"]), body)
        return
    except ApiException as exc:
        if exc.status != 409:
            raise
    live = json_request(api, "GET", management_path(body["kind"], meta["namespace"], meta["name"]))
    owner = ((live.get("metadata") or {}).get("labels") or {}).get(LABEL_PARENT)
    if owner != meta["labels"][LABEL_PARENT]:
        whose = f"a child of source {owner}" if owner else "a source of its own"
        raise ValidationFailed(f"Kustomization {meta['annotations'][ANNOTATION_FLUX_NAME]} would be source "
                               f"{meta['name']}, which already exists and is {whose}, not a child of this source: "
                               "rename one of them")
    patch = {"metadata": {"labels": meta["labels"], "annotations": meta["annotations"]},
             "spec": {"template": {"spec": body["spec"]["template"]["spec"]}}}
    if "placement" in body["spec"]:
        patch["spec"]["placement"] = body["spec"]["placement"]
    json_request(api, "PATCH", management_path(body["kind"], meta["namespace"], meta["name"]), patch,
                 content_type="application/merge-patch+json")


def existing_children(api: Any, namespace: str, parent: str) -> list[dict[str, Any]]:
    """The FederatedKustomizations whose parent label names ``parent``."""
    listed = json_request(api, "GET", management_path(names.KIND_FEDERATED_KUSTOMIZATION, namespace),
                          query={"labelSelector": f"{LABEL_PARENT}={parent}"})
    return list(listed.get("items") or [])


def keeps_objects(child: GitOpsSource) -> bool:
    """Whether deleting a child keeps its objects on the clusters: its deletionPolicy (Flux's rule) with its prune."""
    policy = child.deletion_policy
    if policy in ("Delete", "WaitForTermination"):
        return False
    return policy == "Orphan" or not child.prune


def mark_orphan(api: Any, namespace: str, name: str) -> None:
    """Annotate a child ``kubefed.io/orphan``: its deletion keeps its objects on the clusters."""
    json_request(api, "PATCH", management_path(names.KIND_FEDERATED_KUSTOMIZATION, namespace, name),
                 {"metadata": {"annotations": {names.ANNOTATION_ORPHAN: "true"}}},
                 content_type="application/merge-patch+json")


def sync(api: Any, parent: GitOpsSource, instructions: Instructions, commit: str) -> list[str]:
    """Create or update the children the revision declares, delete those that left it; return the deleted names.

    A child that left git is deleted with its repository; its prune finalizer removes its objects from
    the clusters as its ``deletionPolicy`` says: ``MirrorPrune`` (the default) when it was declared with
    ``prune: true`` (else it is marked orphan first, as Flux orphans the objects of a Kustomization without
    prune), ``Delete`` and ``WaitForTermination`` always, ``Orphan`` never.
    """
    wanted = desired_children(parent, instructions, commit)
    for repository, kustomization in wanted.values():
        _write(api, repository)
        _write(api, kustomization)
    removed: list[str] = []
    for child in existing_children(api, parent.namespace, parent.name):
        name = child["metadata"]["name"]
        if name in wanted or (child["metadata"].get("deletionTimestamp")):
            continue
        if keeps_objects(GitOpsSource(None, child)):
            mark_orphan(api, parent.namespace, name)
        for kind in (names.KIND_FEDERATED_KUSTOMIZATION, names.KIND_FEDERATED_GIT_REPOSITORY):
            try:
                json_request(api, "DELETE", management_path(kind, parent.namespace, name))
            except ApiException as exc:
                if exc.status != 404:
                    raise
        removed.append(name)
    return removed
