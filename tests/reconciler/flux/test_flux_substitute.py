"""Flux's post-build substitution rules (kustomize-controller docs, fluxcd/pkg envsubst), each tried against its edge."""

from __future__ import annotations

import pytest

from gitops_tui.reconciler.flux.substitute import SubstituteError, check_names, substitute_object, substitute_text

VARS = {"env": "prod", "empty": "", "n": "3"}


@pytest.mark.parametrize(("text", "expected"), [
    ("${env}", "prod"), ("${missing}", ""), ("${missing:=dev}", "dev"), ("${empty:=x}", "x"), ("${empty=x}", ""),
    ("${missing=x}", "x"), ("$${env}", "${env}"), ("$env", "$env"), ("a$", "a$"), ("${env:1:2}", "ro"),
    ("${env/o/0}", "pr0d"), ("${#env}", "4"), ("${env^^}", "PROD"),
])
def test_rules(text: str, expected: str) -> None:
    assert substitute_text(text, VARS) == expected


def test_malformed_and_bad_names_are_refused() -> None:
    with pytest.raises(SubstituteError):
        substitute_text("${env", VARS)
    with pytest.raises(SubstituteError):
        substitute_text("${1abc}", VARS)
    with pytest.raises(SubstituteError, match="not valid"):
        check_names({"bad-name": "x"}, "ConfigMap/vars")


def test_numbers_become_numbers_and_disabled_objects_stay() -> None:
    obj = {"kind": "X", "metadata": {"name": "a"}, "spec": {"replicas": "${n}", "label": "x-${env}"}}
    assert substitute_object(obj, VARS)["spec"] == {"replicas": 3, "label": "x-prod"}
    off = {"kind": "X", "metadata": {"name": "a", "labels": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}},
           "data": {"v": "${env}"}}
    assert substitute_object(off, VARS)["data"] == {"v": "${env}"}
