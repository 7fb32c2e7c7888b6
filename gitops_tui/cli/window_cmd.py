"""`window create|list|delete`: a project's freeze windows (a cron schedule, a duration, a timezone, some clusters)."""

from __future__ import annotations

import argparse
from datetime import UTC

from gitops_tui.cli.common import Column, add_output, management_client, print_list, run_action, split_list

COLUMNS: list[Column] = [
    ("PROJECT", lambda r: r["project"]),
    ("WINDOW", lambda r: r["name"]),
    ("CLUSTERS", lambda r: ",".join(r["clusters"]) or "all"),
    ("SCHEDULE", lambda r: r["schedule"]),
    ("DURATION", lambda r: r["duration"]),
    ("TIMEZONE", lambda r: r["timezone"]),
    ("STATE", lambda r: r["state"]),
    ("BY", lambda r: r["by"]),
    ("REASON", lambda r: r["reason"]),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `window` verb with `create`, `list` and `delete`."""
    parser = subparsers.add_parser("window", help="freeze windows: hold some clusters of a project on a schedule")
    actions = parser.add_subparsers(dest="window_action", metavar="create|list|delete")
    actions.required = True
    p = actions.add_parser("create", help="record a window (an operator's intent, on the Project)")
    p.add_argument("name")
    p.add_argument("-p", "--project", required=True)
    p.add_argument("--schedule", required=True, help='when it opens: cron, five fields, e.g. "0 16 * * 5"')
    p.add_argument("--duration", required=True, help="how long it stays open, e.g. 64h (on the timezone's clock)")
    p.add_argument("--timezone", default="UTC", help="the IANA timezone of the schedule (default UTC)")
    p.add_argument("--clusters", help="the clusters it holds (comma-separated; default: every cluster)")
    p.add_argument("--reason", required=True, help="why (recorded with who and when)")
    add_output(p)
    p.set_defaults(func=cmd_create)
    p = actions.add_parser("list", help="the windows of a project (or of every project), open or not")
    p.add_argument("-p", "--project")
    add_output(p)
    p.set_defaults(func=cmd_list)
    p = actions.add_parser("delete", help="remove a window (its clusters follow their sources again)")
    p.add_argument("name")
    p.add_argument("-p", "--project", required=True)
    p.add_argument("--reason", required=True, help="why (recorded with who and when)")
    p.set_defaults(func=cmd_delete)


def _row(project: str, body: dict) -> dict:
    from gitops_tui.api.windows import local_time

    zone = body["timezone"]
    if body["open"]:
        state = f"open until {local_time(body['closes'], zone)}"
    else:
        state = f"opens {local_time(body['nextOpen'], zone)}" if body.get("nextOpen") else "never opens"
    return {"project": project, **body, "state": state}


def cmd_create(args: argparse.Namespace) -> int:
    """Create a window."""
    from datetime import datetime

    from gitops_tui.actions import windows as actions
    from gitops_tui.cli.common import print_object

    api = management_client(args)
    window = run_action(actions.create_window, api, args.project, args.name, schedule=args.schedule,
                        duration=args.duration, reason=args.reason, clusters=split_list(args.clusters, "--clusters"),
                        timezone_name=args.timezone)
    row = _row(args.project, window.to_dict(datetime.now(UTC)))
    print_object({"kind": "Window", **row}, args.output,
                 f"window {window.name} created on project {args.project}: {window.schedule} for {window.duration} "
                 f"({window.timezone}) on {window.where()}; {row['state']}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """List windows."""
    from gitops_tui.actions import windows as actions

    api = management_client(args)
    found = run_action(actions.list_windows, api, args.project)
    print_list("WindowList", [_row(project, body) for project, _, body in found], COLUMNS, args.output,
               empty="no window")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Delete a window."""
    from gitops_tui.actions import windows as actions

    api = management_client(args)
    window = run_action(actions.delete_window, api, args.project, args.name, args.reason)
    print(f"window {window.name} deleted from project {args.project}; {window.where()} follow their sources again")
    return 0
