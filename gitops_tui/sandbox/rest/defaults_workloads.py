"""Defaults kube-apiserver gives workload and policy kinds: selectors, strategies, Job and CronJob fields, HPA.

Sources (kubernetes v1.32): `pkg/apis/apps/v1/defaults.go`, `pkg/apis/batch/v1/defaults.go`,
`pkg/apis/autoscaling/v2/defaults.go`, `pkg/apis/networking/v1/defaults.go`,
`pkg/apis/discovery/v1/defaults.go`, `pkg/apis/core/v1/defaults.go` and their `zz_generated.defaults.go`.
"""

from __future__ import annotations

from typing import Any

from gitops_tui.util.fields import list_field

JOB_UID_LABEL = "batch.kubernetes.io/controller-uid"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"


def _template_labels(spec: dict[str, Any]) -> dict[str, Any] | None:
    template = spec.get("template")
    if not isinstance(template, dict):
        return None
    metadata = template.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        return None
    labels = metadata.setdefault("labels", {})
    return labels if isinstance(labels, dict) else None


def replication_controller_defaults(spec: dict[str, Any]) -> None:
    """An RC without a selector selects its template's labels; one without template labels gets the selector's."""
    labels = _template_labels(spec)
    if labels is None:
        return
    if not spec.get("selector") and labels:
        spec["selector"] = dict(labels)
    elif isinstance(spec.get("selector"), dict) and not labels:
        labels.update(spec["selector"])


def job_counts(spec: dict[str, Any]) -> None:
    """SetDefaults_Job: completions and parallelism 1 when both are unset, backoffLimit 6, NonIndexed, not
    suspended, and (JobPodReplacementPolicy, beta and on in 1.32) pods replaced once Failed or Terminating."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 6
    if spec.get("completionMode") is None:
        spec["completionMode"] = "NonIndexed"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed"


def job_defaults(spec: dict[str, Any], uid: str, name: str) -> None:
    """Counts, and unless `manualSelector`, the generated controller-uid selector and template labels."""
    job_counts(spec)
    if spec.get("manualSelector") or not uid:
        return
    labels = _template_labels(spec)
    if labels is None:
        return
    labels.update({"controller-uid": uid, JOB_UID_LABEL: uid, "job-name": name, JOB_NAME_LABEL: name})
    spec["selector"] = {"matchLabels": {JOB_UID_LABEL: uid}}


def statefulset_defaults(spec: dict[str, Any]) -> None:
    """Pod management and update strategy, as apps/v1 defaults them."""
    spec.setdefault("podManagementPolicy", "OrderedReady")
    retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
    if isinstance(retention, dict):
        for key in ("whenDeleted", "whenScaled"):
            if not retention.get(key):
                retention[key] = "Retain"
    for claim in spec.get("volumeClaimTemplates") or []:
        if isinstance(claim, dict):  # a claim template is defaulted as a claim, status phase included
            if isinstance(claim.get("spec"), dict):
                volume_mode_default(claim["spec"])
            claim.setdefault("status", {}).setdefault("phase", "Pending")
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if isinstance(strategy, dict) and strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        strategy.setdefault("rollingUpdate", {"partition": 0})


def daemonset_defaults(spec: dict[str, Any]) -> None:
    """History limit and update strategy, as apps/v1 defaults them."""
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if isinstance(strategy, dict) and strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        fill_rolling_update(strategy, {"maxUnavailable": 1, "maxSurge": 0})


def fill_rolling_update(strategy: dict[str, Any], defaults: dict[str, Any]) -> None:
    """A RollingUpdate strategy's parameters, each one left unset given its default."""
    rolling = strategy.setdefault("rollingUpdate", {})
    if isinstance(rolling, dict):
        for key, value in defaults.items():
            if rolling.get(key) is None:
                rolling[key] = value


def cronjob_defaults(spec: dict[str, Any]) -> None:
    """SetDefaults_CronJob: Allow, not suspended, 3 successful and 1 failed Job kept."""
    if not spec.get("concurrencyPolicy"):
        spec["concurrencyPolicy"] = "Allow"
    for key, value in (("suspend", False), ("successfulJobsHistoryLimit", 3), ("failedJobsHistoryLimit", 1)):
        if spec.get(key) is None:
            spec[key] = value


def _scaling_rules(given: Any, up: bool) -> dict[str, Any]:
    rules: dict[str, Any] = {"selectPolicy": "Max"}
    if up:
        rules["stabilizationWindowSeconds"] = 0
        rules["policies"] = [{"type": "Pods", "value": 4, "periodSeconds": 15},
                             {"type": "Percent", "value": 100, "periodSeconds": 15}]
    else:  # the scale-down window stays unset: the controller's --horizontal-pod-autoscaler-downscale-stabilization
        rules["policies"] = [{"type": "Percent", "value": 100, "periodSeconds": 15}]
    if isinstance(given, dict):
        for key in ("selectPolicy", "stabilizationWindowSeconds", "policies"):
            if given.get(key) is not None:
                rules[key] = given[key]
    return rules


def autoscaler_defaults(spec: dict[str, Any], version: str) -> None:
    """minReplicas 1; for autoscaling/v2 a CPU target of 80% when no metric is given, and a given
    `behavior` completed with the default scale-up and scale-down rules."""
    if spec.get("minReplicas") is None:
        spec["minReplicas"] = 1
    if version != "v2":
        return
    if not spec.get("metrics"):
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):
        behavior["scaleUp"] = _scaling_rules(behavior.get("scaleUp"), up=True)
        behavior["scaleDown"] = _scaling_rules(behavior.get("scaleDown"), up=False)


def network_policy_defaults(spec: dict[str, Any]) -> None:
    """SetDefaults_NetworkPolicy: policyTypes Ingress (and Egress when egress rules are given); ports TCP."""
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
    for direction in ("ingress", "egress"):
        for rule in spec.get(direction) or []:
            for port in (rule.get("ports") or []) if isinstance(rule, dict) else []:
                if isinstance(port, dict) and not port.get("protocol"):
                    port["protocol"] = "TCP"


def volume_mode_default(spec: dict[str, Any]) -> None:
    """SetDefaults_PersistentVolumeClaimSpec and _PersistentVolume: volumeMode Filesystem."""
    if spec.get("volumeMode") is None:
        spec["volumeMode"] = "Filesystem"


def persistent_volume_defaults(spec: dict[str, Any]) -> None:
    """SetDefaults_PersistentVolume: Retain, Filesystem."""
    if not spec.get("persistentVolumeReclaimPolicy"):
        spec["persistentVolumeReclaimPolicy"] = "Retain"
    volume_mode_default(spec)
    host_path = spec.get("hostPath")
    if isinstance(host_path, dict) and host_path.get("type") is None:
        host_path["type"] = ""


def endpoint_ports(obj: dict[str, Any], slices: bool) -> None:
    """SetDefaults_Endpoints (subset ports TCP) and discovery/v1 SetDefaults_EndpointPort (name "", TCP)."""
    if slices:
        ports = list_field(obj, "ports")
    else:
        ports = [p for s in obj.get("subsets") or [] if isinstance(s, dict) for p in s.get("ports") or []]
    for port in ports:
        if not isinstance(port, dict):
            continue
        if slices and port.get("name") is None:
            port["name"] = ""
        if not port.get("protocol"):
            port["protocol"] = "TCP"


def limit_range_defaults(spec: dict[str, Any]) -> None:
    """SetDefaults_LimitRangeItem: a Container item's default from max, defaultRequest from default, then min."""
    for item in spec.get("limits") or []:
        if not isinstance(item, dict) or item.get("type") != "Container":
            continue
        default = item.setdefault("default", {})
        request = item.setdefault("defaultRequest", {})
        for source, target in ((item.get("max"), default), (default, request), (item.get("min"), request)):
            for name, value in (source or {}).items():
                target.setdefault(name, value)
        for key in ("default", "defaultRequest"):
            if not item[key]:
                del item[key]
