"""Every reference field of Flux's kinds is checked: a name that is not one, a kind outside the enum, another namespace."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui.api.references import ReferenceRefused, check_name, name_errors
from gitops_tui.reconciler.flux.references import FIELDS, NAME_FIELDS, check_all, references

GROUP_VERSIONS = {"kustomize.toolkit.fluxcd.io": "v1", "helm.toolkit.fluxcd.io": "v2", "source.toolkit.fluxcd.io": "v1",
                  "source.extensions.fluxcd.io": "v1beta1"}
CASES = [(group, kind, field) for (group, kind), fields in FIELDS.items() for field in fields]


def _object(group: str, kind: str, path: str, value: Any) -> dict[str, Any]:
    """An object of ``kind`` holding ``value`` at ``path`` (a ``[]`` part becomes a one-item list)."""
    obj: dict[str, Any] = {"apiVersion": f"{group}/{GROUP_VERSIONS[group]}", "kind": kind,
                           "metadata": {"name": "x", "namespace": "team-a"}}
    node = obj
    parts = path.split(".")
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        key = part[:-2] if part.endswith("[]") else part
        child: Any = value if last else {}
        if part.endswith("[]"):
            node[key] = [child]
        else:
            node[key] = child
        node = child
    return obj


def _reference(field: Any, name: str, namespace: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"name": name}
    if not field.kind_fixed:
        ref["kind"] = field.kinds[0]
    if namespace is not None:
        ref["namespace"] = namespace
    return ref


@pytest.mark.parametrize(("group", "kind", "field"), CASES, ids=[f"{k}.{f.path}" for _, k, f in CASES])
def test_every_field_refuses_a_path_as_a_name(group: str, kind: str, field: Any) -> None:
    obj = _object(group, kind, field.path, _reference(field, "../../beta/secrets/db"))
    with pytest.raises(ReferenceRefused) as caught:
        references(obj, "team-a", f"{kind}/x in a.yaml")
    assert caught.value.reason == "ValidationFailed"
    assert caught.value.message.startswith(f"{kind}/x in a.yaml: {field.path.replace('[]', '[0]')}.name: Invalid value")
    good = references(_object(group, kind, field.path, _reference(field, "db")), "team-a")
    assert [(r.name, r.namespace) for r in good] == [("db", "team-a")]


@pytest.mark.parametrize(("group", "kind", "field"), [c for c in CASES if c[2].namespaced],
                         ids=[f"{k}.{f.path}" for _, k, f in CASES if f.namespaced])
def test_namespaced_fields_refuse_another_namespace_before_any_lookup(group: str, kind: str, field: Any) -> None:
    obj = _object(group, kind, field.path, _reference(field, "db", "beta"))
    with pytest.raises(ReferenceRefused) as caught:
        references(obj, "team-a")
    assert caught.value.reason == "AccessDenied"
    assert caught.value.message.endswith(f"can't access '{field.kinds[0]}/beta/db', cross-namespace references have "
                                         "been blocked")
    assert references(_object(group, kind, field.path, _reference(field, "db", "team-a")), "team-a")


def test_kinds_outside_the_enum_and_odd_shapes_are_refused() -> None:
    obj = _object("kustomize.toolkit.fluxcd.io", "Kustomization", "spec.postBuild.substituteFrom[]",
                  {"kind": "ServiceAccount", "name": "token"})
    with pytest.raises(ReferenceRefused, match='kind: Unsupported value: "ServiceAccount": supported values: '
                                               '"Secret", "ConfigMap"'):
        references(obj, "team-a")
    with pytest.raises(ReferenceRefused, match="a reference is a mapping"):
        references(_object("helm.toolkit.fluxcd.io", "HelmRelease", "spec.dependsOn[]", "beta/db"), "team-a")
    for path, _kind in NAME_FIELDS[("helm.toolkit.fluxcd.io", "HelmRelease")]:
        with pytest.raises(ReferenceRefused, match="spec.serviceAccountName: Invalid value"):
            references(_object("helm.toolkit.fluxcd.io", "HelmRelease", path, "../default"), "team-a")


def test_a_release_may_depend_on_another_namespace_of_the_same_revision_only() -> None:
    db = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "db", "namespace": "data"}}
    app = _object("helm.toolkit.fluxcd.io", "HelmRelease", "spec.dependsOn[]", {"name": "db", "namespace": "data"})
    check_all([(app, "team-a", "app"), (db, "data", "db")])
    with pytest.raises(ReferenceRefused, match="cross-namespace references have been blocked"):
        check_all([(app, "team-a", "app")])


@pytest.mark.parametrize("value", ["", "UPPER", "a_b", "-a", "a-", "a..b", "x" * 254, "../x", "a/b", ".", ".."])
def test_names_follow_kube_apiserver(value: str) -> None:
    assert name_errors(value)
    with pytest.raises(ReferenceRefused):
        check_name(value, "spec.secretRef.name")


def test_labels_and_subdomains_differ_as_in_kube() -> None:
    assert not name_errors("a.b-c") and name_errors("a.b-c", label=True)
    assert name_errors("x" * 64, label=True) == ["must be no more than 63 characters"]
    assert not name_errors("x" * 253)
