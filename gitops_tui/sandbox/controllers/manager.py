"""The controller manager of one sandbox cluster: shared informers, one work queue, a few workers.

It is a client of the cluster's API server through the official Python client, like
kube-controller-manager, kube-scheduler and kwok's kubelets together: it reacts to watch events
only (no polling), so an idle cluster costs no CPU.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kubernetes import client

from gitops_tui.sandbox.controllers import kinds
from gitops_tui.sandbox.controllers.apiservices import APIServiceController
from gitops_tui.sandbox.controllers.base import Context, Controller
from gitops_tui.sandbox.controllers.cronjob import CronJobController
from gitops_tui.sandbox.controllers.daemonset import DaemonSetController
from gitops_tui.sandbox.controllers.deployment import DeploymentController
from gitops_tui.sandbox.controllers.disruption import DisruptionController
from gitops_tui.sandbox.controllers.endpoints import EndpointsController
from gitops_tui.sandbox.controllers.garbage import GarbageCollector, metadata_only
from gitops_tui.sandbox.controllers.hpa import HorizontalPodAutoscalerController
from gitops_tui.sandbox.controllers.informer import WATCH_TIMEOUT, Informer, slim
from gitops_tui.sandbox.controllers.job import JobController
from gitops_tui.sandbox.controllers.kubelet import Kubelet
from gitops_tui.sandbox.controllers.namespace import NamespaceController, keep_root_ca
from gitops_tui.sandbox.controllers.nodes import NodeController
from gitops_tui.sandbox.controllers.objects import utc_now
from gitops_tui.sandbox.controllers.replicaset import ReplicaSetController, ReplicationControllerManager
from gitops_tui.sandbox.controllers.resourcequota import ResourceQuotaController
from gitops_tui.sandbox.controllers.rest import ApiException, Rest, status_of
from gitops_tui.sandbox.controllers.scheduler import Scheduler
from gitops_tui.sandbox.controllers.service import ServiceController
from gitops_tui.sandbox.controllers.statefulset import StatefulSetController
from gitops_tui.util.workqueue import WorkQueue

log = logging.getLogger(__name__)

#: Seconds a pod takes to start or to finish (env GITOPS_TUI_SIM_DELAY).
DEFAULT_DELAY = 1.0
WORKERS = 2
CONTROLLERS: tuple[type[Controller], ...] = (
    NodeController, Scheduler, Kubelet, DeploymentController, ReplicaSetController, ReplicationControllerManager,
    StatefulSetController, DaemonSetController, JobController, CronJobController, HorizontalPodAutoscalerController,
    NamespaceController, ServiceController,
    EndpointsController, DisruptionController, ResourceQuotaController, APIServiceController, GarbageCollector,
)
#: What the caches keep of kinds read only for their metadata.
_KEEP = {kinds.CONFIGMAPS.key: keep_root_ca, kinds.SECRETS.key: metadata_only, kinds.PVCS.key: metadata_only,
         kinds.SERVICEACCOUNTS.key: metadata_only}


def sim_delay() -> float:
    """The configured delay before a pod starts (and before a run-to-completion pod finishes), in seconds."""
    try:
        return max(0.0, float(os.environ.get("GITOPS_TUI_SIM_DELAY", DEFAULT_DELAY)))
    except ValueError:
        return DEFAULT_DELAY


def api_client_for(url: str, token: str, ca_cert: str) -> client.ApiClient:
    """An official-client ApiClient for a sandbox cluster."""
    config = client.Configuration(host=url, api_key={"BearerToken": token},
                                  api_key_prefix={"BearerToken": "Bearer"}, ssl_ca_cert=ca_cert)
    config.client_side_validation = False
    config.connection_pool_maxsize = len(kinds.WATCHED) + 2 * WORKERS + 8  # a watch holds a connection
    return client.ApiClient(config)


class ControllerManager:
    """Runs every controller of one cluster until stopped."""

    def __init__(self, cluster: str, api_client: client.ApiClient, ca_pem: str = "", delay: float | None = None,
                 workers: int = WORKERS, watch_timeout: int = WATCH_TIMEOUT,
                 clock: Callable[[], datetime] | None = None) -> None:
        rest = Rest(api_client)
        self.stop_event = threading.Event()
        self.queue: WorkQueue[tuple[str, str, str]] = WorkQueue()
        informers = {res.key: Informer(rest, res, self.stop_event, _KEEP.get(res.key, slim),
                                       watch_timeout) for res in kinds.WATCHED}
        self.ctx = Context(cluster, rest, self.queue, informers, sim_delay() if delay is None else delay,
                           self.stop_event, ca_pem, clock=clock or utc_now)
        self.controllers = {cls.name: cls(self.ctx) for cls in CONTROLLERS}
        self.workers = workers
        self._threads: list[threading.Thread] = []
        self._failures: dict[Any, int] = {}

    @property
    def informers(self) -> dict[str, Informer]:
        """Every informer, by resource key (the garbage collector adds some for owners' kinds)."""
        return self.ctx.informers

    def start(self) -> None:
        """Start the informers; the workers start once every cache has listed."""
        for controller in self.controllers.values():
            controller.setup()
        for informer in list(self.ctx.informers.values()):
            informer.start()
        self._spawn(f"controllers-{self.ctx.cluster}-start", self._start_workers)

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _start_workers(self) -> None:
        for informer in list(self.ctx.informers.values()):
            while not informer.synced.wait(0.5):
                if self.stop_event.is_set():
                    return
        while not self.stop_event.is_set():
            try:
                self.ctx.version = str(self.ctx.rest.get("/version").get("gitVersion") or "")
                break
            except Exception:  # noqa: BLE001 - the server may be restarting
                self.stop_event.wait(0.5)
        for controller in self.controllers.values():
            controller.start()
        for index in range(self.workers):
            self._spawn(f"controllers-{self.ctx.cluster}-worker-{index}", self._work)
        log.info("controllers of %s started", self.ctx.cluster)

    def _work(self) -> None:
        while True:
            key = self.queue.get()
            if key is None:
                return
            name, namespace, obj_name = key
            try:
                wait = self.controllers[name].reconcile(namespace, obj_name)
                self._failures.pop(key, None)
                if wait is not None:
                    self.queue.add(key, wait)
            except Exception as exc:  # noqa: BLE001 - a cluster may be restarting; retry with backoff
                if self.stop_event.is_set():
                    return
                failures = self._failures[key] = self._failures.get(key, 0) + 1
                conflict = isinstance(exc, ApiException) and status_of(exc) == 409
                if not conflict:
                    detail = f"HTTP {status_of(exc)}: {getattr(exc, 'body', '')}" if isinstance(exc, ApiException) \
                        else repr(exc)
                    log.debug("controller %s %s/%s: %s", name, namespace, obj_name, detail[:500])
                self.queue.add(key, min(5.0, 0.02 * 2 ** min(failures, 8)))
            finally:
                self.queue.done(key)

    def clock_moved(self) -> None:
        """Tell every controller that the clock jumped (tests that move an injected clock call this)."""
        for controller in self.controllers.values():
            controller.clock_moved()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop the workers (bounded); the informers end with their watches (daemon threads)."""
        self.stop_event.set()
        self.queue.close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

