"""Namespace defaults and Service status with real kubectl, as a real control plane gives them."""

from __future__ import annotations

import json

from tests.sandbox.controlled import Controlled, controlled, ns  # noqa: F401 - fixtures
from tests.waiting import wait_until


def _root_ca(c: Controlled, namespace: str) -> dict | None:
    found = c.kubectl("get", "configmap", "kube-root-ca.crt", "-n", namespace, "-o", "json", check=False)
    return json.loads(found.stdout) if found.returncode == 0 else None


def test_a_new_namespace_gets_the_default_service_account_and_the_root_ca(controlled: Controlled, ns: str) -> None:
    wait_until(lambda: controlled.kubectl("get", "serviceaccount", "default", "-n", ns, check=False).returncode == 0,
               timeout=20, message="default ServiceAccount")
    ca = wait_until(lambda: _root_ca(controlled, ns), timeout=20, message="kube-root-ca.crt")
    assert ca["data"] == {"ca.crt": controlled.server.tls.ca_cert.read_text()}
    assert ca["data"]["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
    for builtin in ("default", "kube-system", "kube-public", "kube-node-lease"):
        wait_until(lambda builtin=builtin: _root_ca(controlled, builtin), timeout=20, message=f"kube-root-ca.crt in {builtin}")


def test_the_defaults_come_back_when_removed_or_edited(controlled: Controlled, ns: str) -> None:
    wait_until(lambda: _root_ca(controlled, ns), timeout=20, message="kube-root-ca.crt")
    controlled.kubectl("delete", "serviceaccount", "default", "-n", ns)
    wait_until(lambda: controlled.kubectl("get", "sa", "default", "-n", ns, check=False).returncode == 0,
               timeout=20, message="default ServiceAccount back")
    controlled.kubectl("patch", "configmap", "kube-root-ca.crt", "-n", ns, "--type=merge", "-p",
                       json.dumps({"data": {"ca.crt": "forged", "extra": "x"}}))
    restored = wait_until(lambda: (c := _root_ca(controlled, ns)) and c["data"].get("ca.crt", "").startswith("-----")
                          and c, timeout=20, message="CA bundle restored")
    assert set(restored["data"]) == {"ca.crt"}
    controlled.kubectl("delete", "configmap", "kube-root-ca.crt", "-n", ns)
    wait_until(lambda: _root_ca(controlled, ns), timeout=20, message="kube-root-ca.crt recreated")


def test_services_get_a_status_and_load_balancers_an_address(controlled: Controlled, ns: str) -> None:
    controlled.kubectl("create", "service", "clusterip", "internal", "-n", ns, "--tcp=80:8080")
    controlled.kubectl("create", "service", "loadbalancer", "public", "-n", ns, "--tcp=443:8443")
    internal = wait_until(lambda: "status" in (s := controlled.json("service", "internal", "-n", ns)) and s,
                          timeout=20, message="internal status")
    assert internal["status"] == {"loadBalancer": {}}
    public = wait_until(lambda: (s := controlled.json("service", "public", "-n", ns)).get("status", {})
                        .get("loadBalancer", {}).get("ingress") and s, timeout=20, message="public address")
    address = public["status"]["loadBalancer"]["ingress"][0]["ip"]
    assert address.startswith("172.18.255.")
    row = controlled.kubectl("get", "service", "public", "-n", ns).stdout.splitlines()[1].split()
    assert row[1] == "LoadBalancer" and row[3] == address
