"""Observers of this process's own writes: a watch cache learns which resourceVersion its process just wrote.

``json_request`` (kube/client.py) calls every observer after each successful POST, PUT, PATCH or DELETE with the
client, the verb and the API server's answer (reconciler/management_cache.py reads its own writes through it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gitops_tui.util.observers import Observers

Observer = Callable[[Any, str, dict[str, Any]], None]
_OBSERVERS: Observers[[Any, str, dict[str, Any]]] = Observers("write observer")


def add_write_observer(observer: Observer) -> Callable[[], None]:
    """Call ``observer(api_client, verb, answer)`` after every successful write; return a function that removes it."""
    return _OBSERVERS.add(observer)


def notify(api_client: Any, verb: str, answer: Any) -> None:
    """Tell every observer about one successful write (an observer's failure is logged, never raised)."""
    if _OBSERVERS and verb != "GET" and isinstance(answer, dict):
        _OBSERVERS.notify(api_client, verb, answer)
