"""Every expansion counts (issue 18, attack E), reproduced as an attacker who can only push to its repository.

Before the fix, ``postBuild.substitute`` bypassed every size and alias limit: a 16 KB manifest and a 64 KB
variable gave a 250 MiB object and 892 MB of RSS; a 246-byte alias bomb in a variable gave a 44.7 MiB object.
Now substitution is counted as it is produced (refused at the first byte over the limit, never built) and read
back with the bounded loader; a refused revision applies nothing.
"""

from __future__ import annotations

import tracemalloc

import pytest
import yaml

from gitops_tui.api import names
from gitops_tui.kube.limits import Budget, LimitExceeded
from gitops_tui.reconciler.flux.substitute import substitute_object
from tests.world import CLUSTERS, World, configmap

BIG = "x" * (64 * 1024)  # a 64 KB variable
#: An alias bomb small enough for a variable (under 246 bytes): 7 levels of 9 give 4.8 million strings.
BOMB = "[" + "&a [l,l,l,l,l,l,l,l,l]," + ",".join(
    f"&{level} [" + ",".join([f"*{prev}"] * 9) + "]" for prev, level in zip("abcdef", "bcdefg", strict=True)) + "]"


def many_references(count: int) -> str:
    """A ConfigMap whose data holds ``count`` references to ${big} (about 6 bytes each)."""
    keys = {f"k{i}": "${big}" * 10 for i in range(count // 10)}
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "huge"}, "data": keys})


def flux_child(world: World, variables: dict[str, str], manifest: str) -> None:
    """A repository whose Kustomization `apps` substitutes ``variables`` into ``manifest``; reconcile both."""
    ks = yaml.safe_dump({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                         "metadata": {"name": "apps", "namespace": "flux-system"},
                         "spec": {"interval": "5m", "path": "./apps", "prune": True,
                                  "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
                                  "postBuild": {"substitute": variables}}})
    repo = world.repo("flux", {"clusters/apps.yaml": ks, "apps/payload.yaml": manifest,
                               "apps/innocent.yaml": configmap("innocent")})
    world.create("root", f"file://{repo}", path="./clusters")
    world.reconcile("root")
    world.reconcile("apps")


def test_a_large_variable_substituted_thousands_of_times_is_refused_before_it_is_built(world: World) -> None:
    manifest = many_references(4000)
    assert 20_000 < len(manifest) < 40_000
    tracemalloc.start()
    try:
        flux_child(world, {"big": BIG}, manifest)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    cond = world.condition("apps", names.READY)
    assert cond["status"] == "False" and cond["reason"] == "LimitExceeded", cond
    assert cond["message"] == ("ConfigMap huge in apps/payload.yaml grows past 3.0 MiB while its variables are substituted; "
                               "an object may hold at most 1.5 MiB"), cond
    assert peak < 64 * 1024 * 1024, f"{peak / 2**20:.0f} MiB allocated: the 250 MiB object was built"
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "innocent") is None, "a refused revision applies nothing"
        assert world.get(cluster, "configmaps", "huge") is None


def test_an_alias_bomb_in_a_variable_is_refused(world: World) -> None:
    assert len(BOMB) <= 246
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  payload: ${bomb}\n"
    flux_child(world, {"bomb": BOMB}, manifest)
    cond = world.condition("apps", names.READY)
    assert cond["status"] == "False" and cond["reason"] == "LimitExceeded", cond
    assert cond["message"] == ("ConfigMap bomb in apps/payload.yaml expands to more than 1,000,000 YAML nodes (an alias "
                               "bomb?); write the objects out instead of nesting aliases"), cond
    for cluster in CLUSTERS:
        assert world.get(cluster, "configmaps", "innocent") is None


def test_substitution_stops_at_the_first_byte_over_the_limit() -> None:
    obj = yaml.safe_load(many_references(4000))
    tracemalloc.start()
    try:
        with pytest.raises(LimitExceeded, match="grows past 3.0 MiB"):
            substitute_object(obj, {"big": BIG}, Budget(), "ConfigMap huge")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"{peak / 2**20:.1f} MiB"
    budget = Budget(total=5 * 1024 * 1024)
    small = yaml.safe_load(many_references(20))
    with pytest.raises(LimitExceeded, match="makes the revision larger than 5.0 MiB"):
        for index in range(100):  # 100 objects of 1.3 MiB each: the revision's budget runs out
            substitute_object(small, {"big": BIG}, budget, f"ConfigMap huge-{index}")
