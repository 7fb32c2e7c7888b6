"""How a Reconciler runs: its data directory, election, workers, trust flags and clock (the `run` command's flags)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gitops_tui.kube.kubeconfig_guard import STRICT, KubeconfigPolicy
from gitops_tui.kube.lease import DEFAULT_LEASE_DURATION
from gitops_tui.reconciler.applied_cache import DEFAULT_RESYNC
from gitops_tui.reconciler.clusters import HEALTH_INTERVAL
from gitops_tui.reconciler.context import utc_now


@dataclass(frozen=True)
class ReconcilerOptions:
    """The Reconciler's settings; every field has the default a `run` without flags uses."""

    data_dir: Path | None = None
    """Where the git cache and render state live (None: the data directory's ``reconciler/``)."""
    identity: str | None = None
    """The lease identity (None: one made of host and process)."""
    lease_duration: float = DEFAULT_LEASE_DURATION
    elect: bool = True
    """Join the shard fleet; False acts on everything at once (tests, one-shot runs)."""
    workers: int = 3
    install: bool = True
    """Install the management API (its CRDs) on start."""
    health_interval: float = HEALTH_INTERVAL
    """Seconds between cluster health checks."""
    kubeconfig_policy: KubeconfigPolicy = STRICT
    local_repos: Sequence[Path] | None = None
    """Directories local git repositories may live under (``run --allow-local-repos``)."""
    allow_fetch: Sequence[str] | None = None
    """Patterns of URLs a repository's content may make it fetch (``run --allow-fetch``; else
    $GITOPS_TUI_ALLOW_FETCH, else public https only); the Reconciler raises ValueError for one it cannot read."""
    shards: int | None = None
    """The fleet's shard count (None: the running fleet's, else 8; see kube/shard_leases.py)."""
    clock: Callable[[], datetime] = utc_now
    """The time the reconcilers read (freeze expiries); tests inject one."""
    resync: float = DEFAULT_RESYNC
    """Seconds between full dry-run passes of a source's objects (drift is otherwise seen by watches)."""
    standby: bool = False
    """Hold no shard while an active member (a `run` process) lives (a console's ``--reconcile auto``)."""
    flux_components: str | None = None
    """``skip`` or ``apply`` Flux's own components (``run --flux-components``; None: $GITOPS_TUI_FLUX_COMPONENTS,
    else skip)."""
