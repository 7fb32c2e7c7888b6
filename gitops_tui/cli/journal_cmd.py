"""`journal`: the timeline of operator actions and automatic corrections, as a table, JSON or Markdown; --follow."""

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
    parser.add_argument("-f", "--follow", action="store_true",
                        help="then print each new entry as it is recorded, until interrupted (with -o json: one "
                             "JSON object per line, for log shippers)")
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
    if args.follow:
        if args.output == "markdown":
            raise CliError("--follow prints a table or JSON lines, not markdown", 2)
        return follow(api, entries, args.project, args.output)
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


def _print_entry(entry: object, output: str) -> None:
    from gitops_tui.cli.common import json_line
    from gitops_tui.journal import render

    if output == "json":
        json_line(entry.to_dict())  # type: ignore[attr-defined]
    else:
        sys.stdout.write(render.as_table([entry]).splitlines()[-1] + "\n")  # type: ignore[list-item]
        sys.stdout.flush()


def follow(api: object, entries: list, project: str, output: str) -> int:
    """Print ``entries``, then every entry recorded from now on (a watch of the journal), until Ctrl-C."""
    import threading

    from gitops_tui import journal
    from gitops_tui.api import names
    from gitops_tui.api.journal_crd import journal_path
    from gitops_tui.journal import render
    from gitops_tui.kube.watch import ADDED, ResourceWatch

    if output != "json" and entries:
        sys.stdout.write(render.as_table(entries) + "\n")
    for entry in entries if output == "json" else ():
        _print_entry(entry, output)
    seen = {e.name for e in entries}
    lock = threading.Lock()

    def handle(kind: str, obj: dict, old: dict | None) -> None:
        entry = journal.Entry.from_object(obj)
        with lock:
            if kind != ADDED or entry.name in seen:
                return
            seen.add(entry.name)
            _print_entry(entry, output)

    watch = ResourceWatch(api, journal_path(), handle, name="journal",  # type: ignore[arg-type]
                          label_selector=f"{names.LABEL_PROJECT}={project}" if project else None)
    watch.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        watch.stop(timeout=1.0)
    return 0
