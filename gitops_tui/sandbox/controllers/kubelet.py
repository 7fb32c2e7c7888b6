"""The simulated kubelets: pods bound to a simulated node start after GITOPS_TUI_SIM_DELAY, kwok-style.

A container whose image is tagged `fail` stays in ImagePullBackOff; a Job's pods run for the same
delay and then succeed (kwok's pod-complete stage); every other pod keeps running.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from datetime import datetime
from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.kinds import NODES, PODS
from gitops_tui.sandbox.controllers.nodes import KUBELET_MANAGER, node_index, node_ip
from gitops_tui.sandbox.controllers.objects import (
    conditions_by_type,
    deleting,
    image_fails,
    meta,
    pod_terminal,
    spec,
    status,
    timestamp,
    utc_now,
)
from gitops_tui.util.timestamps import parse_time


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _containers(pod: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [c for c in spec(pod).get(key) or [] if isinstance(c, dict)]


def _running(container: dict[str, Any], uid: str, since: str) -> dict[str, Any]:
    image = str(container.get("image", ""))
    return {"name": container.get("name", ""), "image": image, "imageID": f"{image.split('@')[0]}@sha256:"
            f"{_digest(image)}", "containerID": f"containerd://{_digest(uid + str(container.get('name')))}",
            "ready": True, "restartCount": 0, "started": True, "state": {"running": {"startedAt": since}},
            "lastState": {}}


def _pulling_fails(container: dict[str, Any]) -> dict[str, Any]:
    image = str(container.get("image", ""))
    return {"name": container.get("name", ""), "image": image, "imageID": "", "ready": False, "restartCount": 0,
            "started": False, "lastState": {},
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}}}


def _finished(container: dict[str, Any], uid: str, since: str, until: str) -> dict[str, Any]:
    done = _running(container, uid, since)
    done.update(ready=False, started=False, state={"terminated": {
        "exitCode": 0, "reason": "Completed", "startedAt": since, "finishedAt": until,
        "containerID": done["containerID"]}})
    return done


def _condition(pod: dict[str, Any], kind: str, ok: bool, reason: str = "", message: str = "",
               now: datetime | None = None) -> dict[str, Any]:
    old = conditions_by_type(pod).get(kind) or {}
    state = "True" if ok else "False"
    since = old.get("lastTransitionTime") if old.get("status") == state else None
    cond: dict[str, Any] = {"type": kind, "status": state, "lastProbeTime": None,
                            "lastTransitionTime": since or timestamp(now or utc_now())}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def pod_status(pod: dict[str, Any], host_ip: str, pod_ip: str, started: str, finished: str = "") -> dict[str, Any]:
    """The status a kubelet reports for a pod that has started (and, when ``finished``, completed)."""
    uid = meta(pod).get("uid", "")
    init, main = _containers(pod, "initContainers"), _containers(pod, "containers")
    failing_init = [c for c in init if image_fails(str(c.get("image", "")))]
    failing = failing_init or [c for c in main if image_fails(str(c.get("image", "")))]
    init_statuses = [_pulling_fails(c) if c in failing_init else _finished(c, uid, started, started) for c in init]
    if failing_init:
        main_statuses = [{"name": c.get("name", ""), "image": c.get("image", ""), "imageID": "", "ready": False,
                          "restartCount": 0, "started": False, "lastState": {},
                          "state": {"waiting": {"reason": "PodInitializing"}}} for c in main]
    elif finished:
        main_statuses = [_finished(c, uid, started, finished) for c in main]
    else:
        main_statuses = [_pulling_fails(c) if c in failing else _running(c, uid, started) for c in main]
    unready = [s["name"] for s in main_statuses if not s["ready"]]
    phase = "Pending" if failing else ("Succeeded" if finished else "Running")
    if finished:
        ready = _condition(pod, "Ready", False, "PodCompleted")
        containers_ready = _condition(pod, "ContainersReady", False, "PodCompleted")
    elif unready:
        message = f"containers with unready status: [{' '.join(unready)}]"
        ready = _condition(pod, "Ready", False, "ContainersNotReady", message)
        containers_ready = _condition(pod, "ContainersReady", False, "ContainersNotReady", message)
    else:
        ready, containers_ready = _condition(pod, "Ready", True), _condition(pod, "ContainersReady", True)
    initialized = (_condition(pod, "Initialized", False, "ContainersNotInitialized",
                              f"containers with incomplete status: [{' '.join(c.get('name', '') for c in failing_init)}]")
                   if failing_init else _condition(pod, "Initialized", True))
    out: dict[str, Any] = {
        "phase": phase,
        "conditions": [_condition(pod, "PodReadyToStartContainers", not finished), initialized, ready,
                       containers_ready, _condition(pod, "PodScheduled", True)],
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}], "startTime": started,
        "containerStatuses": main_statuses, "qosClass": status(pod).get("qosClass") or "BestEffort",
    }
    if not failing:
        out.update(podIP=pod_ip, podIPs=[{"ip": pod_ip}])
    if init_statuses:
        out["initContainerStatuses"] = init_statuses
    return out


def runs_to_completion(pod: dict[str, Any]) -> bool:
    """Whether the pod finishes by itself: a Job's pod that does not restart (kwok's pod-complete stage)."""
    owned = any(ref.get("kind") == "Job" for ref in meta(pod).get("ownerReferences") or [])
    return owned and spec(pod).get("restartPolicy") in ("Never", "OnFailure")


def _images_current(pod: dict[str, Any]) -> bool:
    images = {c.get("name"): c.get("image") for c in _containers(pod, "containers")}
    reported = {s.get("name"): s.get("image") for s in status(pod).get("containerStatuses") or []}
    return bool(reported) and reported == images


class Kubelet(Controller):
    """Runs (in appearance) the pods bound to this cluster's simulated nodes."""

    name = "kubelet"

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._first_seen: dict[str, float] = {}

    def setup(self) -> None:
        """Look at pods bound to a node; forget the ones that are gone."""
        def changed(kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
            if kind == "DELETED":
                self._first_seen.pop(meta(old).get("uid", ""), None)
            elif new and spec(new).get("nodeName") and not deleting(new) and not pod_terminal(new):
                self.enqueue_obj(new)

        self.on(PODS, changed)

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Start, fail or finish one pod once its delay has passed."""
        pod = self.ctx.cache(PODS, namespace, name)
        if pod is None or deleting(pod) or pod_terminal(pod):
            return None
        node = self.ctx.cache(NODES, "", spec(pod).get("nodeName") or "")
        if node is None:
            return None
        uid = meta(pod).get("uid", "")
        current = _images_current(pod)
        st = status(pod)
        if current and not (runs_to_completion(pod) and st.get("phase") == "Running"):
            return None
        first = self._first_seen.setdefault(uid, time.monotonic())
        wait = self.ctx.delay - (time.monotonic() - first)
        if wait > 0:
            return wait
        now = utc_now()
        started = st.get("startTime") if current else None
        finished = ""
        if current:  # a run-to-completion pod that is running: it finishes one delay after it started
            since = parse_time(started)
            left = self.ctx.delay - ((now - since).total_seconds() if since else self.ctx.delay)
            if left > 0:
                return left
            finished = timestamp(now)
        new = pod_status(pod, node_ip(meta(node).get("name", "")), st.get("podIP") or self._pod_ip(node),
                         started or timestamp(now), finished)
        self.ctx.write_status(PODS, pod, new, KUBELET_MANAGER)
        if new["phase"] == "Running" and runs_to_completion(pod):
            self._first_seen[uid] = time.monotonic()
            return self.ctx.delay
        return None

    def _pod_ip(self, node: dict[str, Any]) -> str:
        """A free address of the node's pod range."""
        name = meta(node).get("name", "")
        network = ipaddress.ip_network(f"10.244.{node_index(name)}.0/24")
        taken = {status(p).get("podIP") for p in self.ctx.items(PODS) if spec(p).get("nodeName") == name}
        for address in network.hosts():
            if str(address) not in taken and address != network[1]:
                return str(address)
        return str(network[2])
