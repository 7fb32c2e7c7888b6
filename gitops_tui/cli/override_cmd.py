"""`override source`: per-cluster overrides of a source (a JSON 6902 patch of one object, or Helm values), list, remove."""

from __future__ import annotations

import argparse
import json
import sys

from gitops_tui.cli.common import add_target, add_targets, management_client, run_action
from gitops_tui.cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `override` verb."""
    sub = add_targets(subparsers, "override", "per-cluster overrides of a source (Kubefed's overrides)", "source")
    p = add_target(sub, "source", "override one cluster's objects of a source; --list, --remove", cmd_override,
                   project=True)
    p.add_argument("--cluster", help="the cluster the override applies to")
    p.add_argument("--target", default="", help="the object it changes, Kind/name (with --values: default every "
                                                "HelmRelease of the source)")
    p.add_argument("--patch", help="a JSON 6902 patch, e.g. '[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":3}]'")
    p.add_argument("--values", metavar="FILE", help="Helm values (YAML) for that cluster's HelmReleases")
    p.add_argument("--reason", default="", help="why (recorded with who and when)")
    p.add_argument("--list", action="store_true", help="list the source's overrides")
    p.add_argument("--remove", action="store_true", help="remove the cluster's override of --target (else all of it)")
    p.add_argument("-o", "--output", choices=("table", "json"), default="table")


def cmd_override(args: argparse.Namespace) -> int:
    """Set, list or remove overrides."""
    from gitops_tui.actions import overrides as actions

    if args.list:
        return _list(args)
    if not args.cluster:
        raise CliError("--cluster is required to override or to --remove", 2)
    if not args.reason.strip():
        raise CliError("--reason is required: every override is recorded with who and why", 2)
    api = management_client(args)
    if args.remove:
        gone = run_action(actions.remove_override, api, args.project, args.name, args.cluster, reason=args.reason,
                          target=args.target)
        print(f"source {args.name}: removed on {args.cluster}: {', '.join(k.split('/', 1)[1] for k in gone)}")
        return 0
    if bool(args.patch) == bool(args.values):
        raise CliError("give --patch (a JSON 6902 patch, with --target) or --values FILE", 2)
    patch = run_action(actions.parse_patch, args.patch) if args.patch else None
    values = run_action(actions.read_values, args.values) if args.values else None
    done = run_action(actions.set_override, api, args.project, args.name, args.cluster, reason=args.reason,
                      target=args.target, patch=patch, values=values)
    if args.output == "json":
        sys.stdout.write(json.dumps({"kind": "Override", "source": args.name, **done.to_dict()}, indent=2) + "\n")
        return 0
    print(f"source {args.name} {done.describe()}; applied at the next reconcile")
    return 0


def _list(args: argparse.Namespace) -> int:
    from gitops_tui.actions import overrides as actions

    api = management_client(args)
    found, refused = run_action(actions.list_overrides, api, args.project, args.name)
    if args.output == "json":
        body = {"kind": "OverrideList", "source": args.name, "items": [o.to_dict() for o in found],
                "refused": [{"cluster": c, "message": m} for c, m in refused.items()]}
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
        return 0
    if not found and not refused:
        sys.stderr.write(f"source {args.name} has no override\n")
        return 0
    rows = [("CLUSTER", "TARGET", "FIELDS", "BY", "REASON")]
    rows += [(o.cluster, o.target, ", ".join(o.paths), o.who, o.reason) for o in found]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("   ".join(v.ljust(w) for v, w in zip(row[:4], widths, strict=True)) + f"   {row[4]}")
    for cluster, message in refused.items():
        print(f"{cluster}: refused: {message}")
    return 0
