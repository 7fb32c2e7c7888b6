"""Every reference a Flux object of a revision holds, checked before anything is looked up (docs/security.md).

Each field that names another object (``sourceRef``, ``chartRef``, ``dependsOn``, ``secretRef``,
``postBuild.substituteFrom``, ``valuesFrom``, ``decryption.secretRef``, ``kubeConfig.secretRef`` ...) must hold a
DNS-1123 name of an allowed kind, in the referring object's own namespace: as Flux with
``--no-cross-namespace-refs=true``. The table below is the one list of those fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gitops_tui.api.references import ReferenceRefused, check_kind, check_name, check_same_namespace

_SECRET = ("Secret",)
_VALUES = ("Secret", "ConfigMap")
_KUSTOMIZATION_SOURCES = ("OCIRepository", "GitRepository", "Bucket", "ExternalArtifact")
#: Flux's enum, and OCIRepository, which the HelmRelease step refuses by name with what to write instead.
_CHART_SOURCES = ("HelmRepository", "GitRepository", "Bucket", "OCIRepository")
_CHART_REFS = ("OCIRepository", "HelmChart", "ExternalArtifact")


@dataclass(frozen=True)
class Field:
    """One reference field: its path (``[]`` marks a list), the kinds it may name, whether it may give a namespace."""

    path: str
    kinds: tuple[str, ...]
    namespaced: bool = False
    kind_fixed: bool = True  # the kind is implied (dependsOn, secretRef), not read from the reference
    #: Another namespace is allowed when the target is an object of the same revision (answered from it alone).
    in_revision: bool = False


#: (API group, kind) -> the reference fields of that kind (Flux's v1/v2 APIs).
FIELDS: dict[tuple[str, str], tuple[Field, ...]] = {
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): (
        Field("spec.sourceRef", _KUSTOMIZATION_SOURCES, namespaced=True, kind_fixed=False),
        Field("spec.dependsOn[]", ("Kustomization",), namespaced=True),
        Field("spec.postBuild.substituteFrom[]", _VALUES, kind_fixed=False),
        Field("spec.decryption.secretRef", _SECRET),
        Field("spec.kubeConfig.secretRef", _SECRET),
    ),
    ("helm.toolkit.fluxcd.io", "HelmRelease"): (
        Field("spec.chart.spec.sourceRef", _CHART_SOURCES, namespaced=True, kind_fixed=False),
        Field("spec.chartRef", _CHART_REFS, namespaced=True, kind_fixed=False),
        Field("spec.dependsOn[]", ("HelmRelease",), namespaced=True, in_revision=True),
        Field("spec.valuesFrom[]", _VALUES, kind_fixed=False),
        Field("spec.kubeConfig.secretRef", _SECRET),
    ),
    ("source.toolkit.fluxcd.io", "GitRepository"): (
        Field("spec.secretRef", _SECRET),
        Field("spec.proxySecretRef", _SECRET),
        Field("spec.verify.secretRef", _SECRET),
        Field("spec.include[].repository", ("GitRepository",)),
    ),
    ("source.toolkit.fluxcd.io", "HelmRepository"): (
        Field("spec.secretRef", _SECRET),
        Field("spec.certSecretRef", _SECRET),
        Field("spec.proxySecretRef", _SECRET),
    ),
    ("source.toolkit.fluxcd.io", "OCIRepository"): (
        Field("spec.secretRef", _SECRET),
        Field("spec.certSecretRef", _SECRET),
        Field("spec.proxySecretRef", _SECRET),
        Field("spec.verify.secretRef", _SECRET),
    ),
    ("source.extensions.fluxcd.io", "ArtifactGenerator"): (
        Field("spec.sources[]", ("GitRepository", "OCIRepository", "Bucket", "HelmChart", "ExternalArtifact"),
              namespaced=True, kind_fixed=False),
    ),
    ("source.toolkit.fluxcd.io", "HelmChart"): (
        Field("spec.sourceRef", ("HelmRepository", "GitRepository", "Bucket"), namespaced=True, kind_fixed=False),
        Field("spec.verify.secretRef", _SECRET),
    ),
    ("source.toolkit.fluxcd.io", "Bucket"): (
        Field("spec.secretRef", _SECRET),
        Field("spec.certSecretRef", _SECRET),
        Field("spec.proxySecretRef", _SECRET),
    ),
}
#: Plain string fields naming an object of the referring object's namespace.
NAME_FIELDS: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): (("spec.serviceAccountName", "ServiceAccount"),),
    ("helm.toolkit.fluxcd.io", "HelmRelease"): (("spec.serviceAccountName", "ServiceAccount"),),
}


@dataclass(frozen=True)
class Reference:
    """A checked reference: what it names, in which namespace, and the field that holds it."""

    field: str
    kind: str
    name: str
    namespace: str


def _group(obj: dict[str, Any]) -> str:
    return str(obj.get("apiVersion", "")).rpartition("/")[0]


def _values(obj: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(field path with indexes, value) of each value ``path`` reaches in ``obj``; ``[]`` walks a list."""
    head, dot, rest = path.partition(".")
    is_list = head.endswith("[]")
    key = head[:-2] if is_list else head
    if not isinstance(obj, dict) or obj.get(key) in (None, "", [], {}):
        return
    value = obj[key]
    items = list(enumerate(value)) if is_list and isinstance(value, list) else [(None, value)]
    for index, item in items:
        here = key if index is None else f"{key}[{index}]"
        if not dot:
            yield here, item
        else:
            for sub, found in _values(item, rest):
                yield f"{here}.{sub}", found


def references(obj: dict[str, Any], own_namespace: str, where: str = "",
               present: frozenset[tuple[str, str, str]] = frozenset()) -> list[Reference]:
    """Every reference ``obj`` holds, checked: names DNS-1123, kinds allowed, the namespace its own.

    ``own_namespace`` is where its references resolve (the object's namespace, else the project's). ``present``
    holds (kind, namespace, name) of the revision's objects: a HelmRelease's dependsOn may name one of them in
    another namespace (nothing outside the revision is asked). Raises ReferenceRefused naming the first field that
    fails; an object of another kind has none.
    """
    key = (_group(obj), str(obj.get("kind") or ""))
    found: list[Reference] = []
    for spec in FIELDS.get(key, ()):
        for field, ref in _values(obj, spec.path):
            if not isinstance(ref, dict):
                raise ReferenceRefused("ValidationFailed", f"{where}: {field}: Invalid value: a reference is a "
                                                           "mapping with a name")
            kind = spec.kinds[0] if spec.kind_fixed else check_kind(ref.get("kind"), spec.kinds, f"{field}.kind",
                                                                     where=where)
            name = check_name(ref.get("name"), f"{field}.name", kind=kind, where=where)
            namespace = own_namespace
            if spec.namespaced and not (spec.in_revision and (kind, ref.get("namespace"), name) in present):
                namespace = check_same_namespace(ref.get("namespace"), own_namespace, kind, name,
                                                 f"{field}.namespace", where=where)
            elif spec.namespaced:
                namespace = str(ref["namespace"])
            found.append(Reference(field, kind, name, namespace))
    for path, kind in NAME_FIELDS.get(key, ()):
        for field, value in _values(obj, path):
            found.append(Reference(field, kind, check_name(value, field, kind=kind, where=where), own_namespace))
    return found


def check_all(objects: Iterable[tuple[dict[str, Any], str, str]]) -> None:
    """Check the references of each (object, namespace its references resolve in, where it comes from)."""
    items = list(objects)
    present = frozenset((str(obj.get("kind") or ""), namespace, str((obj.get("metadata") or {}).get("name") or ""))
                        for obj, namespace, _ in items)
    for obj, namespace, where in items:
        references(obj, namespace, where, present)


def display(obj: dict[str, Any], origin: str = "") -> str:
    """``Kind/name in origin``, as the revision's other messages name an object."""
    name = (obj.get("metadata") or {}).get("name")
    return f"{obj.get('kind')}/{name}" + (f" in {origin}" if origin else "")


__all__ = ["FIELDS", "Field", "Reference", "ReferenceRefused", "check_all", "display", "references"]
