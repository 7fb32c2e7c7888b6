"""`gitops-tui run [--webhook-listen ADDR] [--health-listen ADDR] [--shards N]`: the reconciler, one member of the shard fleet."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.formats import parse_duration
from gitops_tui.cli.common import management_client
from gitops_tui.cli.errors import CliError
from gitops_tui.kube.kubeconfig_guard import KubeconfigPolicy


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `run` verb."""
    parser = subparsers.add_parser("run", help="run the reconciler headless (sharing the projects with other run processes)")
    parser.add_argument("--webhook-listen", metavar="ADDR", help="receive push webhooks on HOST:PORT, e.g. 127.0.0.1:9292")
    parser.add_argument("--health-listen", metavar="ADDR",
                        help="serve GET /healthz and /readyz (probes) and /metrics (Prometheus) on HOST:PORT, "
                             "e.g. 0.0.0.0:8080")
    parser.add_argument("--lease-duration", type=float, default=15.0, metavar="SECONDS",
                        help="shard lease duration: a dead process's shards are taken over within it (default 15)")
    parser.add_argument("--shards", type=int, default=None, metavar="N",
                        help="number of shards the projects are split into (default: the running fleet's, else 8); "
                             "every process must use the same")
    parser.add_argument("--workers", type=int, default=3, help="reconciles run in parallel (default 3)")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    parser.add_argument("--insecure-kubeconfig-exec", dest="run_insecure_kubeconfig_exec", action="store_true",
                        help="allow the exec credential plugins of stored cluster kubeconfigs (off by default)")
    parser.add_argument("--allow-local-repos", action="append", default=[], metavar="DIR", type=Path,
                        help="allow sources on local git repositories under DIR (repeatable; "
                             "default: the sandbox demo directory)")
    parser.add_argument("--allow-fetch", action="append", default=[], metavar="PATTERN", dest="allow_fetch",
                        help="let repositories' content fetch URLs matching PATTERN, e.g. 'https://charts.corp.example/*'"
                             " or 'http://127.0.0.1:8080/*' (repeatable; default: public https hosts only)")
    parser.add_argument("--flux-components", choices=("skip", "apply"), default=None,
                        help="Flux's own controllers declared by a repository (gotk-components.yaml): skip (default: "
                             "this reconciler does their work) or apply them")
    parser.add_argument("--resync", default="1h", metavar="DURATION",
                        help="full dry-run pass of every source's objects, beside the watches that see drift "
                             "(default 1h; a source's gitops-tui.io/resync annotation overrides it)")
    parser.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    """Run until SIGINT / SIGTERM; act on the projects of the shards this process holds."""
    from gitops_tui.api.shards import MAX_SHARDS, ranges
    from gitops_tui.kube.management_api import ManagementApiError
    from gitops_tui.kube.shard_leases import ShardCountMismatch
    from gitops_tui.reconciler.manager import Reconciler
    from gitops_tui.reconciler.options import ReconcilerOptions
    from gitops_tui.reconciler.probes import ProbeServer, reconciler_checks
    from gitops_tui.reconciler.webhook import WebhookReceiver

    if args.lease_duration < 2:
        raise CliError("--lease-duration must be at least 2 seconds", 2)
    if args.shards is not None and not 1 <= args.shards <= MAX_SHARDS:
        raise CliError(f"--shards must be between 1 and {MAX_SHARDS}", 2)
    try:
        resync = parse_duration(args.resync)
    except (TypeError, ValueError):
        resync = 0.0
    if resync < 1:
        raise CliError(f"--resync {args.resync!r} is not a duration of at least 1s: use a form like 30m or 1h", 2)
    logging.basicConfig(level=getattr(logging, args.log_level.upper()), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    api = management_client(args)
    allow_exec = bool(args.run_insecure_kubeconfig_exec or getattr(args, "insecure_kubeconfig_exec", False))
    try:
        reconciler = Reconciler(api, ReconcilerOptions(lease_duration=args.lease_duration, workers=args.workers,
                                                       kubeconfig_policy=KubeconfigPolicy(allow_exec=allow_exec),
                                                       local_repos=args.allow_local_repos,
                                                       allow_fetch=args.allow_fetch or None, shards=args.shards,
                                                       resync=resync, flux_components=args.flux_components))
    except ValueError as exc:  # a --allow-fetch pattern that is not one
        raise CliError(str(exc), 2) from None
    receiver: WebhookReceiver | None = None
    if args.webhook_listen:
        try:
            receiver = WebhookReceiver(
                api, args.webhook_listen,
                trigger=lambda ns, name: reconciler.request(names.KIND_FEDERATED_KUSTOMIZATION, ns, name),
                replay_window=args.lease_duration)
        except (ValueError, OSError) as exc:
            raise CliError(f"cannot listen on {args.webhook_listen}: {exc}", 2) from None
    done = threading.Event()
    probes: ProbeServer | None = None
    if args.health_listen:
        try:
            from gitops_tui.reconciler.metrics import exposition

            probes = ProbeServer(args.health_listen,
                                 *reconciler_checks(lambda: reconciler.wait_synced(timeout=0), done),
                                 metrics=lambda: exposition(reconciler.refresh_metrics))
        except (ValueError, OSError) as exc:
            raise CliError(f"cannot listen on {args.health_listen}: {exc}", 2) from None

    def on_signal(signum: int, frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if probes is not None:
        probes.start()  # before the start: /healthz answers while the CRDs are installed, /readyz says not yet
    try:
        reconciler.start()
    except ManagementApiError as exc:
        raise CliError(str(exc)) from None
    except ShardCountMismatch as exc:
        reconciler.stop()
        raise CliError(str(exc), 2) from None
    log = logging.getLogger("gitops_tui.run")
    if allow_exec:
        log.warning("--insecure-kubeconfig-exec: exec credential plugins of stored cluster kubeconfigs will run")
    elector = reconciler.elector
    assert elector is not None
    log.info("reconciler started as %s (%d shards, leases %s/%s-shard-*, %.0fs)", reconciler.identity, elector.count,
             names.SYSTEM_NAMESPACE, names.LEASE_NAME, args.lease_duration)
    if probes is not None:
        log.info("probes on %s/healthz and /readyz", probes.url)
    if receiver is not None:
        receiver.start()
        log.info("webhook receiver on %s/hook/<namespace>/<source>", receiver.url)
    shown: tuple[list[int], int] | None = None
    status = 0
    try:
        while not done.wait(0.25):
            if elector.error:
                log.error("%s; stopping", elector.error)
                status = 2
                break
            state = (elector.held(), len(elector.members))
            if state != shown and elector.members:
                held = f"acting on shards {ranges(state[0])} of {elector.count}" if state[0] else "holding no shard"
                log.info("%s (%d member(s))", held, state[1])
                shown = state
    finally:
        log.info("stopping")
        if receiver is not None:
            receiver.stop()
        reconciler.stop()
        if probes is not None:
            probes.stop()
    return status
