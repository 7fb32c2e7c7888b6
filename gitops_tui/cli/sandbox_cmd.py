"""`gitops-tui sandbox up | down | status | kubeconfig`: the local sandbox clusters."""

from __future__ import annotations

import argparse
import json

from gitops_tui.cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sandbox` verb and its sub-commands."""
    parser = subparsers.add_parser("sandbox", help="start, stop or inspect the local sandbox clusters")
    sub = parser.add_subparsers(dest="sandbox_command", metavar="COMMAND")
    sub.required = True

    up = sub.add_parser("up", help="start the sandbox (does nothing if it already runs)")
    up.add_argument("--clusters", default=None,
                    help="comma-separated workload cluster names (default dev,staging,prod)")
    up.add_argument("--no-demo", action="store_true", help="do not seed the demo project on first start")
    up.set_defaults(func=cmd_up)

    down = sub.add_parser("down", help="stop the sandbox (its state is kept)")
    down.set_defaults(func=cmd_down)

    status = sub.add_parser("status", help="show whether the sandbox and each cluster are up")
    status.add_argument("-o", "--output", choices=("table", "json"), default="table")
    status.set_defaults(func=cmd_status)

    kubeconfig = sub.add_parser("kubeconfig", help="print the path of the sandbox kubeconfig")
    kubeconfig.set_defaults(func=cmd_kubeconfig)


def _parse_clusters(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [part.strip() for part in value.split(",") if part.strip()]
    if not names:
        raise CliError("--clusters needs at least one cluster name, e.g. --clusters dev,staging,prod", 2)
    return names


def cmd_up(args: argparse.Namespace) -> int:
    """Start the sandbox and print its clusters."""
    from gitops_tui.sandbox import manager

    try:
        result = manager.up(clusters=_parse_clusters(args.clusters), seed_demo=not args.no_demo)
    except manager.SandboxError as exc:
        raise CliError(str(exc)) from None
    verb = "is already running" if result.already_running else "is up"
    print(f"sandbox {verb} (pid {result.pid})")
    _print_clusters(result)
    print(f"kubeconfig: {result.kubeconfig}")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    """Stop the sandbox."""
    from gitops_tui.sandbox import manager

    try:
        stopped = manager.down()
    except manager.SandboxError as exc:
        raise CliError(str(exc)) from None
    print("sandbox stopped" if stopped else "sandbox was not running")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Show the sandbox status; exit 0 when it runs, 3 when it does not."""
    from gitops_tui.sandbox import manager

    result = manager.status()
    if args.output == "json":
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(f"sandbox is running (pid {result.pid})" if result.running else "sandbox is not running")
        _print_clusters(result)
    return 0 if result.running else 3


def cmd_kubeconfig(args: argparse.Namespace) -> int:
    """Print the path of the sandbox kubeconfig."""
    from gitops_tui.sandbox import manager

    path = manager.kubeconfig()
    if not path.is_file():
        raise CliError(f"no sandbox kubeconfig at {path}; run 'gitops-tui sandbox up' first")
    print(path)
    return 0


def _print_clusters(result: object) -> None:
    clusters = getattr(result, "clusters", [])
    if not clusters:
        return
    width = max(len(c.name) for c in clusters)
    url_width = max(len(c.url or "-") for c in clusters)
    print(f"{'CLUSTER':<{max(width, 7)}}  {'STATUS':<6}  {'PID':<7}  {'URL':<{url_width}}  NOTE".rstrip())
    for c in clusters:
        pid = str(c.pid) if c.pid else "-"
        line = f"{c.name:<{max(width, 7)}}  {'up' if c.up else 'down':<6}  {pid:<7}  {c.url or '-':<{url_width}}  {c.note()}"
        print(line.rstrip())
