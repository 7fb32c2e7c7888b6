"""Shared command-line helpers: the management client from flags or the sandbox, and output formats."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import yaml
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui import paths
from gitops_tui.actions import ActionError
from gitops_tui.api.paths import discovery_path
from gitops_tui.cli.errors import CliError
from gitops_tui.kube.client import KubeconfigError, api_client_from_kubeconfig, json_request
from gitops_tui.kube.in_cluster import api_client_in_cluster, in_cluster

OUTPUT_FORMATS = ("table", "json", "yaml")
SANDBOX_CONTEXT = "management"
SANDBOX_HINT = "start it with `gitops-tui sandbox up`, or pass --kubeconfig/--context for a real management cluster"


def add_output(parser: argparse.ArgumentParser, default: str = "table") -> None:
    """Add ``-o/--output table|json|yaml`` to a sub-parser."""
    parser.add_argument("-o", "--output", choices=OUTPUT_FORMATS, default=default,
                        help="output format (json and yaml are stable for scripts)")


def add_targets(subparsers: argparse._SubParsersAction, verb: str, help: str, metavar: str,  # noqa: A002
                dest: str = "target") -> argparse._SubParsersAction:
    """Add ``verb`` with required sub-commands (``verb source``, ``verb project``, ...); return their subparsers."""
    parser = subparsers.add_parser(verb, help=help)
    targets = parser.add_subparsers(dest=dest, metavar=metavar)
    targets.required = True
    return targets


def add_target(targets: argparse._SubParsersAction, target: str, help: str,  # noqa: A002
               func: Callable[[argparse.Namespace], int], *, project: bool = False) -> argparse.ArgumentParser:
    """Add ``target NAME`` (with a required ``-p/--project`` when ``project``) running ``func``; return its parser."""
    parser = targets.add_parser(target, help=help)
    parser.add_argument("name")
    if project:
        parser.add_argument("-p", "--project", required=True)
    parser.set_defaults(func=func)
    return parser


def management_target(args: argparse.Namespace) -> tuple[Path, str | None, bool]:
    """Return (kubeconfig path, context, is_sandbox) chosen by --kubeconfig/--context, else the sandbox."""
    kubeconfig = getattr(args, "kubeconfig", None)
    context = getattr(args, "context", None)
    if kubeconfig or context:
        if kubeconfig:
            path = Path(kubeconfig).expanduser()
        else:
            env = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
            path = Path(env).expanduser() if env else Path.home() / ".kube" / "config"
        return path, context, False
    return paths.sandbox_kubeconfig(), SANDBOX_CONTEXT, True


def management_client(args: argparse.Namespace, probe: bool = True) -> ApiClient:
    """Return an ApiClient for the management cluster; raise CliError with a hint when unusable.

    With no --kubeconfig/--context and no sandbox, inside a Pod (kubectl's rule: the API server's
    address in the environment, a mounted ServiceAccount token) the Pod's ServiceAccount is used.
    """
    _warn_journal_failures()
    path, context, sandbox = management_target(args)
    pod = False
    if sandbox and not path.is_file():
        pod = in_cluster()
        if not pod:
            raise CliError(f"the sandbox is not running: {SANDBOX_HINT}")
        sandbox = False
    try:
        client = api_client_in_cluster() if pod else api_client_from_kubeconfig(path, context)
    except KubeconfigError as exc:
        raise CliError(str(exc)) from None
    if probe:
        try:
            json_request(client, "GET", discovery_path(), timeout=(3.0, 10.0))
        except ApiException as exc:
            raise CliError(f"the management cluster refused the request (HTTP {exc.status})") from None
        except Exception:  # noqa: BLE001 - any transport failure
            if sandbox:
                raise CliError(f"the sandbox is not running: {SANDBOX_HINT}") from None
            host = client.configuration.host
            raise CliError(f"cannot reach the management cluster at {host}") from None
    return client


def _warn_journal_failures() -> None:
    """Print a failed journal write on stderr (once per process registered); the action itself stands."""
    from gitops_tui import journal

    if not _JOURNAL_WARNING:
        def warn(message: str) -> None:
            sys.stderr.write(f"gitops-tui: {message}\n")

        _JOURNAL_WARNING.append(journal.add_failure_listener(warn))


_JOURNAL_WARNING: list[Callable[[], None]] = []


def split_list(value: str | None, flag: str) -> list[str] | None:
    """Split a comma-separated flag value; None when the flag was not given."""
    if value is None:
        return None
    items = [part.strip() for part in value.split(",") if part.strip()]
    if not items:
        raise CliError(f"{flag} needs at least one name, e.g. {flag} dev,staging", 2)
    return items


def run_action(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call an action, turning ActionError / ValueError / API errors into CliError."""
    try:
        return fn(*args, **kwargs)
    except ActionError as exc:
        raise CliError(str(exc), getattr(exc, "exit_code", 1)) from None
    except ApiException as exc:
        raise CliError(f"the management cluster answered HTTP {exc.status} ({exc.reason})") from None
    except (ValueError, LookupError) as exc:
        raise CliError(str(exc)) from None


# -- output ----------------------------------------------------------------------------------
def age(timestamp: str | None, now: datetime | None = None) -> str:
    """Return a kubectl-style age ("5s", "3m", "2h", "4d") for an RFC 3339 timestamp."""
    if not timestamp:
        return ""
    try:
        then = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = max(0, int(((now or datetime.now(UTC)) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Column = tuple[str, Callable[[dict[str, Any]], Any]]


def cell(value: Any) -> str:
    """Render one table cell."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "-"
    text = str(value)
    return text if text else "-"


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[Column], header: bool = True) -> str:
    """Return aligned text columns (kubectl style) for summary rows."""
    table = [[cell(getter(row)) for _, getter in columns] for row in rows]
    heads = [name for name, _ in columns]
    widths = [max([len(h)] + [len(r[i]) for r in table]) for i, h in enumerate(heads)]
    lines = []
    if header:
        lines.append("   ".join(h.ljust(widths[i]) for i, h in enumerate(heads)).rstrip())
    for r in table:
        lines.append("   ".join(v.ljust(widths[i]) for i, v in enumerate(r)).rstrip())
    return "\n".join(lines)


def print_list(kind: str, rows: Sequence[dict[str, Any]], columns: Sequence[Column], output: str,
               out: TextIO | None = None, empty: str = "nothing found") -> None:
    """Print summaries as a table, or as ``{"kind": kind, "items": [...]}`` in JSON / YAML."""
    out = out or sys.stdout
    if output == "json":
        out.write(json.dumps({"kind": kind, "items": list(rows)}, indent=2, sort_keys=False) + "\n")
    elif output == "yaml":
        out.write(yaml.safe_dump({"kind": kind, "items": list(rows)}, sort_keys=False))
    elif rows:
        out.write(render_table(rows, columns) + "\n")
    else:
        sys.stderr.write(empty + "\n")
    out.flush()


def print_object(obj: dict[str, Any], output: str, text: str, out: TextIO | None = None) -> None:
    """Print one result: ``text`` for table output, else the object as JSON / YAML."""
    out = out or sys.stdout
    if output == "json":
        out.write(json.dumps(obj, indent=2) + "\n")
    elif output == "yaml":
        out.write(yaml.safe_dump(obj, sort_keys=False))
    else:
        out.write(text + "\n")
    out.flush()


def json_line(obj: dict[str, Any], out: TextIO | None = None) -> None:
    """Write one compact JSON object on its own line (for --watch -o json)."""
    out = out or sys.stdout
    out.write(json.dumps(obj, separators=(",", ":")) + "\n")
    out.flush()


def read_stdin_secret(what: str, stdin: TextIO | None = None) -> str:
    """Read a secret value from stdin (first line, trailing newline removed); never echoes it."""
    stream = stdin or sys.stdin
    if stream.isatty():
        import getpass

        value = getpass.getpass(f"{what}: ")
    else:
        value = stream.readline().rstrip("\r\n")
    if not value:
        raise CliError(f"no {what} was given on standard input")
    return value


def confirm(question: str, assume_yes: bool) -> None:
    """Ask for confirmation on a terminal; without one, require --yes."""
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise CliError("refusing to delete without confirmation: add --yes", 2)
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise CliError("cancelled", 1)


def names_of(items: Iterable[dict[str, Any]]) -> list[str]:
    """Return metadata.name of each object."""
    return [str((i.get("metadata") or {}).get("name", "")) for i in items]
