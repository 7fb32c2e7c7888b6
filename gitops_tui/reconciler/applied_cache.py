"""What the reconciler last established about each object it manages on a workload cluster, between reconciles.

An object is *settled* when it was checked (a dry-run found it as desired, or drift was reported) or
written by the reconciler at the resourceVersion it has now: nothing changed it since, so checking it
again would find the same. A change by another field manager gives the object a new resourceVersion
and unsettles it; a change by the reconciler itself (or a status update) carries the state forward.
A *clean* settled object whose desired configuration hash equals the one recorded when it was last
applied needs no write (issue 12 item 3).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

#: The full dry-run pass of a source's objects (the safety net beside the watches): once an hour by default.
DEFAULT_RESYNC = 3600.0
#: Changes nobody else made remembered per object, for a check or apply whose answer is recorded after them.
_CARRIED = 4


@dataclass(frozen=True)
class Checked:
    """The state an object was last established in: its resourceVersion then, and whether it was as desired."""

    resource_version: str
    clean: bool


class AppliedCache:
    """Thread-safe record of checked objects (by cluster and object id) and of each source's last full pass."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Start empty: every object is unsettled and every source due a full pass."""
        self._clock = clock
        self._lock = threading.Lock()
        self._checked: dict[tuple[str, str], Checked] = {}
        self._carried: dict[tuple[str, str], dict[str, str]] = {}
        self._full_pass: dict[tuple[str, str, str], float] = {}

    def record(self, cluster: str, object_id: str, resource_version: str, clean: bool) -> None:
        """Record that the object was found (or made) as desired (``clean``) or drifted, at ``resource_version``.

        Changes nobody else made since that version (seen by the watch before this answer came) carry it forward.
        """
        with self._lock:
            carried = self._carried.get((cluster, object_id)) or {}
            seen = {resource_version}
            while resource_version in carried and carried[resource_version] not in seen:
                resource_version = carried[resource_version]
                seen.add(resource_version)
            self._checked[(cluster, object_id)] = Checked(resource_version, clean)

    def checked(self, cluster: str, object_id: str) -> Checked | None:
        """The state last recorded for the object, or None."""
        with self._lock:
            return self._checked.get((cluster, object_id))

    def carry(self, cluster: str, object_id: str, old_version: str, new_version: str) -> None:
        """A change nobody else made (the reconciler's own write, a status update): the state at ``old_version`` holds."""
        with self._lock:
            carried = self._carried.setdefault((cluster, object_id), {})
            carried[old_version] = new_version
            while len(carried) > _CARRIED:
                del carried[next(iter(carried))]
            found = self._checked.get((cluster, object_id))
            if found is not None and found.resource_version == old_version:
                self._checked[(cluster, object_id)] = Checked(new_version, found.clean)

    def forget_cluster(self, cluster: str) -> None:
        """Forget everything about a cluster (its watches restarted on a new connection)."""
        with self._lock:
            for key in [k for k in self._checked if k[0] == cluster]:
                del self._checked[key]
            for key in [k for k in self._carried if k[0] == cluster]:
                del self._carried[key]
            for pass_key in [k for k in self._full_pass if k[0] == cluster]:
                del self._full_pass[pass_key]

    def full_pass_due(self, cluster: str, namespace: str, name: str, resync: float) -> bool:
        """True when the source's objects on the cluster were never fully checked, or last longer than ``resync`` s ago."""
        with self._lock:
            last = self._full_pass.get((cluster, namespace, name))
        return last is None or self._clock() - last >= resync

    def full_pass_done(self, cluster: str, namespace: str, name: str) -> None:
        """Record a full dry-run pass of the source's objects on the cluster, now."""
        with self._lock:
            self._full_pass[(cluster, namespace, name)] = self._clock()
