"""`suspend` and `resume` of sources and projects with an expiry and clusters, and break glass (`reconcile --once-while-suspended`)."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gitops_tui.cli.common import management_client, run_action
from gitops_tui.cli.errors import CliError
from gitops_tui.cli.reconciler_check import reconciler_check

if TYPE_CHECKING:
    from gitops_tui.actions.freeze import FreezeRequest
    from gitops_tui.api.freeze import Freeze


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(sorted({part.strip() for part in (text or "").split(",") if part.strip()}))


def add_freeze_options(parser: argparse.ArgumentParser) -> None:
    """Add --reason, --for / --until, --then and --clusters to a `suspend` target."""
    parser.add_argument("--reason", required=True, help="why (recorded with who and when)")
    expiry = parser.add_mutually_exclusive_group()
    expiry.add_argument("--for", dest="for_", metavar="DURATION", help="expire after this long (30m, 2h, 1h30m)")
    expiry.add_argument("--until", metavar="RFC3339", help="expire at this time (2026-01-15T18:00:00Z)")
    parser.add_argument("--then", choices=("resume",), default="",
                        help="at expiry, resume (default: stay suspended and raise a Warning Event)")
    parser.add_argument("--clusters", help="comma-separated clusters to freeze (default: every cluster)")


def add_resume_options(parser: argparse.ArgumentParser) -> None:
    """Add --clusters to a `resume` target."""
    parser.add_argument("--clusters", help="comma-separated clusters to resume (default: every cluster)")


def add_break_glass_options(parser: argparse.ArgumentParser) -> None:
    """Add --once-while-suspended and --reason to `reconcile source`."""
    parser.add_argument("--once-while-suspended", action="store_true",
                        help="break glass: apply the revision once without resuming (needs --reason)")
    parser.add_argument("--reason", help="why the break glass (recorded with who and when)")
    parser.add_argument("--revision", default="", metavar="SHA",
                        help="break glass: the revision to apply (default: git's, fetched now); it must be in the "
                             "history of the tracked ref or one the source applied")
    parser.add_argument("--clusters", default="", help="break glass: only these frozen clusters (comma-separated)")


def _request(args: argparse.Namespace) -> FreezeRequest:
    from gitops_tui.actions.freeze import FreezeRequest

    return FreezeRequest(args.reason, for_=args.for_ or "", until=args.until or "", then=args.then or "",
                         clusters=_names(args.clusters))


def _described(freeze: Freeze | None) -> str:
    if freeze is None:  # lifted between the write and the read back
        return "(no freeze is recorded now)"
    until = f" until {freeze.until}{' then resume' if freeze.then else ''}" if freeze.until else ""
    return f"on {freeze.where()} by {freeze.by}{until}: {freeze.reason}"


def cmd_suspend_source(args: argparse.Namespace) -> int:
    """Suspend one source (or extend its freeze)."""
    from gitops_tui.actions import freeze
    from gitops_tui.api.freeze import source_freeze

    api = management_client(args)
    source = run_action(freeze.freeze_source, api, args.project, args.name, _request(args))
    frozen = source_freeze(source.kustomization)
    verb = "freeze extended" if frozen is not None and len(frozen.history) > 1 else "suspended"
    print(f"source {args.name} {verb} {_described(frozen)}")
    return 0


def cmd_suspend_project(args: argparse.Namespace) -> int:
    """Freeze a project: every source of it, present or created later, is held."""
    from gitops_tui.actions import freeze

    api = management_client(args)
    frozen = run_action(freeze.freeze_project, api, args.name, _request(args))
    held = run_action(freeze.project_source_names, api, args.name)
    verb = "freeze extended" if len(frozen.history) > 1 else "frozen"
    listed = f": {', '.join(held)}" if held else ""
    print(f"project {args.name} {verb} {_described(frozen)}; {len(held)} source(s) held{listed}, "
          "and any source created while it stands")
    return 0


def cmd_resume_source(args: argparse.Namespace) -> int:
    """Resume one source, on every cluster or some; exit 1 when no reconciler is running to act on it."""
    from gitops_tui.actions import freeze
    from gitops_tui.api.freeze import source_freeze

    api = management_client(args)
    clusters = list(_names(args.clusters)) or None
    source = run_action(freeze.resume_source, api, args.project, args.name, clusters)
    left = source_freeze(source.kustomization)
    if left is not None:
        print(f"source {args.name} resumed on {', '.join(clusters or [])}; still suspended on {left.where()}")
    else:
        print(f"source {args.name} resumed; a reconcile was requested")
    return reconciler_check(api)


def cmd_resume_project(args: argparse.Namespace) -> int:
    """Lift a project's freeze (every cluster or some) and resume its suspended sources there."""
    from gitops_tui.actions import freeze

    api = management_client(args)
    clusters = list(_names(args.clusters)) or None
    done = run_action(freeze.resume_project, api, args.name, clusters)
    where = f" on {', '.join(clusters)}" if clusters else ""
    listed = f"; resumed {len(done)} suspended source(s): {', '.join(done)}" if done else ""
    print(f"project {args.name} resumed{where}{listed}")
    return reconciler_check(api)


def cmd_break_glass(args: argparse.Namespace) -> int:
    """Apply a suspended source's revision once without resuming it; with --wait, until the reconciler did."""
    from gitops_tui.actions import freeze

    if not (args.reason or "").strip():
        raise CliError("--once-while-suspended needs --reason: a break glass is recorded with who and why")
    api = management_client(args)
    token = run_action(freeze.break_glass, api, args.project, args.name, args.reason, None, None,
                       args.revision or "", list(_names(args.clusters)) or None)
    request = run_action(freeze.break_glass_request, api, args.project, args.name)
    where = ", ".join(request.clusters) if request and request.clusters else "every frozen cluster"
    revision = request.revision if request else "its revision"
    print(f"break glass on source {args.name} requested: applies {revision} once on {where}; it stays suspended")
    if not args.wait:
        return reconciler_check(api)
    deadline = time.monotonic() + args.timeout
    while run_action(freeze.break_glass_handled, api, args.project, args.name, token) is None:
        if time.monotonic() >= deadline:
            raise CliError(f"no reconciler applied the break glass within {args.timeout:g}s; "
                           "is `gitops-tui run` or the console running?")
        time.sleep(0.2)
    print(f"source {args.name}: {revision} applied once on {where}; still suspended")
    return 0


def freeze_summary(freeze: Any, now: datetime | None = None) -> dict[str, Any] | None:
    """The `get` form of a freeze (api.freeze.Freeze): who, why, when, until, then, clusters, expired; None when none."""
    if freeze is None:
        return None
    now = now or datetime.now(UTC)
    return {"by": freeze.by, "reason": freeze.reason, "at": freeze.at, "until": freeze.until, "then": freeze.then,
            "clusters": list(freeze.clusters) or "all", "expired": freeze.expired(now), "history": list(freeze.history)}


def freeze_cell(summary: dict[str, Any] | None) -> str | bool:
    """The table cell of a freeze: ``project freeze on prod by alice until T (EXPIRED): why``, False when not frozen."""
    if not summary:
        return False
    scope = "project freeze " if summary.get("scope") == "project" else ""
    where = "" if summary["clusters"] == "all" else f"on {','.join(summary['clusters'])} "
    until = f" until {summary['until']}" + (" (EXPIRED)" if summary["expired"] else "") if summary["until"] else ""
    who = summary["by"] + ("" if summary.get("verified", True) else " (unverified)")
    return f"{scope}{where}by {who}{until}: {summary['reason']}"
