"""Who is acting: the OS user plus the SSH client address when the session came over SSH."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from typing import Any


def _user() -> str:
    """Return the OS user name, falling back to the numeric uid."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return f"uid:{os.getuid()}"


def ssh_client_address(env: Mapping[str, str] | None = None) -> str | None:
    """Return the SSH client address from $SSH_CLIENT or $SSH_CONNECTION, or None when local."""
    env = os.environ if env is None else env
    for key in ("SSH_CLIENT", "SSH_CONNECTION"):
        value = (env.get(key) or "").strip()
        if value:
            return value.split()[0]
    return None


def current_actor(env: Mapping[str, str] | None = None) -> str:
    """Return 'user' or 'user@address' (address from SSH) naming who performs an action."""
    address = ssh_client_address(env)
    user = _user()
    return f"{user}@{address}" if address else user


def record_action(api: Any, **fields: Any) -> None:
    """Journal an operator's action: what the process claims (``actor``, the SSH address) beside what the API
    server says of its credentials (journal.record adds the SelfSubjectReview identity)."""
    from gitops_tui import journal

    journal.record(api, ssh=ssh_client_address() or "", **fields)
