"""Flux's bootstrap layout: the GitRepository and Kustomization of the path being reconciled are this source itself.

``flux bootstrap`` writes ``clusters/<env>/flux-system/gotk-sync.yaml``: a GitRepository and a Kustomization,
both named after Flux's namespace (``flux-system``), the Kustomization pointing at the very path that holds the
file. Read as a child, it would render itself again and again. Here a Kustomization whose source is this
source's own repository and whose path is this source's path *is* this source: not a child, nothing recurses.
``gotk-components.yaml`` installs Flux's own controllers (every object labelled ``app.kubernetes.io/part-of:
flux`` with an ``app.kubernetes.io/instance``, as Flux's install manifests are): the reconciler does their
work, so they are left out unless the operator opts in (``run --flux-components apply``). docs/flux.md.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from typing import Any

from gitops_tui.api.flux_role import COMPONENTS_APPLY, COMPONENTS_SKIP
from gitops_tui.api.source import GitOpsSource

#: The name ``flux bootstrap`` gives the repository and the Kustomization (its namespace's, by default).
BOOTSTRAP_NAME = "flux-system"
PART_OF = "app.kubernetes.io/part-of"
INSTANCE = "app.kubernetes.io/instance"
FLUX = "flux"

__all__ = ["BOOTSTRAP_NAME", "COMPONENTS_APPLY", "COMPONENTS_SKIP", "is_component", "leave_components",
           "recognise", "same_path", "same_repository"]

_SCP = re.compile(r"^(?:[\w.+-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//).*)$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?(?P<host>[^/:]+)(?::\d+)?(?P<path>/.*)?$", re.IGNORECASE)


def _repository_key(url: str) -> str:
    """``host/path`` of a git URL, lower-case host, without user, port, ``.git`` or trailing slash ("" if unknown)."""
    text = url.strip()
    if text.startswith("file://"):
        return "file:" + posixpath.normpath(text[len("file://"):]).rstrip("/").removesuffix(".git")
    if text.startswith("/"):
        return "file:" + posixpath.normpath(text).rstrip("/").removesuffix(".git")
    match = _URL.match(text) or _SCP.match(text)
    if match is None:
        return ""
    path = (match.group("path") or "").strip("/").removesuffix(".git")
    return f"{match.group('host').lower()}/{path}"


def same_repository(a: str, b: str) -> bool:
    """Whether two git URLs name one repository (``ssh://git@github.com/o/r`` is ``https://github.com/o/r.git``)."""
    key = _repository_key(a)
    return bool(key) and key == _repository_key(b)


def _clean_path(path: str) -> str:
    return posixpath.normpath("./" + (path or "").strip().lstrip("/")).removeprefix("./") or "."


def same_path(a: str, b: str) -> bool:
    """Whether two Kustomization paths name one directory (``./clusters/staging`` is ``clusters/staging/``)."""
    return _clean_path(a) == _clean_path(b)


def _spec(manifest: Any) -> dict[str, Any]:
    spec = manifest.obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _git_ref(spec: dict[str, Any]) -> dict[str, str]:
    found = spec.get("ref")
    ref: dict[str, Any] = found if isinstance(found, dict) else {}
    return {k: str(v) for k, v in ref.items() if k in ("branch", "tag", "semver", "commit") and v}


def _source_name(kustomization: Any) -> str:
    """The GitRepository a Kustomization reads ("" when its sourceRef is another kind)."""
    ref = _spec(kustomization).get("sourceRef")
    ref = ref if isinstance(ref, dict) else {}
    return str(ref.get("name") or "") if (ref.get("kind") or "GitRepository") == "GitRepository" else ""


def this_repository(source: GitOpsSource, instructions: Any) -> frozenset[str]:
    """Names of the GitRepositories that are this source's own repository, read at this source's commit.

    ``flux-system`` and the source's own name when the revision declares no GitRepository of that name (Flux
    bootstrap's name); a declared GitRepository whose URL and ref are this source's; and the bootstrap pair: a
    GitRepository and a Kustomization of one name, the Kustomization reading it at this source's path.
    """
    declared = {str(m.obj["metadata"]["name"]): m for m in instructions.repositories}
    names = {name for name in (BOOTSTRAP_NAME, source.name) if name not in declared}
    for name, manifest in declared.items():
        spec = _spec(manifest)
        ref = _git_ref(spec)
        if same_repository(str(spec.get("url") or ""), source.url) and (not ref or ref == source.declared_ref):
            names.add(name)
    for kustomization in instructions.kustomizations:
        name = str(kustomization.obj["metadata"]["name"])
        if name in declared and _source_name(kustomization) == name \
                and same_path(str(_spec(kustomization).get("path") or ""), source.path):
            names.add(name)
    return frozenset(names)


def recognise(source: GitOpsSource, instructions: Any) -> Any:
    """The instructions with the Kustomizations that are this source moved to ``bootstrap``.

    A Kustomization is this source when it has the shape ``flux bootstrap`` writes: it reads a GitRepository of
    its own name that is this source's repository (``this_repository``), at this source's own path. Any other
    Kustomization stays a child (one that includes its parent is refused as a cycle: flux/bounds.py).
    """
    mine = this_repository(source, instructions)
    children: list[Any] = []
    itself: list[Any] = []
    for manifest in instructions.kustomizations:
        name = _source_name(manifest)
        is_self = (name in mine and name == str(manifest.obj["metadata"]["name"])
                   and same_path(str(_spec(manifest).get("path") or ""), source.path))
        (itself if is_self else children).append(manifest)
    return dataclasses.replace(instructions, kustomizations=tuple(children), bootstrap=tuple(itself),
                               this_repository=mine)


def is_component(obj: dict[str, Any]) -> bool:
    """Whether ``obj`` is one of Flux's own components (labelled part-of flux, with an instance, as Flux's install)."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return isinstance(labels, dict) and labels.get(PART_OF) == FLUX and bool(labels.get(INSTANCE))


def leave_components(manifests: list[Any], instructions: Any, mode: str) -> tuple[list[Any], Any]:
    """Leave Flux's own components out of ``manifests`` (mode ``skip``); the instructions record them either way."""
    components = tuple(m for m in manifests if is_component(m.obj))
    if not components:
        return manifests, instructions
    kept = manifests if mode == COMPONENTS_APPLY else [m for m in manifests if not is_component(m.obj)]
    return kept, dataclasses.replace(instructions, components=components, components_mode=mode)
