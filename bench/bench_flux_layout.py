#!/usr/bin/env python3
"""A Flux-layout reconcile (a bootstrapped parent and 3 child Kustomizations) beside a plain source of the same objects,
both on dev, staging and prod of a private sandbox, ratio in the same run (issue 20, "Done when").

- ``flux``: a repository in Flux's layout: ``clusters/staging/flux-system/gotk-sync.yaml`` as ``flux bootstrap``
  writes it, and three Kustomizations (``a`` -> ``b`` -> ``c`` by dependsOn) each of a folder of ``--objects``
  ConfigMaps. One pass = reconcile the parent, then each child in dependency order, as the work queue would.
- ``plain``: one source whose path builds the same three folders' objects (other names, same content).
- ``first``: the first pass to Ready everywhere (clone, build, create); ``change``: a commit changing every object,
  applied everywhere (median of ``--rounds``). Ratios are flux / plain: what the layout costs the user.

Usage: .venv/bin/python bench/bench_flux_layout.py [--objects 20] [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CLUSTERS, BenchSandbox, git, init_repo, median, ratio, run  # noqa: E402
from gitops_tui.actions import sources as actions  # noqa: E402
from gitops_tui.api import paths  # noqa: E402
from gitops_tui.kube.client import json_request  # noqa: E402
from tests.flux_example import gotk_sync  # noqa: E402

CHILDREN = ["a", "b", "c"]


def configmaps(prefix: str, count: int, value: str) -> str:
    """``count`` ConfigMaps named ``<prefix>-NN`` (no namespace: tenancy sets the project's)."""
    return "".join(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {prefix}-{i:02d}\ndata:\n"
                   f"  value: \"{value}\"\n  index: \"{i}\"\n" for i in range(count))


def child(name: str, depends: str | None) -> str:
    """A Flux Kustomization of folder ./apps/<name> in the repository itself (GitRepository flux-system)."""
    after = f"  dependsOn:\n    - name: {depends}\n" if depends else ""
    return (f"---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n"
            f"  namespace: flux-system\nspec:\n  interval: 10m\n{after}  sourceRef:\n    kind: GitRepository\n"
            f"    name: flux-system\n  path: ./apps/{name}\n  prune: true\n")


def write_objects(root: Path, prefix: str, count: int, value: str) -> None:
    """Each child's folder: a kustomization.yaml and its ConfigMaps (names start with ``prefix``)."""
    for name in CHILDREN:
        folder = root / "apps" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kustomization.yaml").write_text("resources:\n- configmaps.yaml\n")
        (folder / "configmaps.yaml").write_text(configmaps(f"{prefix}{name}", count, value))


def write_flux(root: Path, count: int, value: str) -> None:
    """The Flux-layout repository: bootstrap files, the three Kustomizations, their folders."""
    cluster = root / "clusters" / "staging"
    (cluster / "flux-system").mkdir(parents=True, exist_ok=True)
    (cluster / "flux-system" / "gotk-sync.yaml").write_text(gotk_sync("clusters/staging"))
    (cluster / "flux-system" / "kustomization.yaml").write_text("resources:\n- gotk-sync.yaml\n")
    (cluster / "apps.yaml").write_text("".join(child(n, CHILDREN[i - 1] if i else None)
                                               for i, n in enumerate(CHILDREN)))
    write_objects(root, "flux-", count, value)


def write_plain(root: Path, count: int, value: str) -> None:
    """The plain repository: one folder building the three folders' objects."""
    write_objects(root, "plain-", count, value)
    (root / "all").mkdir(exist_ok=True)
    (root / "all" / "kustomization.yaml").write_text("resources:\n" + "".join(f"- ../apps/{n}\n" for n in CHILDREN))


class Bench(BenchSandbox):
    """The private sandbox and both repositories."""

    def __init__(self, home: Path, objects: int) -> None:
        """Start the sandbox, make both repositories and their sources."""
        super().__init__(home, "flux-bench")
        self.objects = objects
        try:
            self.flux_repo = init_repo(home / "flux-repo", lambda p: write_flux(p, objects, "v0"))
            self.plain_repo = init_repo(home / "plain-repo", lambda p: write_plain(p, objects, "v0"))
            actions.create_source(self.api, self.project, "staging", f"file://{self.flux_repo}",
                                  ref={"branch": "main"}, path="./clusters/staging")
            actions.create_source(self.api, self.project, "plain", f"file://{self.plain_repo}",
                                  ref={"branch": "main"}, path="./all")
        except BaseException:
            self.close()  # the sandbox this started stops with the benchmark
            raise

    def flux_pass(self) -> float:
        """One pass of the Flux layout: the parent, then each child in dependency order."""
        return self.reconcile("staging") + sum(self.reconcile(name) for name in CHILDREN)

    def check(self, value: str) -> None:
        """Stop the benchmark unless both sides' objects carry ``value`` on every cluster (the pass applied)."""
        for cluster in CLUSTERS:
            api_client, _ = self.ctx.clusters.get(cluster)
            for prefix in ("flux-", "plain-"):
                for name in CHILDREN:
                    path = paths.resource_path("v1", "configmaps", self.project, f"{prefix}{name}-00")
                    got = json_request(api_client, "GET", path)["data"]["value"]
                    if got != value:
                        raise SystemExit(f"{cluster}: {prefix}{name}-00 has {got!r}, not {value!r}")

    def change(self, value: str) -> None:
        """Commit a change of every object's value in both repositories."""
        write_objects(self.flux_repo, "flux-", self.objects, value)
        write_objects(self.plain_repo, "plain-", self.objects, value)
        for repo in (self.flux_repo, self.plain_repo):
            git(repo, "commit", "-qam", f"value {value}")


def measure(bench: Bench, rounds: int) -> dict[str, Any]:
    """First pass and change passes of both, alternating which goes first."""
    load_before = os.getloadavg()
    first_flux = bench.flux_pass()
    first_plain = bench.reconcile("plain")
    bench.check("v0")
    flux, plain = [], []
    for index in range(rounds):
        bench.change(f"v{index + 1}")
        if index % 2:
            plain.append(bench.reconcile("plain"))
            flux.append(bench.flux_pass())
        else:
            flux.append(bench.flux_pass())
            plain.append(bench.reconcile("plain"))
        bench.check(f"v{index + 1}")
    load_after = os.getloadavg()
    return {
        "objects": bench.objects * len(CHILDREN), "clusters": 3, "rounds": rounds,
        "first_flux_s": round(first_flux, 3), "first_plain_s": round(first_plain, 3),
        "first_ratio_flux_over_plain": ratio(first_flux, first_plain),
        "change_flux_s": median(flux), "change_plain_s": median(plain),
        "change_ratio_flux_over_plain": ratio(median(flux), median(plain)),
        "load_average_1m": f"{load_before[0]:.1f} -> {load_after[0]:.1f}",
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def main() -> int:
    """Parse the flags and run the benchmark on a private sandbox."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=20, help="ConfigMaps per child (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="change passes (default 5)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    os.environ.setdefault("GITOPS_TUI_ALLOW_LOCAL_REPOS", tempfile.gettempdir())  # the benchmark's own repositories
    return run("gitops-tui-bench-flux-", lambda home: Bench(home, args.objects),
               lambda bench: measure(bench, args.rounds), args.json)


if __name__ == "__main__":
    raise SystemExit(main())
