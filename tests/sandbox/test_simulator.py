"""The kwok-style controllers keep the status simulator's promises: workloads get real status, from real pods."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gitops_tui.sandbox.controllers.deployment_status import deployment_status
from gitops_tui.sandbox.controllers.objects import image_fails, status_patch
from tests.waiting import wait_until


def _conditions(obj: dict) -> dict[str, dict]:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


@pytest.fixture
def namespace(sandbox) -> str:
    """A fresh namespace on dev (and management), deleted afterwards."""
    name = f"sim-{uuid.uuid4().hex[:8]}"
    for context in ("dev", "management"):
        sandbox.kubectl(context, "create", "namespace", name)
    yield name
    for context in ("dev", "management"):
        sandbox.kubectl(context, "delete", "namespace", name, "--wait=false", check=False)


def _get(sandbox, context: str, kind: str, name: str, namespace: str) -> dict:
    out = sandbox.kubectl(context, "get", kind, name, "-n", namespace, "-o", "json").stdout
    return json.loads(out)


def _deployment(name: str, image: str, replicas: int = 2, deadline: int | None = None) -> str:
    spec: dict = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {"metadata": {"labels": {"app": name}},
                     "spec": {"containers": [{"name": "main", "image": image}]}},
    }
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec})


# -- pure status computation ------------------------------------------------------------------


@pytest.mark.parametrize("image,fails", [
    ("nginx:fail", True), ("registry:5000/team/app:fail", True), ("nginx:fail@sha256:abc", True),
    ("nginx", False), ("nginx:1.27", False), ("registry:5000/fail", False), ("nginx:failed", False),
])
def test_image_fails(image: str, fails: bool) -> None:
    assert image_fails(image) is fails


def _replica_set(name: str, replicas: int, available: int) -> dict:
    return {"metadata": {"name": name}, "spec": {"replicas": replicas},
            "status": {"replicas": replicas, "readyReplicas": available, "availableReplicas": available}}


def test_failing_deployment_times_out_after_its_deadline() -> None:
    obj = json.loads(_deployment("web", "web:fail", replicas=3, deadline=30))
    obj["metadata"].update(generation=2)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    stuck = _replica_set("web-abc", 3, 0)
    status, wait = deployment_status(obj, stuck, [stuck], start, "created")
    assert _conditions({"status": status})["Progressing"]["reason"] == "NewReplicaSetCreated"
    assert status.get("availableReplicas", 0) == 0 and status["observedGeneration"] == 2
    assert wait == pytest.approx(30)
    obj["status"] = status
    later, wait = deployment_status(obj, stuck, [stuck], start + timedelta(seconds=10))
    assert status_patch(status, later) is None and wait == pytest.approx(20)
    obj["status"] = later
    timed_out, wait = deployment_status(obj, stuck, [stuck], start + timedelta(seconds=31))
    progressing = _conditions({"status": timed_out})["Progressing"]
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert progressing["message"] == 'ReplicaSet "web-abc" has timed out progressing.'
    assert wait is None


def test_fixed_image_recovers_a_timed_out_deployment() -> None:
    obj = json.loads(_deployment("web", "web:fail", replicas=2, deadline=5))
    obj["metadata"].update(generation=1)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    stuck = _replica_set("web-abc", 2, 0)
    obj["status"], _ = deployment_status(obj, stuck, [stuck], start, "created")
    obj["status"], _ = deployment_status(obj, stuck, [stuck], start + timedelta(seconds=6))
    assert _conditions(obj)["Progressing"]["reason"] == "ProgressDeadlineExceeded"
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = "web:1.1"
    obj["metadata"]["generation"] = 2
    fixed, old = _replica_set("web-def", 2, 2), _replica_set("web-abc", 0, 0)
    status, wait = deployment_status(obj, fixed, [fixed, old], start + timedelta(seconds=7))
    conds = _conditions({"status": status})
    assert status["observedGeneration"] == 2 and status["availableReplicas"] == 2 and wait is None
    assert (conds["Available"]["status"], conds["Progressing"]["reason"]) == ("True", "NewReplicaSetAvailable")
    assert "unavailableReplicas" not in status
    assert status_patch(obj["status"], status)["unavailableReplicas"] is None  # removed by the patch


def test_rolling_update_keeps_the_deployment_available_while_the_new_set_fails() -> None:
    obj = json.loads(_deployment("web", "web:fail", replicas=4))
    now = datetime(2024, 1, 1, tzinfo=UTC)
    new, old = _replica_set("web-new", 4, 0), _replica_set("web-old", 4, 4)
    status, _ = deployment_status(obj, new, [new, old], now, "created")
    conds = _conditions({"status": status})
    assert conds["Available"]["status"] == "True" and conds["Progressing"]["status"] == "True"
    assert (status["replicas"], status["updatedReplicas"], status["availableReplicas"]) == (8, 4, 4)


# -- against the sandbox ----------------------------------------------------------------------


def test_deployment_becomes_available_and_follows_scaling(sandbox, namespace: str) -> None:
    sandbox.kubectl("dev", "apply", "-n", namespace, "-f", "-", input=_deployment("web", "nginx:1.27"))

    def available(replicas: int) -> dict | None:
        obj = _get(sandbox, "dev", "deployment", "web", namespace)
        status = obj.get("status") or {}
        cond = _conditions(obj).get("Available") or {}
        ok = (status.get("observedGeneration") == obj["metadata"]["generation"]
              and status.get("availableReplicas") == replicas == status.get("readyReplicas")
              and cond.get("status") == "True")
        return obj if ok else None

    obj = wait_until(lambda: available(2), timeout=20, message="deployment web available")
    progressing = _conditions(obj)["Progressing"]
    assert (progressing["status"], progressing["reason"]) == ("True", "NewReplicaSetAvailable")
    assert obj["status"]["updatedReplicas"] == 2
    sandbox.kubectl("dev", "scale", "deployment", "web", "-n", namespace, "--replicas=3")
    wait_until(lambda: available(3), timeout=20, message="deployment web scaled to 3")
    # kubectl's own rollout logic agrees that the rollout finished.
    out = sandbox.kubectl("dev", "rollout", "status", "deployment/web", "-n", namespace, "--timeout=20s")
    assert "successfully rolled out" in out.stdout


def test_fail_image_never_becomes_available_and_exceeds_deadline(sandbox, namespace: str) -> None:
    sandbox.kubectl("dev", "apply", "-n", namespace, "-f", "-",
                    input=_deployment("broken", "nginx:fail", replicas=1, deadline=2))
    first = wait_until(lambda: _conditions(_get(sandbox, "dev", "deployment", "broken", namespace)),
                       timeout=20, message="first status of broken")
    assert first["Available"]["status"] == "False"

    def exceeded() -> dict | None:
        obj = _get(sandbox, "dev", "deployment", "broken", namespace)
        cond = _conditions(obj).get("Progressing") or {}
        return obj if cond.get("reason") == "ProgressDeadlineExceeded" else None

    obj = wait_until(exceeded, timeout=20, message="ProgressDeadlineExceeded")
    assert _conditions(obj)["Progressing"]["status"] == "False"
    assert _conditions(obj)["Available"]["status"] == "False"
    assert obj["status"].get("availableReplicas", 0) == 0 and obj["status"].get("readyReplicas", 0) == 0


def test_job_completes(sandbox, namespace: str) -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
           "spec": {"completions": 2, "template": {"spec": {
               "restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox:1.36"}]}}}}
    sandbox.kubectl("dev", "apply", "-n", namespace, "-f", "-", input=json.dumps(job))

    def complete() -> dict | None:
        obj = _get(sandbox, "dev", "job", "once", namespace)
        return obj if (_conditions(obj).get("Complete") or {}).get("status") == "True" else None

    obj = wait_until(complete, timeout=20, message="job once complete")
    assert obj["status"]["succeeded"] == 2
    assert obj["status"]["startTime"] and obj["status"]["completionTime"]


def test_statefulset_and_daemonset_become_ready(sandbox, namespace: str) -> None:
    template = {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "main", "image": "postgres:16"}]}}
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
           "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                    "template": template}}
    ds = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
          "spec": {"selector": {"matchLabels": {"app": "db"}}, "template": template}}
    for obj in (sts, ds):
        sandbox.kubectl("dev", "apply", "-n", namespace, "-f", "-", input=json.dumps(obj))
    wait_until(lambda: (_get(sandbox, "dev", "statefulset", "db", namespace).get("status") or {})
               .get("readyReplicas") == 2, timeout=20, message="statefulset ready")
    ds_status = wait_until(lambda: (s := _get(sandbox, "dev", "daemonset", "agent", namespace).get("status"))
                           and s.get("numberReady") == s.get("desiredNumberScheduled") == 3 and s,
                           timeout=20, message="daemonset ready")
    assert ds_status["observedGeneration"] == 1


def test_management_cluster_is_simulated_too(sandbox, namespace: str) -> None:
    sandbox.kubectl("management", "apply", "-n", namespace, "-f", "-", input=_deployment("m", "nginx", 1))
    wait_until(lambda: (_get(sandbox, "management", "deployment", "m", namespace).get("status") or {})
               .get("availableReplicas") == 1, timeout=20, message="management deployment available")


# -- watch expiry and restarts, with an in-process cluster -------------------------------------


def _web(name: str) -> dict:
    return json.loads(_deployment(name, "nginx:1.27", replicas=1))


def test_controllers_relist_after_410_and_survive_a_cluster_restart(tmp_path) -> None:
    from kubernetes import client

    from gitops_tui.sandbox.controllers.manager import ControllerManager, api_client_for
    from gitops_tui.sandbox.serving.server import ClusterServer
    from gitops_tui.sandbox.serving.tls import ensure_tls

    tls = ensure_tls(tmp_path / "tls")

    def serve(port: int = 0) -> ClusterServer:
        server = ClusterServer("dev", tmp_path / "dev.db", "t0ken", tls, port=port,
                               keep_revisions=20, bookmark_interval=600)
        server.start()
        return server

    server = serve()
    api = api_client_for(server.url, "t0ken", str(tls.ca_cert))
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    sim = ControllerManager("dev", api, delay=0.1, watch_timeout=1)
    sim.start()

    def available(name: str) -> bool:
        data = json.loads(apps.read_namespaced_deployment(name, "default", _preload_content=False).data)
        return (data.get("status") or {}).get("availableReplicas") == 1

    try:
        apps.create_namespaced_deployment("default", _web("first"))
        wait_until(lambda: available("first"), timeout=15, message="first available")
        # Unrelated writes push the watched resourceVersion out of the kept history: the next
        # watch gets 410 Expired and the informers must list again.
        for i in range(30):
            core.create_namespaced_config_map("default", {"metadata": {"name": f"filler-{i}"}})
        wait_until(lambda: sum(i.expired_relists for i in sim.informers.values()) > 0, timeout=15,
                   message="a 410 relist")
        apps.create_namespaced_deployment("default", _web("second"))
        wait_until(lambda: available("second"), timeout=15, message="second available")

        port = server.port
        server.stop()
        server = serve(port)
        apps.create_namespaced_deployment("default", _web("third"))
        wait_until(lambda: available("third"), timeout=20, message="third available after a restart")
    finally:
        sim.stop()
        server.stop()
