"""A Flux Kustomization's kustomize fields, checked as tenant input before kustomize sees them (docs/flux.md).

``patches`` (strategic merge and JSON 6902, with target selectors whose ``name`` and ``namespace`` are regular
expressions), ``images``, ``components`` (+ ``ignoreMissingComponents``), ``namePrefix``, ``nameSuffix`` and
``commonMetadata`` come from a repository: every name, path and pattern is bounded, a component must be a local
relative path inside the source's tree, a selector's expression must compile, and the inline patches count
against the size limits like the files they could have been. Flux's own API bounds are kept where it has them
(``namePrefix``/``nameSuffix`` 200 characters); elsewhere the limits are this reconciler's, named in the message.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from gitops_tui.reconciler.errors import BuildFailed, OverLimit, ValidationFailed
from gitops_tui.reconciler.kustomize_guard import is_remote

#: The Kustomization fields kustomize-controller writes into the generated kustomization (or applies after it).
BUILD_FIELDS = ("patches", "images", "components", "namePrefix", "nameSuffix", "commonMetadata")
MAX_PATCHES = 100
MAX_IMAGES = 100
MAX_COMPONENTS = 50
#: Bytes of every inline patch together (a kustomize output is bounded anyway: kube/limits.py).
MAX_PATCH_BYTES = 1024 * 1024
#: Characters of one selector field, image field or path.
MAX_FIELD = 1024
MAX_AFFIX = 200
MAX_METADATA = 256
_SELECTOR_FIELDS = ("group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector")
_IMAGE_FIELDS = ("name", "newName", "newTag", "digest")


@dataclass(frozen=True)
class KustomizeFields:
    """The checked fields, ready to be written into a kustomization (``commonMetadata`` applies after the build)."""

    patches: tuple[dict[str, Any], ...] = ()
    images: tuple[dict[str, str], ...] = ()
    components: tuple[str, ...] = ()
    ignore_missing_components: bool = False
    name_prefix: str = ""
    name_suffix: str = ""
    target_namespace: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def needs_build(self) -> bool:
        """Whether the path must go through kustomize with a generated kustomization."""
        return bool(self.patches or self.images or self.components or self.name_prefix or self.name_suffix)


def _text(value: Any, where: str, limit: int = MAX_FIELD) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{where}: Invalid value: a string is expected")
    if len(value) > limit:
        raise ValidationFailed(f"{where}: Invalid value: at most {limit} characters (it has {len(value)})")
    return value


def _list(spec: dict[str, Any], key: str, limit: int) -> list[Any]:
    value = spec.get(key)
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise ValidationFailed(f"spec.{key}: Invalid value: a list is expected")
    if len(value) > limit:
        raise OverLimit(f"spec.{key} has {len(value)} entries; at most {limit} are accepted")
    return value


def _selector(target: Any, where: str) -> dict[str, str]:
    if target is None:
        return {}
    if not isinstance(target, dict):
        raise ValidationFailed(f"{where}: Invalid value: a selector is a mapping")
    out = {}
    for key, value in target.items():
        if key not in _SELECTOR_FIELDS:
            raise ValidationFailed(f"{where}.{key}: Unsupported value: a target selects by "
                                   f"{', '.join(_SELECTOR_FIELDS)}")
        text = _text(value, f"{where}.{key}")
        if key in ("name", "namespace") and text:
            try:  # kustomize matches these as anchored regular expressions (Go RE2: linear time)
                re.compile(text)
            except re.error as exc:
                raise ValidationFailed(f"{where}.{key}: Invalid value: {text!r} is not a regular expression "
                                       f"({exc.msg})") from None
        out[key] = text
    return out


def _patches(spec: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    found, total = [], 0
    for index, item in enumerate(_list(spec, "patches", MAX_PATCHES)):
        where = f"spec.patches[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("patch"), str) or not item["patch"].strip():
            raise ValidationFailed(f"{where}.patch: Required value: an inline strategic merge or JSON 6902 patch")
        extra = set(item) - {"patch", "target"}
        if extra:
            raise ValidationFailed(f"{where}.{sorted(extra)[0]}: Unsupported value: a patch has patch and target")
        total += len(item["patch"].encode())
        if total > MAX_PATCH_BYTES:
            raise OverLimit(f"spec.patches hold more than {MAX_PATCH_BYTES // 1024} KiB of patches")
        patch: dict[str, Any] = {"patch": item["patch"]}
        target = _selector(item.get("target"), f"{where}.target")
        if target:
            patch["target"] = target
        found.append(patch)
    return tuple(found)


def _images(spec: dict[str, Any]) -> tuple[dict[str, str], ...]:
    found = []
    for index, item in enumerate(_list(spec, "images", MAX_IMAGES)):
        where = f"spec.images[{index}]"
        if not isinstance(item, dict) or not item.get("name"):
            raise ValidationFailed(f"{where}.name: Required value: the image to change")
        extra = set(item) - set(_IMAGE_FIELDS)
        if extra:
            raise ValidationFailed(f"{where}.{sorted(extra)[0]}: Unsupported value: an image has "
                                   f"{', '.join(_IMAGE_FIELDS)}")
        found.append({k: _text(item[k], f"{where}.{k}") for k in _IMAGE_FIELDS if item.get(k) not in (None, "")})
    return tuple(found)


def is_local_relative(path: str) -> bool:
    """A path inside the directory it is written in or below its root (no scheme, no absolute path, no remote)."""
    return bool(path) and not path.startswith("/") and not is_remote(path) and "\\" not in path


def _components(spec: dict[str, Any]) -> tuple[str, ...]:
    found = []
    for index, item in enumerate(_list(spec, "components", MAX_COMPONENTS)):
        path = _text(item, f"spec.components[{index}]")
        if not is_local_relative(path):
            raise BuildFailed(f"spec.components[{index}]: component path {path!r} must be local and relative: "
                              "remote components are not fetched, put them in the source's repository")
        found.append(posixpath.normpath(path))
    return tuple(found)


def _metadata(spec: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    common = spec.get("commonMetadata") or {}
    if not isinstance(common, dict):
        raise ValidationFailed("spec.commonMetadata: Invalid value: a mapping of labels and annotations")
    out = []
    for key in ("labels", "annotations"):
        value = common.get(key) or {}
        if not isinstance(value, dict) or len(value) > MAX_METADATA:
            raise ValidationFailed(f"spec.commonMetadata.{key}: Invalid value: a mapping of at most {MAX_METADATA} "
                                   "strings")
        out.append({_text(k, f"spec.commonMetadata.{key}"): _text(v, f"spec.commonMetadata.{key}.{k}",
                                                                    64 * MAX_FIELD)
                    for k, v in value.items()})
    return out[0], out[1]


def read_fields(spec: dict[str, Any]) -> KustomizeFields:
    """The checked kustomize fields of a Flux Kustomization spec; ValidationFailed, BuildFailed or OverLimit else."""
    labels, annotations = _metadata(spec)
    return KustomizeFields(
        patches=_patches(spec), images=_images(spec), components=_components(spec),
        ignore_missing_components=bool(spec.get("ignoreMissingComponents")),
        name_prefix=_text(spec.get("namePrefix") or "", "spec.namePrefix", MAX_AFFIX),
        name_suffix=_text(spec.get("nameSuffix") or "", "spec.nameSuffix", MAX_AFFIX),
        target_namespace=_text(spec.get("targetNamespace") or "", "spec.targetNamespace", 63),
        labels=labels, annotations=annotations)


def set_common_metadata(objects: list[dict[str, Any]], fields: KustomizeFields) -> None:
    """Overlay ``commonMetadata`` on every object's labels and annotations, the common value winning (Flux's rule)."""
    if not fields.labels and not fields.annotations:
        return
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        if fields.labels:
            meta["labels"] = {**(meta.get("labels") or {}), **fields.labels}
        if fields.annotations:
            meta["annotations"] = {**(meta.get("annotations") or {}), **fields.annotations}
