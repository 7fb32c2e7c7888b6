"""Fields of decoded JSON objects read as the shape they must have: a wrong shape reads as empty."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dict_field(obj: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``obj[key]`` when it is an object, else an empty one (absent, null or another type)."""
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def list_field(obj: Mapping[str, Any], key: str) -> list[Any]:
    """``obj[key]`` when it is a list, else an empty one (absent, null or another type)."""
    value = obj.get(key)
    return value if isinstance(value, list) else []
