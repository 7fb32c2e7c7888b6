"""Shard Leases: each process of the fleet holds a fair share of a fixed number of shard Leases, and a member Lease.

One thread per process runs rounds: renew its member Lease, list the fleet's Leases (one request), renew the
shards it holds, give back what exceeds its fair share (ceil(shards / live members)) once nothing runs in
them, and take free or lapsed shards up to that share. A shard is acted on only while its Lease was renewed
within the renew deadline (2/3 of the duration), so a process cut off stops before another may take over.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiClient

from gitops_tui.api import shards as fleet_api
from gitops_tui.kube.lease import (
    DEFAULT_LEASE_DURATION,
    LEASE_NAMESPACE,
    LeaseClock,
    LeaseStore,
    default_identity,
    lease_body,
    micro_time,
)

log = logging.getLogger(__name__)

FLEET_SELECTOR = fleet_api.ROLE_LABEL


class ShardCountMismatch(Exception):
    """The running processes use another shard count than the one asked for."""


class ShardElector:
    """Holds shard Leases for this process; ``holds(shard)`` says whether it may act on a shard right now."""

    def __init__(
        self,
        api_client: ApiClient,
        *,
        identity: str | None = None,
        shards: int | None = None,
        lease_duration: float = DEFAULT_LEASE_DURATION,
        namespace: str = LEASE_NAMESPACE,
        on_acquired: Callable[[set[int]], None] | None = None,
        busy: Callable[[int], bool] | None = None,
        standby: bool = False,
    ) -> None:
        """Prepare a member; start() joins the fleet. ``shards`` None: the fleet's count, else DEFAULT_SHARDS.

        ``on_acquired(shards)`` is called after new shards are taken; ``busy(shard)`` tells whether work of a
        shard is in flight (a shard given back is released only once it is not). ``standby`` (a console's
        ``--reconcile auto``): hold no shard while an active member (a `run` process) renews its member Lease;
        share them with the other standbys only when none does.
        """
        self.store = LeaseStore(api_client, namespace)
        self.identity = identity or default_identity()
        self.requested = shards
        self.standby = standby
        """True: this member yields every shard to active members (see fleet_api.sharing)."""
        self.count = shards or 0
        self.lease_duration = float(lease_duration)
        self.renew_deadline = self.lease_duration * 2 / 3
        self.renew_every = self.lease_duration / 3
        self.retry_period = max(0.2, self.lease_duration / 7.5)
        self._on_acquired = on_acquired
        self._busy = busy or (lambda shard: False)
        self._lock = threading.Lock()
        self._round_lock = threading.Lock()
        self._stop = threading.Event()
        self._abandoned = False
        self._thread: threading.Thread | None = None
        self._clock = LeaseClock()
        self._renewed: dict[int, float] = {}  # shards whose Lease we hold -> monotonic start of the last renewal
        self._owned: dict[int, dict[str, Any]] = {}  # our shard Leases as last written
        self._acting: set[int] = set()  # held shards we act on (not being given back)
        self._member: dict[str, Any] | None = None
        self._member_renewed = -math.inf
        self._joined = False
        self._other_counts: set[tuple[str, str, int | None]] = set()  # live members running another count
        self.members: list[str] = []
        """Live members (identities) as last seen, this one included."""
        self._standbys: set[str] = set()  # live members (this one included when standby) that yield to active ones
        self.error = ""
        """Why this member holds nothing though it runs (another shard count in the fleet), else ""."""

    # -- state -----------------------------------------------------------------------------
    def holds(self, shard: int) -> bool:
        """True while this process holds ``shard``, renewed within the renew deadline, and does not give it back."""
        with self._lock:
            renewed = self._renewed.get(shard)
            return (shard in self._acting and renewed is not None and not self._abandoned
                    and time.monotonic() - renewed < self.renew_deadline)

    def held(self) -> list[int]:
        """The shards this process acts on now."""
        with self._lock:
            candidates = list(self._acting)
        return sorted(s for s in candidates if self.holds(s))

    def assigned(self, shard: int) -> bool:
        """True while this process means to act on ``shard`` (it holds it and is not giving it back)."""
        with self._lock:
            return shard in self._acting and not self._abandoned

    @property
    def is_leader(self) -> bool:
        """True while this process acts on at least one shard."""
        return bool(self.held())

    def shard_of(self, namespace: str) -> int:
        """The shard of a project namespace under this fleet's count."""
        return fleet_api.shard_of(namespace, self.count)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Settle the shard count (raise ShardCountMismatch when the fleet runs another) and join in a thread."""
        if self._thread is not None or self._abandoned:
            return
        self._resolve_count()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="gitops-tui-shards", daemon=True)
        self._thread.start()

    def stop(self, release: bool = True) -> None:
        """Leave: stop the rounds, then (``release``) give every shard back and delete the member Lease."""
        self._stop.set()
        with self._lock:
            self._acting.clear()
        if self._thread is not None:
            self._thread.join(timeout=self.retry_period + 10)
            self._thread = None
        if release:
            self._leave(deadline=None)

    def abandon(self, timeout: float = 1.0) -> bool:
        """Stop acting at once (before any request), give every shard back within about ``timeout`` s, never rejoin.

        For a process that is leaving (the console's quit). Return True when everything was released.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            self._abandoned = True
            self._acting.clear()
        self._stop.set()
        got = self._round_lock.acquire(timeout=max(0.0, timeout / 2))
        try:
            return self._leave(deadline=deadline)
        finally:
            if got:
                self._round_lock.release()

    # -- rounds ----------------------------------------------------------------------------
    def _resolve_count(self) -> None:
        running = fleet_api.fleet(self.store.list(FLEET_SELECTOR), datetime.now(UTC)).count
        if running and self.requested and self.requested != running:
            raise ShardCountMismatch(
                f"the running reconcilers use {running} shards (recorded on their Leases in {self.store.namespace}); "
                f"start with --shards {running}, or stop them all to change the count")
        self.count = self.requested or running or fleet_api.DEFAULT_SHARDS

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.retry_period
            with self._round_lock:
                if self._stop.is_set():
                    break
                try:
                    wait = self._round()
                except Exception as exc:  # noqa: BLE001 - keep going through API errors; the deadline guards acting
                    log.warning("shard lease round failed: %s", type(exc).__name__)
            self._stop.wait(wait)

    def _round(self) -> float:
        """One round; return the seconds until the next."""
        mono = time.monotonic()
        self._renew_member(mono)
        leases = self.store.list(FLEET_SELECTOR)
        for lease in leases:
            self._clock.observe(lease, mono)
        self._clock.forget({str(x["metadata"]["name"]) for x in leases})
        shard_leases = {i: x for x in leases if fleet_api.role(x) == fleet_api.ROLE_SHARD
                        and (i := fleet_api.shard_index(x)) is not None and i < self.count}
        members = self._live_members(leases, shard_leases, mono)
        if self._conflict(members):
            return self.retry_period
        with self._lock:
            self.members = sorted(members)
        sharers = fleet_api.sharing({who: who in self._standbys for who in members})
        fair = math.ceil(self.count / max(1, len(sharers))) if self.identity in sharers else 0
        self._renew_held(shard_leases, mono)
        self._give_back(fair)
        # The first round only joins: processes started together see each other before taking shards.
        taken = self._take(shard_leases, fair, mono) if self._joined else set()
        self._joined = True
        if taken and self._on_acquired is not None:
            try:
                self._on_acquired(taken)
            except Exception:  # noqa: BLE001 - a callback must not end the rounds
                log.exception("on_acquired failed")
        self._collect_dead_members(leases, mono)
        foreign = [x for x in leases if fleet_api.holder(x) not in ("", self.identity)]
        lapses = [self._clock.expires_in(x, mono) for x in foreign]
        soonest = min((t for t in lapses if t > 0), default=math.inf)
        return max(0.02, min(self.retry_period, soonest + 0.02 - (time.monotonic() - mono)))

    def _renew_member(self, mono: float) -> None:
        if self._member is not None and mono - self._member_renewed < self.renew_every:
            return
        if self._member is None:
            mode = fleet_api.MODE_STANDBY if self.standby else fleet_api.MODE_ACTIVE
            body = lease_body(fleet_api.member_lease_name(self.identity), self.store.namespace, self.identity,
                              self.lease_duration, {fleet_api.ROLE_LABEL: fleet_api.ROLE_MEMBER},
                              {fleet_api.SHARDS_ANNOTATION: str(self.count), fleet_api.MODE_ANNOTATION: mode})
            written = self.store.create(body)
        else:
            self._member["spec"]["renewTime"] = micro_time()
            written = self.store.replace(self._member)
            if written is None:  # deleted as dead (we were cut off for long) or changed: make it again
                self._member = None
                return self._renew_member(mono)
        if written is not None:
            self._member, self._member_renewed = written, mono

    def _live_members(self, leases: list[dict[str, Any]], shard_leases: dict[int, dict[str, Any]],
                      mono: float) -> set[str]:
        """Identities of live members with our count; a holder of a lapsed shard Lease counts as gone."""
        lapsed = {fleet_api.holder(x) for x in shard_leases.values()
                  if fleet_api.holder(x) != self.identity and self._clock.expires_in(x, mono) <= 0}
        live = {self.identity}
        standbys = {self.identity} if self.standby else set()
        for lease in leases:
            who = fleet_api.holder(lease)
            if (fleet_api.role(lease) == fleet_api.ROLE_MEMBER and who and who not in lapsed
                    and fleet_api.recorded_count(lease) == self.count and self._clock.expires_in(lease, mono) > 0):
                live.add(who)
                if fleet_api.standby(lease) and who != self.identity:
                    standbys.add(who)
        self._standbys = standbys
        self._other_counts = {(self._started(x), fleet_api.holder(x), fleet_api.recorded_count(x)) for x in leases
                              if fleet_api.role(x) == fleet_api.ROLE_MEMBER and fleet_api.holder(x) != self.identity
                              and fleet_api.recorded_count(x) != self.count and self._clock.expires_in(x, mono) > 0}
        return live

    @staticmethod
    def _started(lease: dict[str, Any]) -> str:
        return str((lease.get("spec") or {}).get("acquireTime") or "")

    def _conflict(self, members: set[str]) -> bool:
        """True (and every shard given back) while an earlier live member runs another shard count."""
        mine = self._started(self._member or {})
        earlier = sorted(o for o in self._other_counts if (o[0], o[1]) < (mine, self.identity))
        if not earlier:
            self.error = ""
            return False
        self.error = (f"another reconciler ({earlier[0][1]}) runs {earlier[0][2]} shards and this one {self.count}: "
                      f"every process must use one count; this one acts on nothing")
        log.error("%s", self.error)
        with self._lock:
            self._acting.clear()
        for shard in list(self._owned):
            self._release(shard, deadline=None)
        return True

    def _renew_held(self, shard_leases: dict[int, dict[str, Any]], mono: float) -> None:
        for shard in list(self._owned):
            live = shard_leases.get(shard)
            if live is None or fleet_api.holder(live) != self.identity:
                self._lost(shard, "taken by another" if live is not None else "gone")
                continue
            if mono - self._renewed.get(shard, -math.inf) < self.renew_every:
                continue
            body = self._owned[shard]
            body["spec"]["renewTime"] = micro_time()
            written = self.store.replace(body)
            if written is None:
                self._lost(shard, "changed by another")
                continue
            with self._lock:
                self._owned[shard], self._renewed[shard] = written, mono

    def _lost(self, shard: int, why: str) -> None:
        with self._lock:
            self._acting.discard(shard)
            self._renewed.pop(shard, None)
            self._owned.pop(shard, None)
        log.warning("lost shard %d (%s)", shard, why)

    def _give_back(self, fair: int) -> None:
        """Stop acting on the shards beyond the fair share; release each once no work of it is in flight."""
        with self._lock:
            excess = len(self._acting) - fair
            if excess > 0:
                for shard in sorted(self._acting)[-excess:]:
                    self._acting.discard(shard)
                    log.info("giving back shard %d (fair share %d)", shard, fair)
            draining = [s for s in self._owned if s not in self._acting]
        for shard in draining:
            if not self._busy(shard):
                self._release(shard, deadline=None)

    def _take(self, shard_leases: dict[int, dict[str, Any]], fair: int, mono: float) -> set[int]:
        with self._lock:
            room = fair - len(self._owned)
        taken: set[int] = set()
        for shard in range(self.count):
            if room <= 0 or self._stop.is_set():
                break
            if shard in self._owned:
                continue
            live = shard_leases.get(shard)
            if (live is not None and fleet_api.holder(live) not in ("", self.identity)
                    and self._clock.expires_in(live, mono) > 0):
                continue
            written = self._acquire(shard, live)
            if written is not None:
                with self._lock:
                    self._owned[shard], self._renewed[shard] = written, mono
                    self._acting.add(shard)
                taken.add(shard)
                room -= 1
        if taken:
            log.info("took shard(s) %s of %d", fleet_api.ranges(taken), self.count)
        return taken

    def _acquire(self, shard: int, live: dict[str, Any] | None) -> dict[str, Any] | None:
        labels = {fleet_api.ROLE_LABEL: fleet_api.ROLE_SHARD}
        annotations = {fleet_api.SHARDS_ANNOTATION: str(self.count), fleet_api.SHARD_ANNOTATION: str(shard)}
        body = lease_body(fleet_api.shard_lease_name(shard), self.store.namespace, self.identity,
                          self.lease_duration, labels, annotations)
        if live is None:
            return self.store.create(body)
        spec = live.get("spec") or {}
        body["metadata"]["resourceVersion"] = live["metadata"].get("resourceVersion")
        body["spec"]["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if spec.get("holderIdentity") else 0)
        return self.store.replace(body)

    def _release(self, shard: int, deadline: float | None) -> bool:
        with self._lock:
            self._acting.discard(shard)
            body = self._owned.pop(shard, None)
            self._renewed.pop(shard, None)
        if body is None:
            return True
        body["spec"].pop("holderIdentity", None)
        body["spec"]["renewTime"] = micro_time()
        timeout = None if deadline is None else max(0.05, deadline - time.monotonic())
        try:
            released = self.store.replace(body, timeout=timeout) is not None
        except Exception as exc:  # noqa: BLE001 - releasing is best effort: the Lease lapses anyway
            log.warning("could not release shard %d: %s", shard, type(exc).__name__)
            return False
        log.info("released shard %d", shard)
        return released

    def _leave(self, deadline: float | None) -> bool:
        done = all([self._release(shard, deadline) for shard in list(self._owned)])
        member, self._member = self._member, None
        if member is not None:
            timeout = None if deadline is None else max(0.05, deadline - time.monotonic())
            try:
                self.store.delete(member["metadata"]["name"], timeout=timeout)
            except Exception as exc:  # noqa: BLE001 - it lapses anyway
                log.warning("could not delete the member lease: %s", type(exc).__name__)
                done = False
        return done

    def _collect_dead_members(self, leases: list[dict[str, Any]], mono: float) -> None:
        """Delete member Leases that lapsed more than a lease duration ago (killed processes)."""
        for lease in leases:
            if (fleet_api.role(lease) == fleet_api.ROLE_MEMBER and fleet_api.holder(lease) != self.identity
                    and self._clock.expires_in(lease, mono) < -self.lease_duration):
                meta = lease["metadata"]
                self.store.delete(meta["name"], meta.get("resourceVersion"))
