"""`tree source NAME`: a source's clusters and the objects it applied there (kind, health, drift, field managers)."""

from __future__ import annotations

import argparse
import json
import sys

from gitops_tui.cli.common import add_target, add_targets, management_client, run_action


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `tree` verb."""
    sub = add_targets(subparsers, "tree", "a source across clusters, object by object", "source")
    p = add_target(sub, "source", "clusters -> objects with kind, health, drift and field managers", cmd_tree_source,
                   project=True)
    p.add_argument("-o", "--output", choices=("table", "json"), default="table")


def cmd_tree_source(args: argparse.Namespace) -> int:
    """Print the tree of one source."""
    from gitops_tui.backends.tree import read_tree
    from gitops_tui.views.tree import tree_lines

    api = management_client(args)
    tree = run_action(read_tree, api, args.project, args.name)
    if args.output == "json":
        sys.stdout.write(json.dumps(tree.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write("\n".join(tree_lines(tree)) + "\n")
    return 0
