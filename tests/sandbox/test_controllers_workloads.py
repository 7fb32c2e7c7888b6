"""Workload controllers with real kubectl: Deployments run ReplicaSets and Pods on the simulated nodes."""

from __future__ import annotations

import json

from tests.sandbox.controlled import Controlled, controlled, deployment, ns  # noqa: F401 - fixtures
from tests.waiting import wait_until


def _available(c: Controlled, name: str, namespace: str, replicas: int) -> dict | None:
    obj = c.json("deployment", name, "-n", namespace)
    st = obj.get("status") or {}
    done = (st.get("observedGeneration") == obj["metadata"]["generation"] and st.get("availableReplicas") == replicas
            and st.get("updatedReplicas") == replicas and st.get("replicas") == replicas)
    return obj if done else None


def test_get_nodes_shows_ready_simulated_nodes_at_the_servers_version(controlled: Controlled) -> None:
    out = wait_until(lambda: (o := controlled.kubectl("get", "nodes").stdout).count(" Ready ") == 3 and o,
                     timeout=20, message="three Ready nodes")
    version = json.loads(controlled.kubectl("version", "-o", "json").stdout)["serverVersion"]["gitVersion"]
    rows = out.splitlines()
    assert rows[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert [r.split()[0] for r in rows[1:]] == ["sandbox-node-1", "sandbox-node-2", "sandbox-node-3"]
    assert all(r.split()[4] == version for r in rows[1:])
    node = controlled.json("node", "sandbox-node-2")
    assert node["status"]["nodeInfo"]["kubeletVersion"] == version
    assert node["status"]["allocatable"]["pods"] == "110"
    assert node["status"]["addresses"][0] == {"type": "InternalIP", "address": "172.18.0.3"}


def test_deployment_runs_pods_on_the_nodes_and_its_status_comes_from_them(controlled: Controlled, ns: str) -> None:
    controlled.apply(deployment("web"), ns)
    wait_until(lambda: _available(controlled, "web", ns, 3), timeout=20, message="web available")
    pods = controlled.kubectl("get", "pods", "-n", ns, "-o", "wide").stdout.splitlines()[1:]
    assert len(pods) == 3 and all(" Running " in p and " 1/1 " in p for p in pods)
    assert sorted(p.split()[6] for p in pods) == ["sandbox-node-1", "sandbox-node-2", "sandbox-node-3"]
    rs = controlled.json("rs", "-n", ns)["items"]
    assert len(rs) == 1
    suffix = rs[0]["metadata"]["name"].removeprefix("web-")
    assert rs[0]["metadata"]["labels"]["pod-template-hash"] == suffix and 6 <= len(suffix) <= 10
    assert rs[0]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    assert rs[0]["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    pod = controlled.json("pods", "-n", ns)["items"][0]
    assert pod["metadata"]["ownerReferences"][0]["name"] == rs[0]["metadata"]["name"]
    assert pod["status"]["podIP"].startswith("10.244.") and pod["status"]["containerStatuses"][0]["ready"]
    # Status follows the real pods: one deleted pod is replaced by a new one.
    victim = pod["metadata"]["name"]
    controlled.kubectl("delete", "pod", victim, "-n", ns)
    wait_until(lambda: (names := [p["metadata"]["name"] for p in controlled.json("pods", "-n", ns)["items"]])
               and len(names) == 3 and victim not in names, timeout=20, message="pod replaced")
    wait_until(lambda: _available(controlled, "web", ns, 3), timeout=20, message="web available again")
    controlled.kubectl("scale", "deployment", "web", "-n", ns, "--replicas=1")
    wait_until(lambda: len(controlled.json("pods", "-n", ns)["items"]) == 1, timeout=20, message="scaled to 1")
    wait_until(lambda: _available(controlled, "web", ns, 1), timeout=20, message="web at 1 replica")


def test_rollout_status_history_undo_and_restart(controlled: Controlled, ns: str) -> None:
    controlled.apply(deployment("app", "nginx:1.27", replicas=2), ns)
    out = controlled.kubectl("rollout", "status", "deployment/app", "-n", ns, "--timeout=30s").stdout
    assert 'deployment "app" successfully rolled out' in out
    controlled.kubectl("set", "image", "deployment/app", "main=nginx:1.28", "-n", ns)
    controlled.kubectl("annotate", "deployment/app", "-n", ns, "kubernetes.io/change-cause=move to 1.28")
    controlled.kubectl("rollout", "status", "deployment/app", "-n", ns, "--timeout=30s")
    history = wait_until(lambda: "move to 1.28" in (h := controlled.kubectl(
        "rollout", "history", "deployment/app", "-n", ns).stdout) and h, timeout=20, message="change-cause shown")
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    assert history.splitlines()[3].split(None, 1)[1].strip() == "move to 1.28"
    revision1 = controlled.kubectl("rollout", "history", "deployment/app", "-n", ns, "--revision=1").stdout
    assert "nginx:1.27" in revision1
    controlled.kubectl("rollout", "undo", "deployment/app", "-n", ns)
    controlled.kubectl("rollout", "status", "deployment/app", "-n", ns, "--timeout=30s")
    history = controlled.kubectl("rollout", "history", "deployment/app", "-n", ns).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]
    images = {c["image"] for p in controlled.json("pods", "-n", ns)["items"] for c in p["spec"]["containers"]}
    assert images == {"nginx:1.27"}
    assert len(controlled.json("rs", "-n", ns)["items"]) == 2  # undo reused the first ReplicaSet
    controlled.kubectl("rollout", "restart", "deployment/app", "-n", ns)
    controlled.kubectl("rollout", "status", "deployment/app", "-n", ns, "--timeout=30s")
    obj = controlled.json("deployment", "app", "-n", ns)
    assert "kubectl.kubernetes.io/restartedAt" in obj["spec"]["template"]["metadata"]["annotations"]
    assert obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "4"
    pods = controlled.json("pods", "-n", ns)["items"]
    assert len(pods) == 2 and all("kubectl.kubernetes.io/restartedAt" in p["metadata"]["annotations"] for p in pods)


def test_fail_image_stays_in_image_pull_back_off_and_the_rollout_times_out(controlled: Controlled, ns: str) -> None:
    controlled.apply(deployment("broken", "nginx:fail", replicas=1, progressDeadlineSeconds=2), ns)
    wait_until(lambda: "ImagePullBackOff" in controlled.kubectl("get", "pods", "-n", ns).stdout, timeout=20,
               message="ImagePullBackOff")
    status = controlled.kubectl("rollout", "status", "deployment/broken", "-n", ns, "--timeout=30s", check=False)
    assert status.returncode != 0 and 'deployment "broken" exceeded its progress deadline' in status.stderr
    obj = controlled.json("deployment", "broken", "-n", ns)
    assert obj["status"].get("availableReplicas", 0) == 0 and obj["status"]["unavailableReplicas"] == 1
    logs = controlled.kubectl("logs", "deployment/broken", "-n", ns, check=False)
    assert logs.returncode != 0 and "is waiting to start: ImagePullBackOff" in logs.stderr


def test_statefulset_daemonset_and_replication_controller_pods(controlled: Controlled, ns: str) -> None:
    template = {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "pg:16"}]}}
    controlled.apply({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                      "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                               "template": template}}, ns)
    controlled.apply({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                      "spec": {"selector": {"matchLabels": {"app": "agent"}},
                               "template": {**template, "metadata": {"labels": {"app": "agent"}}}}}, ns)
    out = controlled.kubectl("rollout", "status", "statefulset/db", "-n", ns, "--timeout=30s").stdout
    assert "partitioned roll out complete" in out or "statefulset rolling update complete" in out
    names = sorted(p["metadata"]["name"] for p in controlled.json("pods", "-n", ns, "-l", "app=db")["items"])
    assert names == ["db-0", "db-1", "db-2"]
    controlled.kubectl("rollout", "status", "daemonset/agent", "-n", ns, "--timeout=30s")
    agents = controlled.json("pods", "-n", ns, "-l", "app=agent")["items"]
    assert sorted(p["spec"]["nodeName"] for p in agents) == ["sandbox-node-1", "sandbox-node-2", "sandbox-node-3"]
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "legacy"},
          "spec": {"replicas": 1, "selector": {"app": "legacy"},
                   "template": {**template, "metadata": {"labels": {"app": "legacy"}}}}}
    controlled.apply(rc, ns)
    controlled.kubectl("scale", "rc", "legacy", "-n", ns, "--replicas=3")
    wait_until(lambda: (r := controlled.json("rc", "legacy", "-n", ns)).get("status", {}).get("readyReplicas") == 3
               and r, timeout=20, message="rc legacy at 3 ready")
    row = controlled.kubectl("get", "rc", "legacy", "-n", ns).stdout.splitlines()
    assert row[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"] and row[1].split()[1:4] == ["3", "3", "3"]


def test_job_pods_succeed_and_the_job_completes(controlled: Controlled, ns: str) -> None:
    controlled.kubectl("create", "job", "once", "-n", ns, "--image=busybox:1.36", "--", "true")
    controlled.kubectl("wait", "--for=condition=complete", "job/once", "-n", ns, "--timeout=30s")
    job = controlled.json("job", "once", "-n", ns)
    assert job["status"]["succeeded"] == 1 and job["status"]["completionTime"]
    pods = controlled.json("pods", "-n", ns, "-l", "job-name=once")["items"]
    assert [p["status"]["phase"] for p in pods] == ["Succeeded"]
    assert "Completed" in controlled.kubectl("get", "pods", "-n", ns).stdout


def test_logs_answer_that_the_pod_is_simulated_and_exec_is_refused(controlled: Controlled, ns: str) -> None:
    controlled.kubectl("run", "solo", "-n", ns, "--image=nginx:1.27")
    controlled.kubectl("wait", "--for=condition=Ready", "pod/solo", "-n", ns, "--timeout=30s")
    logs = controlled.kubectl("logs", "solo", "-n", ns, timeout=20)
    assert f"pod {ns}/solo is simulated" in logs.stdout
    follow = controlled.kubectl("logs", "-f", "solo", "-n", ns, timeout=20)
    assert "is simulated" in follow.stdout
    wrong = controlled.kubectl("logs", "solo", "-c", "nope", "-n", ns, check=False)
    assert wrong.returncode != 0 and "container nope is not valid for pod solo" in wrong.stderr
    execd = controlled.kubectl("exec", "solo", "-n", ns, "--", "ls", check=False, timeout=20)
    assert execd.returncode != 0 and "simulated" in execd.stderr


def test_ordinals_scale_down_from_the_top_and_selectors_place_pods(controlled: Controlled, ns: str) -> None:
    template = {"metadata": {"labels": {"app": "ord"}}, "spec": {"containers": [{"name": "c", "image": "pg:16"}]}}
    controlled.apply({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "ord"},
                      "spec": {"replicas": 3, "serviceName": "ord", "selector": {"matchLabels": {"app": "ord"}},
                               "template": template}}, ns)
    controlled.kubectl("rollout", "status", "statefulset/ord", "-n", ns, "--timeout=30s")
    controlled.kubectl("scale", "statefulset", "ord", "-n", ns, "--replicas=1")
    wait_until(lambda: [p["metadata"]["name"] for p in controlled.json("pods", "-n", ns, "-l", "app=ord")["items"]]
               == ["ord-0"], timeout=20, message="only ord-0 left")
    pinned = {"metadata": {"labels": {"app": "pinned"}},
              "spec": {"nodeSelector": {"kubernetes.io/hostname": "sandbox-node-2"},
                       "containers": [{"name": "c", "image": "busybox:1.36"}]}}
    controlled.apply({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "pinned"},
                      "spec": {"selector": {"matchLabels": {"app": "pinned"}}, "template": pinned}}, ns)
    controlled.kubectl("rollout", "status", "daemonset/pinned", "-n", ns, "--timeout=30s")
    placed = controlled.json("pods", "-n", ns, "-l", "app=pinned")["items"]
    assert [p["spec"]["nodeName"] for p in placed] == ["sandbox-node-2"]
    assert controlled.json("daemonset", "pinned", "-n", ns)["status"]["desiredNumberScheduled"] == 1
    controlled.kubectl("run", "nowhere", "-n", ns, "--image=busybox:1.36",
                       "--overrides", json.dumps({"spec": {"nodeSelector": {"disk": "ssd"}}}))
    pod = wait_until(lambda: (p := controlled.json("pod", "nowhere", "-n", ns)).get("status", {}).get("conditions")
                     and p, timeout=20, message="nowhere judged unschedulable")
    scheduled = pod["status"]["conditions"][0]
    assert (scheduled["type"], scheduled["status"], scheduled["reason"]) == ("PodScheduled", "False", "Unschedulable")
    assert "0/3 nodes are available" in scheduled["message"] and not pod["spec"].get("nodeName")


def test_a_job_runs_its_completions_with_bounded_parallelism(controlled: Controlled, ns: str) -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "batch"},
           "spec": {"completions": 3, "parallelism": 2, "template": {"spec": {
               "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1.36"}]}}}}
    controlled.apply(job, ns)
    for _ in range(30):  # each pass waits at most 1 s for completion, counting the pods still running
        running = [p for p in controlled.json("pods", "-n", ns, "-l", "job-name=batch")["items"]
                   if p.get("status", {}).get("phase") in (None, "Pending", "Running")]
        assert len(running) <= 2
        if controlled.kubectl("wait", "--for=condition=complete", "job/batch", "-n", ns, "--timeout=1s",
                              check=False).returncode == 0:
            break
    pods = controlled.json("pods", "-n", ns, "-l", "job-name=batch")["items"]
    assert [p["status"]["phase"] for p in pods] == ["Succeeded"] * 3
    assert controlled.json("job", "batch", "-n", ns)["status"]["succeeded"] == 3


def test_a_paused_deployment_scales_but_rolls_nothing_out_until_resumed(controlled: Controlled, ns: str) -> None:
    controlled.apply(deployment("held", replicas=1), ns)
    controlled.kubectl("rollout", "status", "deployment/held", "-n", ns, "--timeout=30s")
    controlled.kubectl("rollout", "pause", "deployment/held", "-n", ns)
    controlled.kubectl("set", "image", "deployment/held", "main=nginx:1.28", "-n", ns)
    controlled.kubectl("scale", "deployment", "held", "-n", ns, "--replicas=2")
    wait_until(lambda: len(controlled.json("pods", "-n", ns, "-l", "app=held")["items"]) == 2, timeout=20,
               message="paused deployment scaled")
    assert len(controlled.json("rs", "-n", ns)["items"]) == 1
    images = {c["image"] for p in controlled.json("pods", "-n", ns)["items"] for c in p["spec"]["containers"]}
    assert images == {"nginx:1.27"}
    controlled.kubectl("rollout", "resume", "deployment/held", "-n", ns)
    controlled.kubectl("rollout", "status", "deployment/held", "-n", ns, "--timeout=30s")
    images = {c["image"] for p in controlled.json("pods", "-n", ns)["items"] for c in p["spec"]["containers"]}
    assert images == {"nginx:1.28"}


def test_statefulset_and_daemonset_rollout_history_and_undo(controlled: Controlled, ns: str) -> None:
    def template(app: str, image: str) -> dict:
        return {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "c", "image": image}]}}

    controlled.apply({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "hist"},
                      "spec": {"replicas": 2, "serviceName": "hist", "selector": {"matchLabels": {"app": "hist"}},
                               "template": template("hist", "pg:15")}}, ns)
    controlled.apply({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "dhist"},
                      "spec": {"selector": {"matchLabels": {"app": "dhist"}},
                               "template": template("dhist", "agent:1")}}, ns)
    for kind, name, image in (("statefulset", "hist", "c=pg:16"), ("daemonset", "dhist", "c=agent:2")):
        controlled.kubectl("rollout", "status", f"{kind}/{name}", "-n", ns, "--timeout=30s")
        controlled.kubectl("set", "image", f"{kind}/{name}", image, "-n", ns)
        controlled.kubectl("rollout", "status", f"{kind}/{name}", "-n", ns, "--timeout=30s")
        history = controlled.kubectl("rollout", "history", f"{kind}/{name}", "-n", ns).stdout
        assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
        controlled.kubectl("rollout", "undo", f"{kind}/{name}", "-n", ns)
        controlled.kubectl("rollout", "status", f"{kind}/{name}", "-n", ns, "--timeout=30s")
        history = controlled.kubectl("rollout", "history", f"{kind}/{name}", "-n", ns).stdout
        assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]
    images = {p["metadata"]["labels"]["app"]: p["spec"]["containers"][0]["image"]
              for p in controlled.json("pods", "-n", ns)["items"]}
    assert images == {"hist": "pg:15", "dhist": "agent:1"}
    revisions = controlled.kubectl("get", "controllerrevisions", "-n", ns).stdout
    assert "statefulset.apps/hist" in revisions and "daemonset.apps/dhist" in revisions
