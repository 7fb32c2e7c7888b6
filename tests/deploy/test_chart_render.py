"""Issue 12 item 5: the chart lints and renders, with default and other values, to the narrow RBAC, probes and securityContext."""

from __future__ import annotations

import re
from typing import Any

import helm_python as helm
import pytest
import yaml

from gitops_tui.api import names
from gitops_tui.api.crds import crd_manifests
from tests.deploy.chart import CHART_DIR, NAMESPACE, RELEASE, container, one, render

#: The whole ClusterRole, rule by rule: any widening (a verb, a resource, a wildcard) fails here first.
CLUSTER_RULES = [
    ([""], ["namespaces"], ["get", "create", "delete"], None),
    (["apiextensions.k8s.io"], ["customresourcedefinitions"], ["create"], None),
    (["apiextensions.k8s.io"], ["customresourcedefinitions"], ["get", "update"], "CRDS"),
    (["gitops-tui.io"], ["projects"], ["get", "list", "watch", "update", "patch"], None),
    (["gitops-tui.io"], ["projects/status"], ["patch"], None),
    (["core.kubefed.io"], ["kubefedclusters"], ["get", "list", "watch"], None),
    (["types.kubefed.io"], ["federatedkustomizations"], ["get", "list", "watch", "create", "patch", "delete"], None),
    (["types.kubefed.io"], ["federatedsecrets"], ["get", "list", "watch", "update", "delete"], None),
    (["types.kubefed.io"], ["federatedgitrepositories"], ["get", "list", "watch", "create", "patch", "delete"], None),
    (["types.kubefed.io"], ["federatedsecrets/status", "federatedgitrepositories/status",
                            "federatedkustomizations/status"], ["patch"], None),
    ([""], ["events"], ["create", "patch"], None),
    (["gitops-tui.io"], ["alerts"], ["list"], None),
]


def _rules(role: dict[str, Any]) -> list[tuple[list[str], list[str], list[str], list[str] | None]]:
    return [(r["apiGroups"], r["resources"], r["verbs"], r.get("resourceNames")) for r in role["rules"]]


def test_lint_is_clean_with_default_and_other_values() -> None:
    for values in ({}, {"replicaCount": 3, "webhook": {"enabled": False}, "rbac": {"secretNamespaces": ["team-a"]},
                        "serviceAccount": {"create": False, "name": "ops"}}):
        report = helm.lint(str(CHART_DIR), values, strict=True, namespace=NAMESPACE)
        assert report["errors"] == [], report
        assert [m for m in report["messages"] if m["severity"] >= 2] == [], report


def test_default_render_runs_one_reconciler_with_its_service_account_probes_and_webhook_service() -> None:
    objects = render()
    deployment = one(objects, "Deployment", RELEASE)
    assert deployment["metadata"]["namespace"] == NAMESPACE
    assert deployment["spec"]["replicas"] == 1
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == RELEASE
    assert one(objects, "ServiceAccount", RELEASE)["metadata"]["namespace"] == NAMESPACE
    main = container(objects)
    assert main["image"] == "ghcr.io/gitops-tui/gitops-tui:0.1.0", "the tag defaults to the chart's appVersion"
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    assert ports == {"health": 8080, "webhook": 9292}
    assert "--health-listen=0.0.0.0:8080" in main["args"] and "--webhook-listen=0.0.0.0:9292" in main["args"]
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert main["resources"]["requests"] == {"cpu": "100m", "memory": "256Mi"}
    assert main["resources"]["limits"]["memory"] == "1Gi"
    service = one(objects, "Service")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"] == [{"name": "webhook", "port": 80, "targetPort": "webhook", "protocol": "TCP"}]
    assert set(deployment["spec"]["template"]["metadata"]["labels"]) >= set(service["spec"]["selector"])


def test_the_pod_runs_as_nobody_in_particular_on_a_read_only_root_with_no_capabilities() -> None:
    objects = render()
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container(objects)["securityContext"]
    assert context == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
                       "capabilities": {"drop": ["ALL"]}}
    mounts = {m["mountPath"]: m["name"] for m in container(objects)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert set(mounts) == {"/var/lib/gitops-tui", "/tmp"}, "the writable places are emptyDirs"
    assert all("emptyDir" in volumes[name] for name in mounts.values())
    env = {e["name"]: e["value"] for e in container(objects)["env"]}
    assert env["GITOPS_TUI_HOME"] == "/var/lib/gitops-tui" and env["HOME"] == "/tmp"
    assert "KUBECONFIG" not in env, "the Pod's ServiceAccount is the management identity"


def test_cluster_role_is_exactly_the_narrow_set_and_names_only_our_crds() -> None:
    objects = render()
    role = one(objects, "ClusterRole", RELEASE)
    crds = sorted(c["metadata"]["name"] for c in crd_manifests())
    expected = [(g, r, v, crds if n == "CRDS" else None) for g, r, v, n in CLUSTER_RULES]
    got = [(g, r, v, sorted(n) if n else None) for g, r, v, n in _rules(role)]
    assert got == expected
    every = {item for rule in role["rules"] for field in ("apiGroups", "resources", "verbs") for item in rule[field]}
    assert "*" not in every and "secrets" not in every, "no wildcard and no Secret anywhere in the cluster"
    assert not every & {"impersonate", "escalate", "bind", "rbac.authorization.k8s.io", "pods", "deployments"}
    binding = one(objects, "ClusterRoleBinding", RELEASE)
    assert binding["roleRef"]["name"] == RELEASE
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": RELEASE, "namespace": NAMESPACE}]


def test_roles_sit_in_the_namespaces_the_code_names() -> None:
    objects = render()
    leases = one(objects, "Role", f"{RELEASE}-system")
    assert leases["metadata"]["namespace"] == names.SYSTEM_NAMESPACE
    assert _rules(leases) == [(["coordination.k8s.io"], ["leases"], ["get", "list", "create", "update", "delete"], None),
                              (["gitops-tui.io"], ["journalentries"], ["list", "create", "delete"], None)]
    clusters = one(objects, "Role", f"{RELEASE}-clusters")
    assert clusters["metadata"]["namespace"] == names.FEDERATION_NAMESPACE
    assert _rules(clusters) == [([""], ["secrets"], ["get"], None),
                                (["core.kubefed.io"], ["kubefedclusters/status"], ["patch"], None)]
    for role in (leases, clusters):
        binding = one(objects, "RoleBinding", role["metadata"]["name"])
        assert binding["metadata"]["namespace"] == role["metadata"]["namespace"]
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                      "name": role["metadata"]["name"]}
    assert {k for k in objects if k[0] in ("Role", "RoleBinding")} == {
        (kind, ns, f"{RELEASE}-{part}") for kind in ("Role", "RoleBinding")
        for ns, part in ((names.SYSTEM_NAMESPACE, "system"), (names.FEDERATION_NAMESPACE, "clusters"))}


def test_namespaces_are_made_when_missing_and_kept_on_uninstall() -> None:
    made = {n: o for (k, _, n), o in render().items() if k == "Namespace"}
    assert set(made) == {names.FEDERATION_NAMESPACE}, "the release namespace is Helm's (--create-namespace)"
    assert made[names.FEDERATION_NAMESPACE]["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    elsewhere = {n for (k, _, n) in render(namespace="ops") if k == "Namespace"}
    assert elsewhere == {names.SYSTEM_NAMESPACE, names.FEDERATION_NAMESPACE}
    assert not [k for k in render({"createNamespaces": False}) if k[0] == "Namespace"]


def test_other_values_scale_drop_the_webhook_and_open_secret_namespaces() -> None:
    objects = render({"replicaCount": 3, "webhook": {"enabled": False},
                      "rbac": {"secretNamespaces": ["team-a", "team-b"]},
                      "image": {"repository": "registry.example/gitops-tui", "tag": "9.9.9"},
                      "reconciler": {"workers": 8, "leaseDuration": 30, "logLevel": "debug",
                                     "insecureKubeconfigExec": True, "extraArgs": ["--allow-local-repos", "/repos"]},
                      "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}}})
    assert one(objects, "Deployment")["spec"]["replicas"] == 3
    assert not [k for k in objects if k[0] == "Service"]
    main = container(objects)
    assert main["image"] == "registry.example/gitops-tui:9.9.9"
    assert [p["name"] for p in main["ports"]] == ["health"]
    assert main["args"] == ["--health-listen=0.0.0.0:8080", "--workers=8", "--lease-duration=30", "--log-level=debug",
                            "--insecure-kubeconfig-exec", "--allow-local-repos", "/repos"]
    assert main["resources"] == {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    for ns in ("team-a", "team-b"):
        role = objects[("Role", ns, f"{RELEASE}-secrets")]
        assert _rules(role) == [([""], ["secrets"], ["get"], None)]
        assert objects[("RoleBinding", ns, f"{RELEASE}-secrets")]["subjects"][0]["name"] == RELEASE


def test_an_existing_service_account_is_used_and_required_by_name() -> None:
    objects = render({"serviceAccount": {"create": False, "name": "ops-reconciler"}})
    assert not [k for k in objects if k[0] == "ServiceAccount"]
    assert one(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "ops-reconciler"
    assert one(objects, "ClusterRoleBinding")["subjects"][0]["name"] == "ops-reconciler"
    with pytest.raises(helm.HelmError, match="serviceAccount.name is required when serviceAccount.create is false"):
        render({"serviceAccount": {"create": False}})


def test_rbac_off_renders_no_role_at_all() -> None:
    objects = render({"rbac": {"create": False}})
    assert not [k for k in objects if k[0] in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")]
    assert one(objects, "Deployment")


def _leaves(values: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in values.items():
        path = f"{prefix}{key}"
        out |= _leaves(value, f"{path}.") if isinstance(value, dict) and value else {path}
    return out


def test_the_readme_documents_every_value_and_no_value_that_does_not_exist() -> None:
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    documented = set(re.findall(r"^\| `([\w.]+)` \|", (CHART_DIR / "README.md").read_text(), re.MULTILINE))
    undocumented = {leaf for leaf in _leaves(values)
                    if not any(leaf == key or leaf.startswith(key + ".") for key in documented)}
    assert undocumented == set()
    everything = _leaves(values) | {p for leaf in _leaves(values) for p in _prefixes(leaf)}
    assert documented - everything == set(), "documented values that values.yaml does not have"


def _prefixes(path: str) -> set[str]:
    parts = path.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}
