"""Observers of this process's own writes: a watch cache learns which resourceVersion its process just wrote.

``json_request`` (kube/client.py) calls every observer after each successful POST, PUT, PATCH or DELETE with the
client, the verb and the API server's answer (reconciler/management_cache.py reads its own writes through it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Observer = Callable[[Any, str, dict[str, Any]], None]
_OBSERVERS: list[Observer] = []


def add_write_observer(observer: Observer) -> Callable[[], None]:
    """Call ``observer(api_client, verb, answer)`` after every successful write; return a function that removes it."""
    _OBSERVERS.append(observer)

    def remove() -> None:
        if observer in _OBSERVERS:
            _OBSERVERS.remove(observer)

    return remove


def notify(api_client: Any, verb: str, answer: Any) -> None:
    """Tell every observer about one successful write (an observer's failure is logged, never raised)."""
    if not _OBSERVERS or verb == "GET" or not isinstance(answer, dict):
        return
    for observer in list(_OBSERVERS):
        try:
            observer(api_client, verb, answer)
        except Exception:  # noqa: BLE001 - an observer never breaks a request
            log.exception("write observer failed")
