"""kube.inventory.Hashes: one reconcile's configuration hashes, each object's computed once and equal to config_hash."""

from __future__ import annotations

import pytest

from gitops_tui.kube import inventory
from gitops_tui.kube.inventory import Hashes, config_hash


def configmap(name: str, value: str) -> dict:
    """A ConfigMap object."""
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "p"},
            "data": {"value": value}}


def test_each_object_is_hashed_once_and_as_config_hash_does(monkeypatch: pytest.MonkeyPatch) -> None:
    computed: list[str] = []

    def counted(obj: dict) -> str:
        computed.append(obj["metadata"]["name"])
        return config_hash(obj)

    monkeypatch.setattr(inventory, "config_hash", counted)
    objects = [configmap(f"cm-{i}", "v") for i in range(3)]
    hashes = Hashes()
    first = [hashes(obj) for obj in objects]
    again = [hashes(obj) for obj in objects for _cluster in ("dev", "staging", "prod")]
    assert first == [config_hash(obj) for obj in objects]
    assert again == [h for h in first for _cluster in range(3)]
    assert computed == ["cm-0", "cm-1", "cm-2"]


def test_an_equal_object_of_its_own_is_hashed_for_itself() -> None:
    """By identity: another object, even one equal now, gets its own hash (never a neighbour's)."""
    hashes = Hashes()
    one, other = configmap("cm", "a"), configmap("cm", "b")
    assert hashes(one) != hashes(other)
    assert hashes(configmap("cm", "a")) == hashes(one)
