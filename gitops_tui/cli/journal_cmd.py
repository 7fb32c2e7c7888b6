"""`journal`: the timeline of operator actions and automatic corrections, as a table, JSON or Markdown."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

from gitops_tui.cli.common import management_client, run_action
from gitops_tui.cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `journal` verb."""
    parser = subparsers.add_parser("journal", help="who did what, when and why (kept 30 days)")
    parser.add_argument("--since", default="24h", help="how far back: a duration (2h, 30m, 7d) or an RFC 3339 time "
                                                         "(default 24h)")
    parser.add_argument("-p", "--project", default="", help="only this project's entries")
    parser.add_argument("-o", "--output", choices=("table", "json", "markdown"), default="table",
                        help="markdown is ready to paste into a postmortem")
    parser.set_defaults(func=cmd_journal)


def parse_since(text: str, now: datetime) -> datetime:
    """A duration back from ``now`` ("2h", "7d") or an RFC 3339 time; CliError (exit 2) otherwise."""
    from gitops_tui.api.formats import parse_duration

    value = text.strip()
    try:
        if value.endswith("d") and value[:-1].isdigit():
            return now - timedelta(days=int(value[:-1]))
        seconds = parse_duration(value)
        if seconds > 0:
            return now - timedelta(seconds=seconds)
    except (ValueError, TypeError):
        pass
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CliError(f"--since {text!r} is neither a duration (2h, 30m, 7d) nor an RFC 3339 time", 2) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_journal(args: argparse.Namespace) -> int:
    """Print the journal since --since."""
    from gitops_tui import journal
    from gitops_tui.journal import render

    now = datetime.now(UTC)
    since = parse_since(args.since, now)
    api = management_client(args)
    entries = run_action(journal.list_entries, api, since=since, project=args.project, now=now)
    if args.output == "json":
        text = render.as_json(entries) + "\n"
    elif args.output == "markdown":
        text = render.as_markdown(entries, since, now)
    elif entries:
        text = render.as_table(entries) + "\n"
    else:
        sys.stderr.write(f"no journal entry since {since.strftime('%Y-%m-%d %H:%M:%SZ')}\n")
        return 0
    sys.stdout.write(text)
    return 0
