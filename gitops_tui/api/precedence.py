"""The precedence rule of freezes, windows, rollout waves, pins and break glass: one cluster's intent. No I/O.

The one place where the controls compose (docs/reconciler.md, "Precedence", has the table case by case): a freeze
beats a window, a window beats a rollout wave, a pin holds its clusters against all of them, and break glass lifts
exactly one apply. ``api/effective.py`` calls it for every placed cluster.
"""

from __future__ import annotations

from typing import Any

from gitops_tui.api.effective import (
    INTENT_BREAK_GLASS,
    INTENT_FOLLOW,
    INTENT_FROZEN,
    INTENT_PINNED,
    ClusterState,
    Hold,
    Observed,
)


def cluster_state(name: str, found: Any, git: str, observed: Observed, rollout: Any = None,
                  windows: tuple[Hold, ...] = ()) -> ClusterState:
    """The intent of cluster ``name``, the hold behind it and every hold on it, strongest first.

    ``found`` holds the freezes, the pin and a pending break glass (api/effective_holds.py); ``rollout`` is the
    source's rollout (api/rollout_state.py), None without one; ``windows`` the project's freeze windows open now
    (api/windows.py, as holds of kind and scope ``window``).

    1. A freeze (the project's, the operator's, a member's) writes nothing to the cluster: ``frozen``.
    2. A freeze window, while open, writes nothing either: ``frozen``, scope ``window``; under a freeze too, the
       freeze is the hold named and the window is listed after it.
    3. A pin holds the cluster at its revision against every wave: ``pinned``, drift corrected to the pin; its wave
       does not wait for it. Under a freeze or a window it writes nothing, and the pin is listed among its holds.
    4. A rollout wave not released to the cluster (awaiting its wave or an approval, or after a halt): ``frozen``,
       scope ``rollout``; it keeps its last revision.
    5. Break glass lifts exactly one apply of its revision on the clusters it names that 1, 2 or 4 keep from writing
       (a pinned one under a freeze too): ``break-glass``; after that apply they are held again.
    6. Otherwise the cluster follows git.
    """
    freezes: list[Hold] = [f for f in found.freezes if f.covers(name)]
    windows_here: list[Hold] = [w for w in windows if w.covers(name)]
    pin = found.pin if found.pin is not None and found.pin.covers(name) else None
    wave = rollout.cell(name) if rollout is not None else None
    waiting = rollout.hold(name) if rollout is not None else None
    holds = (*freezes, *windows_here, *((waiting,) if waiting is not None else ()), *((pin,) if pin is not None else ()))
    glass = found.break_glass
    stopped = bool(freezes or windows_here) or (waiting is not None and pin is None)
    if stopped and glass is not None and glass.covers(name):
        return ClusterState(name, INTENT_BREAK_GLASS, glass.revision, observed, glass, (glass, *holds), wave)
    if freezes or windows_here:
        return ClusterState(name, INTENT_FROZEN, "", observed, (freezes or windows_here)[0], holds, wave)
    if pin is not None:
        return ClusterState(name, INTENT_PINNED, pin.revision, observed, pin, holds, wave)
    if waiting is not None:
        return ClusterState(name, INTENT_FROZEN, "", observed, waiting, holds, wave)
    return ClusterState(name, INTENT_FOLLOW, git, observed, None, holds, wave)
