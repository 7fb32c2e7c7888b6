"""`suspend`, `resume`, `reconcile` and `diff` of GitOps sources and projects (freeze options: freeze_cmd.py)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from gitops_tui.cli import freeze_cmd
from gitops_tui.cli.common import add_target, add_targets, management_client, run_action
from gitops_tui.cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `suspend`, `resume`, `reconcile` and `diff` verbs."""
    sub = add_targets(subparsers, "suspend", "suspend a source or a project (a freeze: expiry, clusters)",
                      "source|project")
    freeze_cmd.add_freeze_options(add_target(sub, "source", "suspend one source", freeze_cmd.cmd_suspend_source,
                                             project=True))
    freeze_cmd.add_freeze_options(add_target(sub, "project", "freeze a project: every source, present or future",
                                             freeze_cmd.cmd_suspend_project))

    sub = add_targets(subparsers, "resume", "resume a source or a project", "source|project")
    freeze_cmd.add_resume_options(add_target(sub, "source", "resume one source (reconciles at once)",
                                             freeze_cmd.cmd_resume_source, project=True))
    freeze_cmd.add_resume_options(add_target(sub, "project", "lift a project's freeze and resume its sources",
                                             freeze_cmd.cmd_resume_project))

    sub = add_targets(subparsers, "reconcile", "ask for a reconcile of a source now", "source")
    p = add_target(sub, "source", "reconcile one source now", cmd_reconcile_source, project=True)
    p.add_argument("--wait", action="store_true", help="wait until the reconciler handled the request")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait with --wait (default 120)")
    freeze_cmd.add_break_glass_options(p)

    sub = add_targets(subparsers, "diff", "show drift between git and the clusters (exit 0 none, 1 drift, 2 error)",
                      "source")
    p = add_target(sub, "source", "dry-run diff of one source on every placed cluster", cmd_diff_source, project=True)
    p.add_argument("-o", "--output", choices=("table", "json"), default="table")


def _settled(state: Any) -> bool:
    """Whether every cluster the source is meant to change now has a result (applied or failed)."""
    return all(c.outcome in ("applied", "failed") for c in state.clusters if not c.held)


def _held_text(state: Any) -> str:
    """``held: prod (project freeze on prod by alice: INC-1)`` ('' when no cluster is held)."""
    held = [c for c in state.clusters if c.held]
    return "held: " + "; ".join(f"{c.name} ({c.hold.describe() if c.hold else 'frozen'})" for c in held) if held else ""


def wait_report(name: str, state: Any) -> tuple[str, int]:
    """The line `reconcile --wait` prints and its exit code: 0 once every unheld cluster applied its revision."""
    from gitops_tui.api.formats import short_revision

    held = _held_text(state)
    if state.frozen_everywhere:
        return f"source {name} is held on every cluster; nothing was applied ({held})", 0
    failed = [c for c in state.clusters if c.outcome == "failed"]
    if failed or state.stalled is not None:
        why = "; ".join(f"{c.name}: {c.observed.status}: {c.observed.message}".rstrip(": ") for c in failed)
        why = why or f"{state.stalled[0]}: {state.stalled[1]}"
        return f"source {name} reconciled: not applied everywhere ({why})" + (f"; {held}" if held else ""), 1
    applied: dict[str, list[str]] = {}
    for cluster in state.clusters:
        if not cluster.held:
            applied.setdefault(short_revision(cluster.observed.applied), []).append(cluster.name)
    done = "; ".join(f"applied {rev} on {', '.join(names)}" for rev, names in applied.items())
    return f"source {name} reconciled: {done}" + (f"; {held}" if held else ""), 0


def cmd_reconcile_source(args: argparse.Namespace) -> int:
    """Request a reconcile; with --wait, wait until every cluster it is meant to change now applied, naming held ones."""
    from gitops_tui.actions import sources
    from gitops_tui.actions.state import read_source

    if args.once_while_suspended:
        return freeze_cmd.cmd_break_glass(args)
    if args.reason:
        raise CliError("--reason goes with --once-while-suspended (a plain reconcile needs none)")
    if args.revision or args.clusters:
        raise CliError("--revision and --clusters go with --once-while-suspended (a break glass)")
    api = management_client(args)
    token = run_action(sources.request_reconcile, api, args.project, args.name)
    if not args.wait:
        print(f"reconcile of {args.name} requested")
        return 0
    deadline = time.monotonic() + args.timeout
    while True:
        reading = run_action(read_source, api, args.project, args.name)
        handled = run_action(sources.reconcile_handled, api, args.project, args.name, token)
        if reading.state.frozen_everywhere or (handled is not None and _settled(reading.state)):
            break
        if time.monotonic() >= deadline:
            raise CliError(f"no reconciler handled the request within {args.timeout:g}s; "
                           "is `gitops-tui run` or the console running?")
        time.sleep(0.2)
    line, code = wait_report(args.name, reading.state)
    print(line)
    return code


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def print_diff(report: Any, out: Any = None) -> None:
    """Print a DiffReport as text: per cluster, each drifted object with its fields and managers."""
    out = out or sys.stdout
    out.write(f"source {report.source} at {report.revision or 'unknown revision'}\n")
    for cluster in report.clusters:
        pinned = getattr(report, "compared", {}).get(cluster.cluster)
        if pinned:
            out.write(f"{cluster.cluster}: compared with its pin {pinned}\n")
        for obj, paths in getattr(report, "overridden", {}).get(cluster.cluster, {}).items():
            out.write(f"{cluster.cluster}: overridden: {obj}: {', '.join(paths)}\n")
        if cluster.error:
            out.write(f"{cluster.cluster}: error: {cluster.error}\n")
        elif not cluster.objects:
            out.write(f"{cluster.cluster}: no drift\n")
        for item in cluster.objects:
            out.write(f"{cluster.cluster}: {item.summary()}\n")
            for change in item.fields:
                by = f" (by {', '.join(change.managers)})" if change.managers else ""
                want = "pin" if pinned else "git"
                out.write(f"    {change.path}: live {_short(change.live)} -> {want} {_short(change.desired)}{by}\n")
    out.flush()


def cmd_diff_source(args: argparse.Namespace) -> int:
    """Print the drift of a source; exit 0 (none), 1 (drift) or 2 (error)."""
    from gitops_tui.actions import sources

    try:
        api = management_client(args)
        report = run_action(sources.diff_source, api, args.project, args.name)
    except CliError as exc:
        raise CliError(str(exc), 2) from None
    if report.error:
        raise CliError(f"cannot diff source {args.name}: {report.error}", 2)
    if args.output == "json":
        body = {"source": report.source, "revision": report.revision,
                "clusters": [{**c.to_dict(), "revision": report.compared.get(c.cluster, report.revision),
                              "pinned": c.cluster in report.compared,
                              "overridden": report.overridden.get(c.cluster, {})} for c in report.clusters],
                "drift": report.drifted}
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
    else:
        print_diff(report)
    if report.failed:
        return 2
    return 1 if report.drifted else 0
