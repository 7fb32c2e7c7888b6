"""resource.Quantity values ('100m', '1Gi', 2) parsed into exact decimals, for comparing requests and limits."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from gitops_tui.sandbox.schema.decoder import QUANTITY_RE

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
            "P": Decimal("1e15"), "E": Decimal("1e18")}


def parse_quantity(value: Any) -> Decimal | None:
    """The value of a quantity, or None when it does not follow the quantity grammar."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if not isinstance(value, str):
        return None
    match = QUANTITY_RE.match(value)
    if not match:
        return None
    number, suffix = match.groups()
    try:
        base = Decimal(number)
    except InvalidOperation:
        return None
    if suffix in _BINARY:
        return base * _BINARY[suffix]
    if suffix in _DECIMAL:
        return base * _DECIMAL[suffix]
    if suffix[:1] in ("e", "E"):
        try:
            return base * Decimal(10) ** int(suffix[1:])
        except ValueError:
            return None
    return None
