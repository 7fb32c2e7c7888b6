"""The operator's intents for each source, countersigned on its Project: a source freeze, a pin, a break glass. No I/O.

A project member may write the project's namespace (the FederatedKustomization's ``suspend``, ``pin`` and break-glass
annotations) but never a Project (cluster-scoped) nor ``gitops-tui-system``. What an operator asks through gitops-tui
is therefore recorded twice: on the FederatedKustomization, as Flux and kubectl users expect to read it, and under
the Project's ``spec.sourceHolds.<source>``, which only an operator (and the reconciler) can write. The effective state
(``api/effective.py``) trusts the Project's record: a member's write that would lift it is ignored.

``spec.sourceHolds.<source>``: ``freeze`` (as a Project's ``spec.freeze``, plus ``identity``), ``pin`` (as
``spec.template.spec.pin``, plus ``identity``), ``breakGlass {token, by, identity, reason, revision, clusters, applied}``,
``rollout`` (as ``spec.template.spec.rollout``, plus ``identity`` and ``approvals``: api/rollout.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_tui.api.freeze import Freeze, freeze_from_record
from gitops_tui.api.pin import Pin, pin_from_record

FIELD_SOURCE_HOLDS = "sourceHolds"


@dataclass(frozen=True)
class BreakGlassRequest:
    """An operator's break glass: apply ``revision`` once on ``clusters`` while they stay frozen."""

    token: str
    """When it was asked (RFC 3339 with microseconds): tells one request from the next."""
    by: str
    reason: str
    revision: str
    """Exactly the revision applied (shown when asked, named in the journal and the Event)."""
    clusters: tuple[str, ...] = ()
    """The held clusters it writes (empty: every cluster held when it is applied)."""
    identity: str = ""
    applied: str = ""
    """The token of the request the reconciler applied ('' while pending)."""

    @property
    def pending(self) -> bool:
        """True until the reconciler applied this request."""
        return self.applied != self.token

    def covers(self, cluster: str) -> bool:
        """Whether this request writes ``cluster`` (when it is held)."""
        return not self.clusters or cluster in self.clusters

    def to_record(self) -> dict[str, Any]:
        """The recorded dict."""
        body: dict[str, Any] = {"token": self.token, "by": self.by, "reason": self.reason, "revision": self.revision}
        for key, value in (("identity", self.identity), ("applied", self.applied)):
            if value:
                body[key] = value
        if self.clusters:
            body["clusters"] = list(self.clusters)
        return body


@dataclass(frozen=True)
class OperatorRecord:
    """What the operator asked for one source (each None when not asked)."""

    freeze: Freeze | None = None
    pin: Pin | None = None
    break_glass: BreakGlassRequest | None = None
    lifted_freeze: str = ""
    """The start (``at``) of the operator's freeze last lifted: a FederatedKustomization still showing it is stale."""
    lifted_pin: str = ""
    """The revision of the operator's pin last lifted (same: its copy on the FederatedKustomization is stale)."""


def _break_glass(raw: Any) -> BreakGlassRequest | None:
    if not isinstance(raw, dict) or not raw.get("token") or not raw.get("revision"):
        return None
    return BreakGlassRequest(token=str(raw["token"]), by=str(raw.get("by") or ""), reason=str(raw.get("reason") or ""),
                             revision=str(raw["revision"]), clusters=tuple(str(c) for c in raw.get("clusters") or []),
                             identity=str(raw.get("identity") or ""), applied=str(raw.get("applied") or ""))


def operator_record(project: dict[str, Any] | None, source: str) -> OperatorRecord:
    """The operator's record for ``source`` on its Project (an empty record when none)."""
    holds = ((project or {}).get("spec") or {}).get(FIELD_SOURCE_HOLDS) or {}
    raw = holds.get(source) if isinstance(holds, dict) else None
    if not isinstance(raw, dict):
        return OperatorRecord()
    freeze, pin = raw.get("freeze") or {}, raw.get("pin") or {}
    lifted_freeze = str(freeze.get("at") or "") if isinstance(freeze, dict) and freeze.get("lifted") else ""
    lifted_pin = str(pin.get("revision") or "") if isinstance(pin, dict) and pin.get("lifted") else ""
    return OperatorRecord(freeze=None if lifted_freeze else freeze_from_record(freeze, "source"),
                          pin=None if lifted_pin else pin_from_record(pin),
                          break_glass=_break_glass(raw.get("breakGlass")),
                          lifted_freeze=lifted_freeze, lifted_pin=lifted_pin)


def lifted_freeze_record(current: Freeze, by: str, at: str) -> dict[str, Any]:
    """The record left when an operator lifts a source freeze: its start, who lifted it and when.

    The FederatedKustomization is written after the Project: until it is, its copy of the freeze is known as stale.
    """
    return {"lifted": at, "at": current.at, "by": by}


def lifted_pin_record(current: Pin, by: str, at: str) -> dict[str, Any]:
    """The record left when an operator lifts a pin (its revision, who and when), as for a freeze."""
    return {"lifted": at, "revision": current.revision, "by": by}


_UNSET: Any = object()


def record_patch(source: str, *, freeze: Any = _UNSET, pin: Any = _UNSET, break_glass: Any = _UNSET,
                 rollout: Any = _UNSET) -> dict[str, Any]:
    """The Project merge patch setting (a dict) or removing (None) parts of ``source``'s record; unset parts stay."""
    body: dict[str, Any] = {}
    for key, value in (("freeze", freeze), ("pin", pin), ("breakGlass", break_glass), ("rollout", rollout)):
        if value is not _UNSET:
            body[key] = value
    return {"spec": {FIELD_SOURCE_HOLDS: {source: body}}}


def forget_patch(source: str) -> dict[str, Any]:
    """The Project merge patch removing ``source``'s whole record (the source is deleted)."""
    return {"spec": {FIELD_SOURCE_HOLDS: {source: None}}}
