"""Tests of the tenancy policy: project namespace only; other namespaces, cluster-scoped and unknown kinds refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_tui.api import names
from gitops_tui.reconciler.errors import TenancyViolation
from gitops_tui.reconciler.render import Manifest, render
from gitops_tui.reconciler.tenancy import builtin_is_namespaced, enforce, label


def manifest(kind: str, name: str, namespace: str | None = None, api_version: str = "v1", file: str = "app.yaml") -> Manifest:
    metadata: dict = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return Manifest(obj={"apiVersion": api_version, "kind": kind, "metadata": metadata}, file=file)


def test_unset_namespace_gets_project_namespace_and_input_is_untouched() -> None:
    items = [manifest("ConfigMap", "a"), manifest("Deployment", "web", "demo", "apps/v1")]
    objects = enforce(items, "demo", builtin_is_namespaced)
    assert [o["metadata"]["namespace"] for o in objects] == ["demo", "demo"]
    assert "namespace" not in items[0].obj["metadata"]


def test_other_namespace_is_refused_naming_object_and_file() -> None:
    items = [manifest("ConfigMap", "ok"), manifest("Secret", "stolen", "kube-system", file="deploy/s.yaml")]
    with pytest.raises(TenancyViolation) as caught:
        enforce(items, "demo", builtin_is_namespaced)
    error = caught.value
    assert error.reason == "TenancyViolation"
    assert "Secret/stolen" in error.message and "deploy/s.yaml" in error.message and "kube-system" in error.message
    assert error.object == "Secret/stolen" and error.origin == "deploy/s.yaml"


@pytest.mark.parametrize(
    ("kind", "api_version"),
    [("Namespace", "v1"), ("ClusterRole", "rbac.authorization.k8s.io/v1"),
     ("CustomResourceDefinition", "apiextensions.k8s.io/v1")],
)
def test_cluster_scoped_kinds_are_refused(kind: str, api_version: str) -> None:
    with pytest.raises(TenancyViolation, match=rf"{kind}/x in app.yaml is cluster-scoped"):
        enforce([manifest(kind, "x", api_version=api_version)], "demo", builtin_is_namespaced)


def test_unknown_kinds_refused_unless_allowed() -> None:
    widget = manifest("Widget", "w", api_version="example.com/v1")
    with pytest.raises(TenancyViolation, match="which the cluster does not serve"):
        enforce([widget], "demo", builtin_is_namespaced)
    (obj,) = enforce([widget], "demo", builtin_is_namespaced, unknown_is_namespaced=True)
    assert obj["metadata"]["namespace"] == "demo"


def test_scope_comes_from_the_callable() -> None:
    calls: list[tuple[str, str]] = []

    def is_namespaced(api_version: str, kind: str) -> bool | None:
        calls.append((api_version, kind))
        return kind != "Tenant"

    with pytest.raises(TenancyViolation, match="Tenant/t"):
        enforce([manifest("Widget", "w", api_version="x.io/v1"), manifest("Tenant", "t", api_version="x.io/v1")], "demo", is_namespaced)
    assert calls == [("x.io/v1", "Widget"), ("x.io/v1", "Tenant")]


def test_all_violations_are_counted() -> None:
    items = [manifest("Namespace", "a"), manifest("ConfigMap", "b", "other"), manifest("ConfigMap", "c")]
    with pytest.raises(TenancyViolation, match=r"Namespace/a .*\(and 1 more object\(s\) refused\)"):
        enforce(items, "demo", builtin_is_namespaced)


def test_label_adds_project_and_source() -> None:
    objs = enforce([manifest("ConfigMap", "a")], "demo", builtin_is_namespaced)
    objs[0]["metadata"]["labels"] = {"app": "a"}
    labelled = label(objs, project="demo", source="podinfo")
    assert labelled[0]["metadata"]["labels"] == {"app": "a", names.LABEL_PROJECT: "demo", names.LABEL_SOURCE: "podinfo"}
    assert names.LABEL_PROJECT not in objs[0]["metadata"]["labels"]


def test_rendered_revision_with_namespace_escape(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy/app.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: prod}\n"
    )
    with pytest.raises(TenancyViolation, match=r"ConfigMap/b in deploy/app.yaml \(document 2\) targets namespace 'prod'"):
        enforce(render(tmp_path, "deploy"), "demo", builtin_is_namespaced)


def test_builtin_scopes() -> None:
    assert builtin_is_namespaced("apps/v1", "Deployment") is True
    assert builtin_is_namespaced("v1", "Namespace") is False
    assert builtin_is_namespaced("example.com/v1", "Widget") is None
