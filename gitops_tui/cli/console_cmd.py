"""The console (no verb): open the Textual console at once; the sandbox starts and clusters connect behind it."""

from __future__ import annotations

import argparse
import gc
import logging
import os
from collections.abc import Callable
from pathlib import Path

from gitops_tui import paths
from gitops_tui.cli.console_guard import ExitGuard
from gitops_tui.cli.errors import CliError
from gitops_tui.kube.kubeconfig_guard import KubeconfigPolicy
from gitops_tui.util.allocator import limit_arenas

log = logging.getLogger(__name__)

#: Said on the terminal when a console on the local sandbox quits.
SANDBOX_KEEPS_RUNNING = ("The local sandbox keeps running in the background (the CLI and the next console use it); "
                         "`gitops-tui sandbox down` stops it.")


def setup_logging() -> Path:
    """Send every diagnostic to <data>/logs/console.log (never to the screen); return the file."""
    log_file = paths.log_dir() / "console.log"
    os.close(paths.open_private(log_file))  # owner-only before the handler appends to it
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(threadName)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    return log_file


def _target(args: argparse.Namespace) -> tuple[Path | None, str | None, str]:
    """Return (kubeconfig, context, header label) from the flags; kubeconfig None means the sandbox.

    Only the file and the context name are checked here (one sentence on stderr when wrong); the
    client is made, and the sandbox started when needed, behind the console's first frame.
    """
    if not (args.kubeconfig or args.context):
        return None, "management", "sandbox/management"
    kubeconfig = Path(args.kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
                      or Path.home() / ".kube" / "config").expanduser()
    if not kubeconfig.is_file():
        raise CliError(f"kubeconfig {kubeconfig} does not exist.")
    config = _read_config(kubeconfig)
    contexts = [c.get("name") for c in config.get("contexts") or [] if isinstance(c, dict)]
    context = args.context or str(config.get("current-context") or "")
    if context not in contexts:
        what = f"context {context!r}" if context else "a current context"
        raise CliError(f"kubeconfig {kubeconfig} has no {what}.")
    return kubeconfig, args.context, context


def _read_config(kubeconfig: Path) -> dict:
    """The kubeconfig as a mapping, or a one-sentence CliError (never quoting the file)."""
    import yaml

    try:
        config = yaml.safe_load(kubeconfig.read_text())
    except (OSError, UnicodeDecodeError):
        raise CliError(f"kubeconfig {kubeconfig} cannot be read.") from None
    except yaml.YAMLError:
        raise CliError(f"kubeconfig {kubeconfig} is not valid YAML.") from None
    if not isinstance(config, dict):
        raise CliError(f"kubeconfig {kubeconfig} is not a kubeconfig.")
    return config


def start_sandbox(starting: Callable[[], None]) -> Path:
    """Start the local sandbox unless its daemon runs (seeding the demo on first start); return its kubeconfig.

    ``starting`` is called before a start (it takes seconds: the console says so). Called by the live backend in
    its feed worker, after the first frame.
    """
    from gitops_tui.sandbox.layout import Layout, is_our_daemon

    layout = Layout()
    state = layout.load_state()  # "demo" is recorded once the clusters are registered (and the demo seeded or not)
    if layout.kubeconfig.is_file() and state.get("demo") is not None and is_our_daemon(state.get("pid"), layout):
        return layout.kubeconfig  # running: a second console does not pay for `up` (TLS, registration)
    from gitops_tui.sandbox import manager

    starting()
    try:
        return manager.up().kubeconfig
    except manager.SandboxError as exc:
        raise RuntimeError(f"the sandbox could not start: {exc}") from None


def _collect_again() -> None:
    """After the first frame: what was made so far lives on (frozen, never scanned again); collect again."""
    gc.freeze()
    gc.enable()


def kubeconfig_policy(args: argparse.Namespace, label: str) -> tuple[KubeconfigPolicy, str]:
    """The guard of stored kubeconfigs for ``--insecure-kubeconfig-exec``, and a header label that says so."""
    policy = KubeconfigPolicy(allow_exec=bool(getattr(args, "insecure_kubeconfig_exec", False)))
    return policy, f"{label} [kubeconfig exec ON]" if policy.allow_exec else label


def run_console(args: argparse.Namespace) -> int:
    """Open the console; return the exit code. The process ends within two seconds of a leave."""
    limit_arenas()  # before any thread: each watch thread would take a malloc arena of its own
    guard = ExitGuard()
    guard.install()
    gc.disable()  # no collection while the first frame's objects are made (an eighth of its time)
    setup_logging()
    kubeconfig, context, label = _target(args)
    from gitops_tui.backends.live import LiveBackend
    from gitops_tui.tui.app import GitOpsApp

    policy, label = kubeconfig_policy(args, label)
    reconcile = "never" if args.read_only else getattr(args, "reconcile", "auto")
    backend = LiveBackend(kubeconfig, context, label, reconcile=reconcile, kubeconfig_policy=policy,
                          start_sandbox=start_sandbox)
    guard.add_step(backend.halt)
    app = GitOpsApp(backend, theme=args.theme, read_only=args.read_only, watch_terminal=True)
    app.on_quit = lambda: guard.trigger("quit")
    app.on_first_frame.append(_collect_again)
    guard.set_ui(app.request_exit)
    log.info("console starting on %s (read-only: %s)", label, args.read_only)
    try:
        app.run()  # Textual draws on stderr and captures print(); logging goes to the log file
    finally:
        app.stopping.set()
        guard.finish()
        backend.close()
    log.info("console closed")
    if kubeconfig is None and not guard.code:
        # The sandbox is a background service: say so, or a new user believes quitting stopped it.
        print(SANDBOX_KEEPS_RUNNING, flush=True)
    return int(app.return_code or 0) or guard.code
