"""`pin source`, `unpin source` and `history source`: hold a source at a known-good revision while git moves on."""

from __future__ import annotations

import argparse
import json
import sys

from gitops_tui.cli.common import add_target, add_targets, management_client, run_action, split_list


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `pin`, `unpin` and `history` verbs."""
    sub = add_targets(subparsers, "pin", "hold a source at an earlier revision while git moves on", "source")
    p = add_target(sub, "source", "pin one source (applied at once)", cmd_pin_source, project=True)
    p.add_argument("--revision", required=True, help="a commit SHA (or a prefix from `history source`)")
    p.add_argument("--reason", required=True, help="why (recorded with who and when)")
    p.add_argument("--clusters", help="pin only these clusters (comma-separated); the others follow git")
    p.add_argument("--until-contains", default="", metavar="SHA",
                   help="unpin by itself once git's revision contains this (fix) commit")
    p.add_argument("--dry-run", action="store_true", help="show what pinning would change, change nothing")

    sub = add_targets(subparsers, "unpin", "return a pinned source to following git", "source")
    add_target(sub, "source", "unpin one source (reconciles at once)", cmd_unpin_source, project=True)

    sub = add_targets(subparsers, "history", "the revisions a source applied, per cluster", "source")
    p = add_target(sub, "source", "applied revisions of one source (newest first)", cmd_history_source, project=True)
    p.add_argument("-o", "--output", choices=("table", "json"), default="table")


def cmd_pin_source(args: argparse.Namespace) -> int:
    """Pin a source (or, with --dry-run, print what pinning would change; exit 1 when it would change something)."""
    from gitops_tui.actions import pin as pin_actions
    from gitops_tui.cli.ops_cmd import print_diff

    api = management_client(args)
    clusters = split_list(args.clusters, "--clusters")
    if args.dry_run:
        planned = run_action(pin_actions.plan_pin, api, args.project, args.name, args.revision, args.reason,
                             clusters, args.until_contains)
        report = run_action(pin_actions.preview_pin, api, args.project, args.name, planned)
        print(f"would pin: {planned.describe()}")
        if report.error:
            sys.stderr.write(f"gitops-tui: cannot preview the pin: {report.error}\n")
            return 2
        print_diff(report)
        return 1 if report.drifted else 0
    done = run_action(pin_actions.pin_source, api, args.project, args.name, args.revision, args.reason,
                      clusters, args.until_contains)
    print(f"source {args.name} {done.describe()}")
    return 0


def cmd_unpin_source(args: argparse.Namespace) -> int:
    """Unpin a source."""
    from gitops_tui.actions import pin as pin_actions

    api = management_client(args)
    was = run_action(pin_actions.unpin_source, api, args.project, args.name)
    print(f"source {args.name} unpinned (was at {was.short}); it follows git again")
    return 0


def cmd_history_source(args: argparse.Namespace) -> int:
    """Print the applied revisions of a source per cluster."""
    from gitops_tui.actions import pin as pin_actions
    from gitops_tui.actions.state import read_source

    api = management_client(args)
    history = run_action(pin_actions.revision_history, api, args.project, args.name)
    order = run_action(read_source, api, args.project, args.name).state.names
    history.clusters = {c: history.clusters[c] for c in sorted(history.clusters, key=lambda c: (
        order.index(c) if c in order else len(order), c))}  # the project's placement order
    rows = [item for items in history.clusters.values() for item in items]
    if args.output == "json":
        body = {"source": args.name, "clusters": {c: [vars(i) for i in items] for c, items in history.clusters.items()}}
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
        return 0
    if not rows:
        sys.stderr.write(f"source {args.name} has no applied revision recorded yet\n")
        return 0
    table = [("CLUSTER", "APPLIED AT", "REVISION", "BY")] + [(i.cluster, i.at, i.revision, i.by) for i in rows]
    widths = [max(len(row[column]) for row in table) for column in range(3)]
    for row in table:  # every column as wide as its widest value, so the header sits over its values
        print("   ".join(value.ljust(width) for value, width in zip(row[:3], widths, strict=True)) + f"   {row[3]}")
    return 0
