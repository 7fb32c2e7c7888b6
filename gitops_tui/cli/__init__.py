"""The gitops-tui command line: one entry point dispatching to verb modules."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from gitops_tui.cli.errors import CliError

#: Verb modules; each exposes ``register(subparsers)`` and sets ``func`` on its parsers.
VERB_MODULES = (
    "gitops_tui.cli.sandbox_cmd",
    "gitops_tui.cli.run_cmd",
    "gitops_tui.cli.get_cmd",
    "gitops_tui.cli.create_cmd",
    "gitops_tui.cli.ops_cmd",
    "gitops_tui.cli.journal_cmd",
    "gitops_tui.cli.pin_cmd",
    "gitops_tui.cli.tree_cmd",
    "gitops_tui.cli.rollout_cmd",
    "gitops_tui.cli.window_cmd",
    "gitops_tui.cli.override_cmd",
)


#: Root options that take a value (the token after them is not a verb).
_VALUE_OPTIONS = ("--kubeconfig", "--context", "--theme", "--allow-local-repos", "--allow-fetch", "--reconcile",
                  "--flux-components")


def opens_console(argv: Sequence[str]) -> bool:
    """True when ``argv`` names no verb (nor asks for help): the console opens without loading the verbs."""
    value_next = False
    for token in argv:
        if value_next:
            value_next = False
        elif token in ("-h", "--help"):
            return False
        elif token in _VALUE_OPTIONS:
            value_next = True
        elif not token.startswith("-"):
            return False
    return True


class Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one sentence on stderr (exit 2) pointing at --help, not a usage dump."""

    def error(self, message: str) -> NoReturn:
        """Print ``message`` as one line and exit 2."""
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def build_parser(verbs: bool = True) -> argparse.ArgumentParser:
    """Build the argument parser with every verb module (``verbs`` False: the root options only)."""
    import importlib

    parser = Parser(
        prog="gitops-tui",
        description="GitOps console and reconciler. With no verb, opens the console.",
    )
    parser.add_argument("--kubeconfig", help="management cluster kubeconfig (default: the sandbox)")
    parser.add_argument("--context", help="context of the management cluster in --kubeconfig")
    parser.add_argument("--theme", help="console theme name or file")
    parser.add_argument("--read-only", action="store_true", help="hide every action that changes anything")
    parser.add_argument("--insecure-kubeconfig-exec", action="store_true",
                        help="allow the exec credential plugins of stored cluster kubeconfigs (off by default)")
    parser.add_argument("--allow-local-repos", action="append", default=[], metavar="DIR", dest="local_repos",
                        help="allow sources on local git repositories under DIR, for the console's reconciler "
                             "and its forms (repeatable; added to the default: the sandbox demo directory)")
    parser.add_argument("--allow-fetch", action="append", default=[], metavar="PATTERN", dest="fetch_patterns",
                        help="let repositories' content make the console's reconciler fetch URLs matching PATTERN "
                             "(repeatable; default: public https hosts only)")
    parser.add_argument("--flux-components", choices=("skip", "apply"), default=None, dest="flux_components_mode",
                        help="Flux's own controllers a repository declares (gotk-components.yaml), for the console's "
                             "reconciler: skip (default) or apply them")
    parser.add_argument("--reconcile", choices=("auto", "always", "never"), default="auto",
                        help="the console's embedded reconciler: auto (default) holds shards only while no other "
                             "reconciler (`gitops-tui run`, the chart) is alive; always shares them; never runs none")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for name in VERB_MODULES if verbs else ():
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    from gitops_tui.paths import restrict_umask

    restrict_umask()  # everything gitops-tui writes under its data directory is owner-only
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(verbs=not opens_console(argv))  # the verbs load the kubernetes client: not for the console
    args = parser.parse_args(argv)
    if args.local_repos:
        from gitops_tui.reconciler.source_urls import ALLOW_ENV, allowed_local_roots

        # Added to the default ($GITOPS_TUI_ALLOW_LOCAL_REPOS, else the sandbox demo), never in its place.
        roots = [*(Path(p).expanduser().resolve() for p in args.local_repos), *allowed_local_roots()]
        os.environ[ALLOW_ENV] = os.pathsep.join(dict.fromkeys(str(r) for r in roots))
    if args.fetch_patterns:
        from gitops_tui.kube.outbound import ALLOW_FETCH_ENV, FetchPolicy

        try:
            FetchPolicy(args.fetch_patterns)
        except ValueError as exc:
            print(f"gitops-tui: {exc}", file=sys.stderr)
            return 2
        os.environ[ALLOW_FETCH_ENV] = " ".join(args.fetch_patterns)
    if args.flux_components_mode:
        from gitops_tui.api.flux_role import COMPONENTS_ENV

        os.environ[COMPONENTS_ENV] = args.flux_components_mode
    try:
        if args.verb is None:
            from gitops_tui.cli.console_cmd import run_console

            return run_console(args)
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"gitops-tui: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`gitops-tui get ... | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
