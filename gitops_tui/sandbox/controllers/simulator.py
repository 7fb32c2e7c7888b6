"""The kwok-style status simulator: gives workloads the status a real control plane would."""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kubernetes import client, watch

log = logging.getLogger(__name__)

#: The manager named in managedFields for the status the simulator writes.
FIELD_MANAGER = "gitops-tui-simulator"

#: Seconds between seeing a change and writing the resulting status (env GITOPS_TUI_SIM_DELAY).
DEFAULT_DELAY = 1.0
DEFAULT_PROGRESS_DEADLINE = 600
WATCH_TIMEOUT = 60

Status = dict[str, Any]
Key = tuple[str, str, str]  # kind, namespace, name


def sim_delay() -> float:
    """Return the configured delay before a workload gets its status, in seconds."""
    try:
        return max(0.0, float(os.environ.get("GITOPS_TUI_SIM_DELAY", DEFAULT_DELAY)))
    except ValueError:
        return DEFAULT_DELAY


def _ts(now: datetime) -> str:
    return now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_ts(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def image_fails(image: str) -> bool:
    """Return True when an image reference is tagged `fail` (such containers never get ready)."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[1] == "fail"


def _template_fails(pod_template: dict | None) -> bool:
    spec = (pod_template or {}).get("spec") or {}
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    return any(image_fails(str(c.get("image") or "")) for c in containers)


def _revision(obj: dict) -> str:
    template = (obj.get("spec") or {}).get("template") or {}
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
    return f"{obj['metadata']['name']}-{digest[:10]}"


def _condition(kind: str, status: str, reason: str, message: str, old: dict | None, now: datetime,
               update_time: bool = True) -> dict:
    """Build a condition, keeping the old timestamps where nothing changed."""
    same_status = bool(old) and old.get("status") == status
    unchanged = same_status and old.get("reason") == reason and old.get("message") == message
    cond = {"type": kind, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": old["lastTransitionTime"] if same_status and old.get("lastTransitionTime")
            else _ts(now)}
    if update_time:
        cond["lastUpdateTime"] = old.get("lastUpdateTime", _ts(now)) if unchanged and old else _ts(now)
    return cond


def _old_conditions(status: dict) -> dict[str, dict]:
    return {c.get("type"): c for c in status.get("conditions") or [] if isinstance(c, dict)}


def deployment_status(obj: dict, now: datetime) -> tuple[Status, float | None]:
    """Return the status a Deployment should have now, and seconds until it may change by itself."""
    spec, old = obj.get("spec") or {}, obj.get("status") or {}
    gen = obj["metadata"].get("generation", 1)
    want = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    conds = _old_conditions(old)
    rs = _revision(obj)
    failing = want > 0 and _template_fails(spec.get("template"))
    status: Status = {"observedGeneration": gen, "replicas": want, "updatedReplicas": want}
    if not failing:
        status.update(readyReplicas=want, availableReplicas=want)
        available = _condition("Available", "True", "MinimumReplicasAvailable",
                               "Deployment has minimum availability.", conds.get("Available"), now)
        progressing = _condition("Progressing", "True", "NewReplicaSetAvailable",
                                 f'ReplicaSet "{rs}" has successfully progressed.', conds.get("Progressing"), now)
        status["conditions"] = [available, progressing]
        return status, None
    status.update(readyReplicas=0, availableReplicas=0, unavailableReplicas=want)
    available = _condition("Available", "False", "MinimumReplicasUnavailable",
                           "Deployment does not have minimum availability.", conds.get("Available"), now)
    deadline = int(spec.get("progressDeadlineSeconds") or DEFAULT_PROGRESS_DEADLINE)
    prev = conds.get("Progressing") if old.get("observedGeneration") == gen else None
    if prev and prev.get("reason") == "ProgressDeadlineExceeded":
        progressing, wait = _condition("Progressing", "False", "ProgressDeadlineExceeded",
                                       prev.get("message", ""), prev, now), None
    else:
        started = _parse_ts(prev.get("lastUpdateTime")) if prev and prev.get("reason") == "ReplicaSetUpdated" else None
        started = started or now
        remaining = deadline - (now - started).total_seconds()
        if remaining <= 0:
            progressing = _condition("Progressing", "False", "ProgressDeadlineExceeded",
                                     f'ReplicaSet "{rs}" has timed out progressing.', prev, now)
            wait = None
        else:
            progressing = _condition("Progressing", "True", "ReplicaSetUpdated",
                                     f'ReplicaSet "{rs}" is progressing.', prev, now)
            progressing["lastUpdateTime"] = _ts(started)
            wait = remaining
    status["conditions"] = [available, progressing]
    return status, wait


def statefulset_status(obj: dict, now: datetime) -> tuple[Status, float | None]:
    """Return the status a StatefulSet should have now."""
    spec = obj.get("spec") or {}
    want = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
    ready = 0 if _template_fails(spec.get("template")) else want
    rev = _revision(obj)
    return {"observedGeneration": obj["metadata"].get("generation", 1), "replicas": want,
            "readyReplicas": ready, "availableReplicas": ready, "currentReplicas": want,
            "updatedReplicas": want, "currentRevision": rev, "updateRevision": rev,
            "collisionCount": 0}, None


def daemonset_status(obj: dict, now: datetime) -> tuple[Status, float | None]:
    """Return the status a DaemonSet should have now (the sandbox has one node)."""
    ready = 0 if _template_fails((obj.get("spec") or {}).get("template")) else 1
    status: Status = {"observedGeneration": obj["metadata"].get("generation", 1),
                      "currentNumberScheduled": 1, "desiredNumberScheduled": 1,
                      "numberMisscheduled": 0, "numberReady": ready, "numberAvailable": ready,
                      "updatedNumberScheduled": 1}
    if not ready:
        status["numberUnavailable"] = 1
    return status, None


def job_status(obj: dict, now: datetime) -> tuple[Status, float | None]:
    """Return the status a Job should have now: complete after the delay, unless its image fails."""
    spec, old = obj.get("spec") or {}, dict(obj.get("status") or {})
    conds = _old_conditions(old)
    if spec.get("suspend") or (conds.get("Complete") or {}).get("status") == "True":
        return old, None
    start = old.get("startTime") or _ts(now)
    if _template_fails(spec.get("template")):
        return {"startTime": start, "active": int(spec.get("parallelism") or 1), "ready": 0}, None
    done = int(spec.get("completions") or 1)
    message = "Reached expected number of succeeded pods"
    return {"startTime": start, "completionTime": _ts(now), "succeeded": done, "active": 0,
            "ready": 0, "terminating": 0,
            "conditions": [
                _condition("SuccessCriteriaMet", "True", "CompletionsReached", message, None, now, False),
                _condition("Complete", "True", "CompletionsReached", message, None, now, False),
            ]}, None


@dataclass(frozen=True)
class KindOps:
    """How to list, read and patch the status of one workload kind with the typed client."""

    kind: str
    api: Callable[[client.ApiClient], Any]
    plural_fn: str  # e.g. "deployment" -> list_deployment_for_all_namespaces ...
    compute: Callable[[dict, datetime], tuple[Status, float | None]]


KINDS: tuple[KindOps, ...] = (
    KindOps("Deployment", client.AppsV1Api, "deployment", deployment_status),
    KindOps("StatefulSet", client.AppsV1Api, "stateful_set", statefulset_status),
    KindOps("DaemonSet", client.AppsV1Api, "daemon_set", daemonset_status),
    KindOps("Job", client.BatchV1Api, "job", job_status),
)


def status_patch(old: Status, new: Status) -> Status | None:
    """Return the merge patch turning status `old` into `new`, or None when they are equal."""
    if old == new:
        return None
    patch: Status = dict(new)
    for key in old:
        if key not in new:
            patch[key] = None
    return patch


class ClusterSimulator:
    """Simulates the workload controllers of one cluster, as a client of its API server."""

    def __init__(self, name: str, api_client: client.ApiClient, delay: float | None = None,
                 watch_timeout: int = WATCH_TIMEOUT) -> None:
        self.name = name
        self.api_client = api_client
        self.delay = sim_delay() if delay is None else delay
        self.watch_timeout = watch_timeout
        #: How often a watch was answered 410 Expired and the kind was listed again.
        self.expired_relists = 0
        self._stop = threading.Event()
        self._cv = threading.Condition()
        self._heap: list[tuple[float, Key]] = []
        self._due: dict[Key, float] = {}
        self._threads: list[threading.Thread] = []
        self._watches: list[watch.Watch] = []
        self._ops = {ops.kind: ops for ops in KINDS}

    def start(self) -> None:
        """Start one watcher thread per kind and the worker thread."""
        for ops in KINDS:
            self._spawn(f"sim-{self.name}-{ops.kind}", lambda o=ops: self._watch_loop(o))
        self._spawn(f"sim-{self.name}-worker", self._work_loop)

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 3.0) -> None:
        """Stop every thread (bounded)."""
        self._stop.set()
        for w in list(self._watches):
            try:
                w.stop()
            except Exception:  # noqa: BLE001 - best effort while shutting down
                pass
        with self._cv:
            self._cv.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- scheduling ---------------------------------------------------------------------------

    def schedule(self, key: Key, after: float) -> None:
        """Evaluate `key` after `after` seconds (keeps an earlier schedule if one exists)."""
        when = time.monotonic() + after
        with self._cv:
            if key in self._due and self._due[key] <= when:
                return
            self._due[key] = when
            heapq.heappush(self._heap, (when, key))
            self._cv.notify()

    def _work_loop(self) -> None:
        while not self._stop.is_set():
            with self._cv:
                while not self._stop.is_set():
                    now = time.monotonic()
                    while self._heap and self._due.get(self._heap[0][1]) != self._heap[0][0]:
                        heapq.heappop(self._heap)  # superseded entry
                    if self._heap and self._heap[0][0] <= now:
                        _, key = heapq.heappop(self._heap)
                        del self._due[key]
                        break
                    self._cv.wait(min(1.0, self._heap[0][0] - now) if self._heap else 1.0)
                else:
                    return
            try:
                self._evaluate(key)
            except Exception as exc:  # noqa: BLE001 - a cluster may be restarting; try again
                if not self._stop.is_set():
                    log.debug("simulator %s: %s %s/%s: %s", self.name, *key, exc)
                    self.schedule(key, max(self.delay, 1.0))

    def _evaluate(self, key: Key) -> None:
        kind, namespace, name = key
        ops = self._ops[kind]
        api = ops.api(self.api_client)
        try:
            resp = getattr(api, f"read_namespaced_{ops.plural_fn}")(name, namespace, _preload_content=False)
        except client.ApiException as exc:
            if exc.status == 404:
                return
            raise
        obj = json.loads(resp.data)
        if obj["metadata"].get("deletionTimestamp"):
            return
        status, wait = ops.compute(obj, datetime.now(timezone.utc))
        patch = status_patch(obj.get("status") or {}, status)
        if patch is not None:
            getattr(api, f"patch_namespaced_{ops.plural_fn}_status")(
                name, namespace, {"status": patch}, field_manager=FIELD_MANAGER,
                _content_type="application/merge-patch+json", _preload_content=False)
            log.info("simulator %s: %s %s/%s status updated", self.name, kind, namespace, name)
        if wait is not None:
            self.schedule(key, wait + 0.05)

    # -- list and watch -----------------------------------------------------------------------

    def _watch_loop(self, ops: KindOps) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                self._list_and_watch(ops)
                backoff = 0.2
            except client.ApiException as exc:
                if self._stop.is_set():
                    return
                if exc.status == 410:  # history compacted: relist at once
                    log.debug("simulator %s: %s watch expired; relisting", self.name, ops.kind)
                    self.expired_relists += 1
                    continue
                log.debug("simulator %s: %s watch failed: %s", self.name, ops.kind, exc.status)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception as exc:  # noqa: BLE001 - restarts, connection errors: relist
                if self._stop.is_set():
                    return
                log.debug("simulator %s: %s watch ended: %s", self.name, ops.kind, type(exc).__name__)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def _list_and_watch(self, ops: KindOps) -> None:
        api = ops.api(self.api_client)
        list_fn = getattr(api, f"list_{ops.plural_fn}_for_all_namespaces")
        listing = json.loads(list_fn(_preload_content=False, _request_timeout=30).data)
        for item in listing.get("items") or []:
            self._seen(ops.kind, item)
        rv = (listing.get("metadata") or {}).get("resourceVersion")
        while not self._stop.is_set():
            # return_type "object": events carry plain dicts; an ERROR event (410 Expired) raises
            # ApiException, and the caller relists.
            w = watch.Watch(return_type="object")
            self._watches.append(w)
            try:
                for event in w.stream(list_fn, resource_version=rv, timeout_seconds=self.watch_timeout,
                                      allow_watch_bookmarks=True,
                                      _request_timeout=self.watch_timeout + 15):
                    if self._stop.is_set():
                        return
                    obj = event.get("raw_object") or {}
                    rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                    if event.get("type") in ("ADDED", "MODIFIED"):
                        self._seen(ops.kind, obj)
            finally:
                self._watches.remove(w)

    def _seen(self, kind: str, obj: dict) -> None:
        meta = obj.get("metadata") or {}
        if meta.get("name") and not meta.get("deletionTimestamp"):
            self.schedule((kind, meta.get("namespace") or "", meta["name"]), self.delay)


def api_client_for(url: str, token: str, ca_cert: str) -> client.ApiClient:
    """Return an official-client ApiClient for a sandbox cluster."""
    config = client.Configuration(host=url, api_key={"BearerToken": token},
                                  api_key_prefix={"BearerToken": "Bearer"}, ssl_ca_cert=ca_cert)
    config.client_side_validation = False
    return client.ApiClient(config)
