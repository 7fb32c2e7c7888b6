"""Build a path with a Flux Kustomization's kustomize fields, as kustomize-controller does, with real kustomize.

kustomize-controller (fluxcd/pkg/kustomize ``Generator``) edits the path's kustomization file, or generates one
listing the path's manifests when there is none, adding ``namespace`` (targetNamespace), ``namePrefix``,
``nameSuffix``, ``patches``, ``components`` and ``images``, then runs kustomize; ``commonMetadata`` is laid over
every object afterwards. Here the artifact stays read-only: its tree is linked (hard links, else copies) into a
private folder beside it, the kustomization written there, and the build runs through the same guard as every
kustomize build (kustomize_guard.py: nothing remote, nothing outside the tree) with ``kubectl kustomize``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.kube.limits import MAX_FILE_BYTES, LimitExceeded, load_documents
from gitops_tui.reconciler import render
from gitops_tui.reconciler.errors import BuildFailed, OverLimit, ValidationFailed
from gitops_tui.reconciler.flux.kustomize_fields import KustomizeFields

KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"


@contextlib.contextmanager
def linked_copy(root: Path) -> Iterator[Path]:
    """A writable copy of the tree ``root`` (files hard-linked when possible), removed afterwards."""
    base = root.resolve()
    staging = Path(tempfile.mkdtemp(prefix=".flux-build-", dir=base.parent))
    try:
        for current, dirs, files in os.walk(base):
            here = Path(current)
            target = staging / here.relative_to(base)
            target.mkdir(exist_ok=True)
            for name in dirs:
                if (here / name).is_symlink():
                    os.symlink(os.readlink(here / name), target / name)
            for name in files:
                source = here / name
                if source.is_symlink():
                    os.symlink(os.readlink(source), target / name)
                    continue
                try:
                    os.link(source, target / name)
                except OSError:
                    shutil.copyfile(source, target / name)
        yield staging
    finally:
        for current, dirs, _ in os.walk(staging):
            for name in dirs:
                if not (Path(current) / name).is_symlink():
                    os.chmod(Path(current) / name, 0o700)
        shutil.rmtree(staging, ignore_errors=True)


def _relative(path: Path, directory: Path) -> str:
    return "./" + path.relative_to(directory).as_posix()


def _read_kustomization(kfile: Path, shown: str) -> dict[str, Any]:
    """The kustomization file as a mapping (bounded loader); BuildFailed when it is not one."""
    text = kfile.read_bytes()
    if len(text) > MAX_FILE_BYTES:
        raise OverLimit(f"{shown} is larger than {MAX_FILE_BYTES} bytes", origin=shown)
    try:
        documents = load_documents(text.decode("utf-8"), shown)
    except LimitExceeded as exc:
        raise OverLimit(exc.message, origin=shown) from None
    except (yaml.YAMLError, UnicodeDecodeError):
        raise BuildFailed(f"kustomize build of {shown} failed: it is not valid YAML", origin=shown) from None
    content = documents[0] if documents else {}
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise BuildFailed(f"kustomize build of {shown} failed: the kustomization is not a mapping", origin=shown)
    return content


def _generated(directory: Path) -> dict[str, Any]:
    """The kustomization kustomize-controller generates for a folder without one: every manifest it holds."""
    files, folders = render.manifest_units(directory)
    resources = [_relative(p, directory) for p in sorted([*files, *folders])]
    content: dict[str, Any] = {"apiVersion": KUSTOMIZE_API, "kind": "Kustomization"}
    if resources:
        content["resources"] = resources
    else:
        content["namespace"] = "_placeholder"  # kustomize refuses an empty kustomization, as in Flux
    return content


def _with_fields(content: dict[str, Any], fields: KustomizeFields, directory: Path, root: Path,
                 generated: bool) -> dict[str, Any]:
    """``content`` with the Kustomization's fields written in, in kustomize-controller's order."""
    out = dict(content)
    if not generated and not out.get("resources"):
        out["buildMetadata"] = ["originAnnotations"]  # not empty for kustomize
    if fields.target_namespace:
        out["namespace"] = fields.target_namespace
    if fields.name_prefix:
        out["namePrefix"] = fields.name_prefix
    if fields.name_suffix:
        out["nameSuffix"] = fields.name_suffix
    if fields.patches:
        out["patches"] = [*(out.get("patches") or []), *fields.patches]
    components = list(out.get("components") or [])
    for index, component in enumerate(fields.components):
        target = (directory / component).resolve()
        if target != root and root not in target.parents:
            raise BuildFailed(f"spec.components[{index}]: component path {component!r} leaves the source's tree")
        if not target.exists() and fields.ignore_missing_components:
            continue
        components.append(component)
    if components:
        out["components"] = components
    images = list(out.get("images") or [])
    for image in fields.images:
        at = next((i for i, known in enumerate(images) if isinstance(known, dict) and known.get("name") == image["name"]),
                  None)
        if at is None:
            images.append(dict(image))
        else:
            images[at] = dict(image)
    if images:
        out["images"] = images
    return out


def build(root: Path, path: str, fields: KustomizeFields, revision: str = "") -> list[render.Manifest]:
    """Build ``path`` of the artifact ``root`` with the Kustomization's fields (kustomize, as kustomize-controller)."""
    target = render.resolve_path(root, path, revision)
    if not target.is_dir():
        raise ValidationFailed(f"path {path!r} is a file: patches, images, components, namePrefix and nameSuffix "
                               "need a directory", origin=path)
    real_root = root.resolve()
    with linked_copy(real_root) as workdir:
        directory = workdir / target.resolve().relative_to(real_root)
        kfile = render.find_kustomization(directory)
        shown = (kfile or directory / "kustomization.yaml").relative_to(workdir).as_posix()
        content = _read_kustomization(kfile, shown) if kfile is not None else _generated(directory)
        written = _with_fields(content, fields, directory, workdir.resolve(), generated=kfile is None)
        if kfile is not None:
            kfile.unlink()  # a hard link to the artifact's file: the artifact keeps its own
        (directory / "kustomization.yaml").write_text(yaml.safe_dump(written, sort_keys=False), encoding="utf-8")
        return render.build_kustomization(workdir, directory)
