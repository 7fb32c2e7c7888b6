"""Decoded JSON that is kept long (watch caches) holding one copy of each key and short string (``sys.intern``).

``json.loads`` shares keys only within one document, so two objects from two watch events each carry their own
"metadata", "lastTransitionTime", "True", "gitops-tui"...: about half of a cached object's memory
(docs/console.md#memory).
"""

from __future__ import annotations

import sys
from typing import Any

#: Strings up to this length are interned (names, reasons, statuses, timestamps); longer ones (messages) are not.
SHORT = 64

_intern = sys.intern


def interned(value: Any) -> Any:
    """A copy of a decoded JSON value whose dict keys and short strings are interned (numbers, booleans kept)."""
    kind = type(value)
    if kind is dict:
        return {_intern(key) if type(key) is str else key: interned(item) for key, item in value.items()}
    if kind is list:
        return [interned(item) for item in value]
    if kind is str and len(value) <= SHORT:
        return _intern(value)
    return value
