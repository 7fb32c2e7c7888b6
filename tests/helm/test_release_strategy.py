"""HelmRelease install/upgrade strategy and remediation, as Flux's helm-controller behaves (helm.toolkit.fluxcd.io/v2).

A chart in git whose Deployment image follows a value: the sandbox's kubelet keeps an image tagged ``fail`` in
ImagePullBackOff, so an upgrade to it never becomes ready and fails Helm's wait at its ``timeout``. Checked with real Helm (helm_python) reading the storage.
- RemediateOnFailure (default) with ``upgrade.remediation.retries: 1``: each failed upgrade is rolled back to the
  last deployed revision (``Rollback to 1``), ``status.upgradeFailures`` counts, and once retries are exhausted the
  same chart and values are not tried again; a new value starts again.
- RetryOnFailure: never rolled back; the failed revision stays and the source is requeued after ``retryInterval``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gitops_tui.helm.strategy import StrategyInvalid, strategy_of
from tests.gitserver import commit
from tests.helm.test_helm_reconcile import conditions, decode, helm_list, live_release, storage_secrets
from tests.world import CLUSTERS, World

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: tiers\nversion: 0.1.0\n",
    "values.yaml": "image: nginx:1.27\ngreeting: one\n",
    "templates/configmap.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\n"
                                 "data:\n  greeting: {{ .Values.greeting | quote }}\n"),
    "templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: 1\n"
        "  selector:\n    matchLabels:\n      app: tiers\n  template:\n    metadata:\n"
        "      labels:\n        app: tiers\n    spec:\n      containers:\n"
        "      - name: web\n        image: {{ .Values.image | quote }}\n"),
}


def release(values: dict[str, Any], **spec: Any) -> str:
    body = {"interval": "5m", "chart": {"spec": {"chart": "./charts/tiers",
                                                 "sourceRef": {"kind": "GitRepository", "name": "apps"}}},
            "values": values, **spec}
    return yaml.safe_dump({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
                           "metadata": {"name": "tiers"}, "spec": body})


def installed(world: World, spec: dict[str, Any]) -> Path:
    repo = world.repo("apps", {**{f"charts/tiers/{k}": v for k, v in CHART.items()},
                               "deploy/release.yaml": release({"greeting": "one"}, **spec)})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert helm_list(world, cluster) == [("tiers", 1, "deployed", "0.1.0")]
    return repo


def statuses(world: World, cluster: str) -> list[tuple[int, str, str]]:
    return [(r["version"], r["info"]["status"], r["info"].get("description", ""))
            for r in map(decode, storage_secrets(world, cluster, "tiers"))]


def test_a_failed_upgrade_is_rolled_back_until_its_retries_are_exhausted(world: World) -> None:
    spec = {"upgrade": {"remediation": {"retries": 1}, "timeout": "3s"}}
    repo = installed(world, spec)
    commit(repo, {"deploy/release.yaml": release({"greeting": "two", "image": "nginx:fail"}, **spec)})

    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert [s[:2] for s in statuses(world, cluster)] == [(1, "superseded"), (2, "superseded"), (3, "deployed")]
        assert statuses(world, cluster)[2][2] == "Rollback to 1", "helm rollback's own description"
        assert helm_list(world, cluster) == [("tiers", 3, "deployed", "0.1.0")]
        assert world.get(cluster, "configmaps", "tiers-greeting")["data"] == {"greeting": "one"}, "rolled back"
        live = live_release(world, cluster, "tiers")
        assert live["status"]["upgradeFailures"] == 1
        ready = conditions(live)["Ready"]
        assert (ready["status"], ready["reason"]) == ("False", "UpgradeFailed")
        assert "timed out after 3s waiting for health: Deployment" in ready["message"], ready["message"]
        assert "rolled back release" in ready["message"], ready["message"]

    world.reconcile("apps")  # the one retry: fails again, and the last failure is remediated (retries > 0)
    for cluster in CLUSTERS:
        assert helm_list(world, cluster) == [("tiers", 5, "deployed", "0.1.0")]
        assert live_release(world, cluster, "tiers")["status"]["upgradeFailures"] == 2

    world.reconcile("apps")  # exhausted: not tried again for this chart and values
    for cluster in CLUSTERS:
        assert helm_list(world, cluster) == [("tiers", 5, "deployed", "0.1.0")], "no attempt once exhausted"
    message = world.condition("apps", "Ready")["message"]
    assert "upgrade retries exhausted" in message and "change the chart or its values" in message, message

    commit(repo, {"deploy/release.yaml": release({"greeting": "three"}, **spec)})  # new values: tried again
    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert helm_list(world, cluster) == [("tiers", 6, "deployed", "0.1.0")]
        assert world.get(cluster, "configmaps", "tiers-greeting")["data"] == {"greeting": "three"}
        live = live_release(world, cluster, "tiers")
        assert live["status"]["upgradeFailures"] == 0 and conditions(live)["Ready"]["status"] == "True"


def test_retry_on_failure_keeps_the_failed_revision_and_requeues_at_its_interval(world: World) -> None:
    spec = {"upgrade": {"strategy": {"name": "RetryOnFailure", "retryInterval": "2m"}, "timeout": "3s"}}
    repo = installed(world, spec)
    commit(repo, {"deploy/release.yaml": release({"greeting": "two", "image": "nginx:fail"}, **spec)})
    result = world.reconcile("apps")
    assert result.requeue_after == 120.0, "the strategy's retryInterval"
    for cluster in CLUSTERS:
        assert [s[:2] for s in statuses(world, cluster)] == [(1, "deployed"), (2, "failed")], "no rollback"
    result = world.reconcile("apps")  # tried again however often it failed
    assert result.requeue_after == 120.0
    for cluster in CLUSTERS:
        assert [s[:2] for s in statuses(world, cluster)] == [(1, "deployed"), (2, "failed"), (3, "failed")]
        assert world.get(cluster, "deployments", "tiers")["spec"]["template"]["spec"]["containers"][0]["image"] == (
            "nginx:fail"), "left as the failed attempt applied it"


def test_a_bad_strategy_is_refused_by_name() -> None:
    bad = yaml.safe_load(release({}, upgrade={"strategy": {"name": "Hope"}}))
    try:
        strategy_of(bad, "upgrade")
    except StrategyInvalid as exc:
        assert str(exc) == ("spec.upgrade.strategy.name: Unsupported value: 'Hope': supported values: "
                            "'RemediateOnFailure', 'RetryOnFailure'")
    else:
        raise AssertionError("an unknown strategy must be refused")
    chosen = strategy_of(yaml.safe_load(release({}, timeout="90s", install={"disableWait": True})), "install")
    assert (chosen.timeout, chosen.wait, chosen.remediation, chosen.retries) == (90.0, False, "uninstall", 0)
    upgrade = strategy_of(yaml.safe_load(release({}, upgrade={"remediation": {"retries": 2}})), "upgrade")
    assert (upgrade.remediation, upgrade.remediate_last) == ("rollback", True), "Flux: true when retries > 0"


def test_a_failed_install_is_uninstalled_while_retries_remain_then_left_for_debugging(world: World) -> None:
    spec = {"install": {"remediation": {"retries": 1}, "timeout": "3s"}}
    repo = world.repo("apps", {**{f"charts/tiers/{k}": v for k, v in CHART.items()},
                               "deploy/release.yaml": release({"image": "nginx:fail"}, **spec)})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert storage_secrets(world, cluster, "tiers") == [], "remediated: uninstalled"
        assert world.get(cluster, "deployments", "tiers") is None
        live = live_release(world, cluster, "tiers")
        assert live["status"]["installFailures"] == 1
        assert "uninstalled release" in conditions(live)["Ready"]["message"]
    world.reconcile("apps")  # the retry fails too; remediateLastFailure defaults to false for installs
    for cluster in CLUSTERS:
        assert [s[:2] for s in statuses(world, cluster)] == [(1, "failed")], "kept for debugging, as Flux"
        assert live_release(world, cluster, "tiers")["status"]["installFailures"] == 2
    world.reconcile("apps")
    for cluster in CLUSTERS:
        assert [s[:2] for s in statuses(world, cluster)] == [(1, "failed")], "exhausted: no third attempt"
    assert "install retries exhausted" in world.condition("apps", "Ready")["message"]
