"""`create alert`, `get alerts`, `delete alert`: a project's alerts to chat and webhooks (docs/alerts.md)."""

from __future__ import annotations

import argparse
from typing import Any

from gitops_tui.api import alerts as al
from gitops_tui.api import names
from gitops_tui.api.paths import management_path
from gitops_tui.cli.common import Column, add_output, add_target, age, management_client, print_object, run_action
from gitops_tui.cli.get_cmd import Resource, Scope, register_resource

COLUMNS: list[Column] = [
    ("PROJECT", lambda r: r["project"]),
    ("ALERT", lambda r: r["name"]),
    ("FORMAT", lambda r: r["format"]),
    ("ADDRESS", lambda r: r["address"]),
    ("EVENTS", lambda r: ",".join(r["events"])),
    ("SIGNED", lambda r: "yes" if r["secret"] else "no"),
    ("AGE", lambda r: age(r["created"])),
]


def add_create(targets: argparse._SubParsersAction) -> None:
    """Add `create alert NAME -p P --url URL --format F [--secret S | --secret-value V] --events K,K`."""
    parser = add_target(targets, "alert", "tell a chat or a webhook when a source fails, recovers, drifts, ...",
                        cmd_create, project=True)
    parser.add_argument("--url", required=True, help="where to post (generic, slack, msteams: https URL; apprise: "
                                                      "an apprise URL); obeys the reconciler's --allow-fetch")
    parser.add_argument("--format", required=True, choices=al.FORMATS, dest="alert_format")
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--secret", default="", help="a Secret of the project's namespace whose key 'token' signs "
                                                     "the generic body (X-Signature: sha256=HMAC)")
    secret.add_argument("--secret-value", default=None, metavar="V",
                        help="make that Secret from V (never printed; prefer a file or stdin in scripts)")
    parser.add_argument("--events", required=True, help="comma-separated: " + ",".join(al.EVENT_KINDS))
    add_output(parser)


def cmd_create(args: argparse.Namespace) -> int:
    """Create an alert."""
    from gitops_tui.actions import alerts as actions

    events = [e.strip() for e in args.events.split(",") if e.strip()]
    api = management_client(args)
    raw = run_action(actions.create_alert, api, args.project, args.name, format_=args.alert_format, url=args.url,
                     events=events, secret=args.secret, secret_value=args.secret_value)
    alert = al.Alert.from_raw(raw)
    print_object({"kind": "Alert", **actions.summary(args.project, alert, raw)}, args.output,
                 f"alert {alert.name} created in project {args.project}: {alert.format} to {alert.shown_address()} "
                 f"on {', '.join(alert.events)}" + (" (signed)" if alert.secret else ""))
    return 0


def delete(args: argparse.Namespace) -> dict[str, Any]:
    """`delete alert NAME -p P`: the summary `delete` prints."""
    from gitops_tui.actions import alerts as actions

    api = management_client(args)
    alert = run_action(actions.delete_alert, api, args.project, args.name)
    return {"kind": "Alert", "name": alert.name, "project": args.project, "deleted": True}


def fetch(scope: Scope) -> list[dict[str, Any]]:
    """`get alerts [-p P]`: one row per alert."""
    from gitops_tui.actions import alerts as actions

    return [actions.summary(project, alert, raw) for project, alert, raw in actions.list_alerts(scope.api,
                                                                                               scope.project)]


def _summary(row: dict[str, Any], scope: Scope) -> dict[str, Any]:
    return row


RESOURCE = Resource("alerts", "AlertList", fetch, _summary, COLUMNS,
                    lambda scope: [management_path(names.KIND_ALERT, scope.namespace)],
                    "alerts to chat and webhooks (address shown as scheme and host)")
register_resource(RESOURCE)
