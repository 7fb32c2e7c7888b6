"""An alert message that did not arrive, raised by every way of sending one (alert_send.py, alert_forge.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DeliveryFailed(Exception):
    """A message that did not arrive: ``message`` one sentence (no secret, no URL path); ``retry`` whether trying
    again may help (network errors, 5xx, 429), unlike a refusal by the allow-list or a 4xx."""

    message: str
    retry: bool = True

    def __str__(self) -> str:
        """The sentence."""
        return self.message
