"""The console (no verb): start the sandbox when needed, then open the Textual console on it."""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from pathlib import Path

from gitops_tui import paths
from gitops_tui.cli.errors import CliError
from gitops_tui.kube.kubeconfig_guard import KubeconfigPolicy

log = logging.getLogger(__name__)


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


def _target(args: argparse.Namespace) -> tuple[Path, str | None, str]:
    """Return (kubeconfig, context, header label): the flags, else the sandbox (started if needed)."""
    if args.kubeconfig or args.context:
        kubeconfig = Path(args.kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
                          or Path.home() / ".kube" / "config").expanduser()
        if not kubeconfig.is_file():
            raise CliError(f"kubeconfig {kubeconfig} does not exist.")
        return kubeconfig, args.context, args.context or _current_context(kubeconfig)
    from gitops_tui.sandbox import manager

    try:
        status = manager.up()
    except manager.SandboxError as exc:
        raise CliError(f"the sandbox could not start: {exc}") from None
    return status.kubeconfig, "management", "sandbox/management"


def _current_context(kubeconfig: Path) -> str:
    import yaml

    try:
        return str((yaml.safe_load(kubeconfig.read_text()) or {}).get("current-context") or "default")
    except (OSError, yaml.YAMLError):
        return "default"


def _leave(code: int, grace: float = 8.0) -> int:
    """Wait (bounded) for worker threads; if one hangs, end the process so nothing is left behind."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        alive = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]
        if not alive:
            return code
        alive[0].join(timeout=0.2)
    log.warning("threads still running at exit: %s", [t.name for t in threading.enumerate()])
    logging.shutdown()
    os._exit(code)


def kubeconfig_policy(args: argparse.Namespace, label: str) -> tuple[KubeconfigPolicy, str]:
    """The guard of stored kubeconfigs for ``--insecure-kubeconfig-exec``, and a header label that says so."""
    policy = KubeconfigPolicy(allow_exec=bool(getattr(args, "insecure_kubeconfig_exec", False)))
    return policy, f"{label} [kubeconfig exec ON]" if policy.allow_exec else label


def run_console(args: argparse.Namespace) -> int:
    """Open the console; return the exit code."""
    setup_logging()
    kubeconfig, context, label = _target(args)
    from gitops_tui.kube.client import KubeconfigError
    from gitops_tui.tui.app import GitOpsApp
    from gitops_tui.tui.live import LiveBackend

    policy, label = kubeconfig_policy(args, label)
    try:
        backend = LiveBackend(kubeconfig, context, label, reconcile=not args.read_only, kubeconfig_policy=policy)
    except KubeconfigError as exc:
        raise CliError(f"{exc}.") from None
    app = GitOpsApp(backend, theme=args.theme, read_only=args.read_only, watch_terminal=True)
    log.info("console starting on %s (read-only: %s)", label, args.read_only)
    try:
        app.run()  # Textual draws on stderr and captures print(); logging goes to the log file
    finally:
        app.stopping.set()
        backend.close()
    log.info("console closed")
    return _leave(int(app.return_code or 0))
