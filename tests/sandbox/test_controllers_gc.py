"""The garbage collector with real kubectl: background, foreground and orphan deletion, as kube-controller-manager."""

from __future__ import annotations

import json

from tests.sandbox.controlled import Controlled, controlled, deployment, ns  # noqa: F401 - fixtures
from tests.waiting import wait_until


def _ready_deployment(c: Controlled, name: str, namespace: str, replicas: int = 2) -> None:
    c.apply(deployment(name, replicas=replicas), namespace)
    c.kubectl("rollout", "status", f"deployment/{name}", "-n", namespace, "--timeout=30s")


def _names(c: Controlled, kind: str, namespace: str) -> list[str]:
    return sorted(o["metadata"]["name"] for o in c.json(kind, "-n", namespace)["items"])


def _configmap(name: str, owner: dict | None = None, block: bool = False, finalizers: list | None = None) -> dict:
    meta: dict = {"name": name}
    if owner is not None:
        meta["ownerReferences"] = [{"apiVersion": owner["apiVersion"], "kind": owner["kind"],
                                    "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                                    "blockOwnerDeletion": block}]
    if finalizers:
        meta["finalizers"] = finalizers
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def test_background_deletion_removes_replica_sets_and_pods(controlled: Controlled, ns: str) -> None:
    _ready_deployment(controlled, "web", ns)
    assert len(_names(controlled, "pods", ns)) == 2
    controlled.kubectl("delete", "deployment", "web", "-n", ns)
    wait_until(lambda: not _names(controlled, "rs", ns) and not _names(controlled, "pods", ns), timeout=20,
               message="ReplicaSet and pods collected")


def test_orphan_deletion_keeps_dependents_without_dangling_references(controlled: Controlled, ns: str) -> None:
    _ready_deployment(controlled, "keep", ns)
    rs_name = _names(controlled, "rs", ns)[0]
    controlled.kubectl("delete", "deployment", "keep", "-n", ns, "--cascade=orphan")
    assert controlled.kubectl("get", "deployment", "keep", "-n", ns, check=False).returncode != 0
    rs = controlled.json("rs", rs_name, "-n", ns)
    assert "ownerReferences" not in rs["metadata"]
    pods = controlled.json("pods", "-n", ns)["items"]
    assert len(pods) == 2 and all(p["metadata"]["ownerReferences"][0]["name"] == rs_name for p in pods)
    # A new Deployment with the same selector and template adopts the orphaned ReplicaSet (no new pods).
    _ready_deployment(controlled, "keep", ns)
    adopted = controlled.json("rs", rs_name, "-n", ns)
    assert adopted["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    assert sorted(p["metadata"]["name"] for p in controlled.json("pods", "-n", ns)["items"]) == \
        sorted(p["metadata"]["name"] for p in pods)


def test_foreground_deletion_removes_dependents_before_the_owner(controlled: Controlled, ns: str) -> None:
    _ready_deployment(controlled, "fg", ns)
    controlled.kubectl("delete", "deployment", "fg", "-n", ns, "--cascade=foreground")
    assert not _names(controlled, "deployments", ns)
    wait_until(lambda: not _names(controlled, "rs", ns) and not _names(controlled, "pods", ns), timeout=20,
               message="dependents gone")


def test_foreground_owner_waits_for_a_blocking_dependent(controlled: Controlled, ns: str) -> None:
    controlled.apply(_configmap("owner"), ns)
    owner = controlled.json("configmap", "owner", "-n", ns)
    controlled.apply(_configmap("held", owner, block=True, finalizers=["example.com/hold"]), ns)
    controlled.apply(_configmap("loose", owner, block=False), ns)
    controlled.kubectl("delete", "configmap", "owner", "-n", ns, "--cascade=foreground", "--wait=false")
    wait_until(lambda: "loose" not in _names(controlled, "configmaps", ns), timeout=20, message="loose collected")
    held = controlled.json("configmap", "held", "-n", ns)
    waiting = controlled.json("configmap", "owner", "-n", ns)
    assert held["metadata"].get("deletionTimestamp") and waiting["metadata"].get("deletionTimestamp")
    assert waiting["metadata"]["finalizers"] == ["foregroundDeletion"]
    controlled.kubectl("patch", "configmap", "held", "-n", ns, "--type=merge", "-p",
                       json.dumps({"metadata": {"finalizers": None}}))
    wait_until(lambda: not {"owner", "held"} & set(_names(controlled, "configmaps", ns)), timeout=20,
               message="owner released once its blocking dependent went")


def test_a_dependent_of_a_custom_resource_goes_with_it(controlled: Controlled, ns: str) -> None:
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "gcowners.example.org"},
           "spec": {"group": "example.org", "scope": "Namespaced",
                    "names": {"plural": "gcowners", "singular": "gcowner", "kind": "GcOwner"},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": {"type": "object",
                                                                 "x-kubernetes-preserve-unknown-fields": True}}}]}}
    controlled.kubectl("apply", "-f", "-", input=json.dumps(crd))
    wait_until(lambda: controlled.kubectl("get", "gcowners", "-n", ns, check=False).returncode == 0, timeout=20,
               message="CRD served")
    controlled.apply({"apiVersion": "example.org/v1", "kind": "GcOwner", "metadata": {"name": "boss"}}, ns)
    boss = controlled.json("gcowner", "boss", "-n", ns)
    controlled.apply(_configmap("minion", boss), ns)
    other = controlled.json("configmap", "kube-root-ca.crt", "-n", ns)
    two = _configmap("shared", boss)
    two["metadata"]["ownerReferences"].append({"apiVersion": "v1", "kind": "ConfigMap", "name": "kube-root-ca.crt",
                                               "uid": other["metadata"]["uid"]})
    controlled.apply(two, ns)
    controlled.kubectl("delete", "gcowner", "boss", "-n", ns)
    wait_until(lambda: "minion" not in _names(controlled, "configmaps", ns), timeout=20, message="minion collected")
    shared = wait_until(lambda: (s := controlled.json("configmap", "shared", "-n", ns))
                        and len(s["metadata"]["ownerReferences"]) == 1 and s, timeout=20,
                        message="the gone owner's reference removed")
    assert shared["metadata"]["ownerReferences"][0]["name"] == "kube-root-ca.crt"
    controlled.kubectl("delete", "crd", "gcowners.example.org")


def test_a_delete_without_a_policy_orphans_a_jobs_pods_as_batch_v1_does(controlled: Controlled, ns: str) -> None:
    controlled.kubectl("create", "job", "legacy", "-n", ns, "--image=busybox:1.36", "--", "true")
    controlled.kubectl("wait", "--for=condition=complete", "job/legacy", "-n", ns, "--timeout=30s")
    path = f"/apis/batch/v1/namespaces/{ns}/jobs/legacy"
    controlled.kubectl("delete", "--raw", path)
    wait_until(lambda: controlled.kubectl("get", "job", "legacy", "-n", ns, check=False).returncode != 0,
               timeout=20, message="job gone")
    pods = controlled.json("pods", "-n", ns, "-l", "job-name=legacy")["items"]
    assert len(pods) == 1 and "ownerReferences" not in pods[0]["metadata"]
