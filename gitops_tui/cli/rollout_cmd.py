"""`rollout source` (set up, show or turn off a staged rollout) and `approve source` (approve one wave)."""

from __future__ import annotations

import argparse
import json
import sys

from gitops_tui.cli.common import add_target, add_targets, management_client, run_action
from gitops_tui.cli.errors import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `rollout` and `approve` verbs."""
    sub = add_targets(subparsers, "rollout", "roll a source's new revisions out wave by wave", "source")
    p = add_target(sub, "source", "set up (--waves), show (no option) or turn off (--off) a source's rollout",
                   cmd_rollout_source, project=True)
    p.add_argument("--waves", default="", metavar="W1/W2/...",
                   help="clusters wave by wave: dev/staging,qa/prod (a wave of several clusters: comma-separated)")
    p.add_argument("--soak", default="", metavar="DURATION",
                   help="how long a wave stays applied and healthy before the next starts (10m; default none)")
    p.add_argument("--approve", default="", metavar="WAVE[,WAVE]",
                   help="waves that wait for `approve source` (or the console's a) before they start")
    p.add_argument("--off", action="store_true", help="turn the rollout off: every cluster follows git at once")
    p.add_argument("--reason", default="", help="why (required to set up or turn off; recorded with who and when)")
    p.add_argument("-o", "--output", choices=("table", "json"), default="table")

    sub = add_targets(subparsers, "approve", "approve a wave of a source's rollout", "source")
    p = add_target(sub, "source", "approve one wave for the revision rolling out", cmd_approve_source, project=True)
    p.add_argument("--wave", required=True, help="the wave (its name, e.g. prod or staging,qa, or one of its clusters)")
    p.add_argument("--reason", required=True, help="why (recorded with who and when)")


def _show(args: argparse.Namespace) -> int:
    from gitops_tui.actions.state import read_source

    api = management_client(args)
    view = run_action(read_source, api, args.project, args.name).state.rollout
    if args.output == "json":
        sys.stdout.write(json.dumps(view.to_dict() if view is not None else None, indent=2) + "\n")
        return 0
    if view is None:
        print(f"source {args.name} has no rollout: every cluster follows git at once")
        return 0
    print(f"source {args.name} rolls out {view.spec.describe()}, set up by {view.spec.by}"
          f"{'' if view.spec.verified else ' (unverified)'}: {view.spec.reason}")
    print(f"rollout {view.summary()}")
    for index, wave in enumerate(view.spec.waves):
        approval = view.approval(index)
        note = f"  approved by {approval.by}: {approval.reason}" if approval is not None else \
            "  (waits for approval)" if wave.approve else ""
        print(f"  {index + 1}. {wave.name:<24} {view.wave_state(index)}{note}")
    return 0


def cmd_rollout_source(args: argparse.Namespace) -> int:
    """Set up, show or turn off a source's staged rollout."""
    from gitops_tui.actions import rollout

    if args.off and (args.waves or args.soak or args.approve):
        raise CliError("--off turns the rollout off: give it without --waves, --soak or --approve", 2)
    if not args.off and not args.waves:
        if args.soak or args.approve:
            raise CliError("--soak and --approve go with --waves (the whole rollout is set again)", 2)
        return _show(args)
    if not args.reason.strip():
        what = "turning a rollout off" if args.off else "a rollout"
        raise CliError(f"--reason is required: {what} is recorded with who and why", 2)
    api = management_client(args)
    if args.off:
        was = run_action(rollout.rollout_off, api, args.project, args.name, args.reason)
        print(f"source {args.name}: rollout {was.names} turned off; every cluster follows git now")
        return 0
    request = rollout.RolloutRequest(args.waves, args.reason, soak=args.soak, approve=args.approve)
    spec = run_action(rollout.set_rollout, api, args.project, args.name, request)
    print(f"source {args.name} rolls out {spec.describe()}: a new revision goes to {spec.waves[0].name} first")
    return 0


def cmd_approve_source(args: argparse.Namespace) -> int:
    """Approve one wave of a source's rollout, for the revision rolling out now."""
    from gitops_tui.actions import rollout
    from gitops_tui.actions.state import read_source
    from gitops_tui.api.formats import short_revision

    api = management_client(args)
    approval = run_action(rollout.approve_wave, api, args.project, args.name, args.wave, args.reason)
    view = run_action(read_source, api, args.project, args.name).state.rollout
    index = view.spec.find(approval.wave) if view is not None else None
    now = view is not None and index is not None and index == view.current + 1 and (index == 0 or view.soaked)
    before = view.spec.waves[index - 1].name if view is not None and index else ""
    when = "it starts now" if now or not before else f"it starts once {before} has applied it and soaked"
    print(f"wave {approval.wave} of source {args.name} approved for {short_revision(approval.revision)} by "
          f"{approval.by}: {approval.reason}; {when}")
    return 0
