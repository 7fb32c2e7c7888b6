"""Pod and pod-template defaults as kube-apiserver v1.32 sets them (core/v1 defaults.go and its admission).

The values follow kubernetes `pkg/apis/core/v1/defaults.go` (SetDefaults_PodSpec, _Pod, _Container,
_Probe, the volume sources) and `zz_generated.defaults.go` (container port protocol, `+default` markers);
a Pod also gets what the default admission plugins add: ServiceAccount (the account and its
`kube-api-access-*` projected volume), DefaultTolerationSeconds and Priority
(`plugin/pkg/admission/*`), and its QoS class (`pkg/apis/core/v1/helper/qos`).
"""

from __future__ import annotations

import random
from typing import Any

from gitops_tui.sandbox.schema.quantity import parse_quantity
from gitops_tui.util.fields import list_field

_SAFE = "bcdfghjklmnpqrstvwxz2456789"
TOKEN_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
_DEFAULT_MODE = 420  # 0644, as SecretVolumeSourceDefaultMode and its siblings
_TOLERATED = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def image_pull_policy(image: str) -> str:
    """Always for an image tagged `latest` (or untagged, which means latest), else IfNotPresent."""
    ref = image.split("@", 1)[0]
    if "@" in image and ":" not in ref.rsplit("/", 1)[-1]:
        return "IfNotPresent"  # a digest without a tag: parsers.ParseImageName gives no tag
    last = ref.rsplit("/", 1)[-1]
    tag = last.rsplit(":", 1)[1] if ":" in last else "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    for key, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1),
                       ("failureThreshold", 3)):
        if not probe.get(key):
            probe[key] = value
    http = probe.get("httpGet")
    if isinstance(http, dict):
        if not http.get("path"):
            http["path"] = "/"
        if not http.get("scheme"):
            http["scheme"] = "HTTP"


def container_defaults(container: dict[str, Any]) -> None:
    """SetDefaults_Container: pull policy by tag, termination message path and policy, port protocols, probes."""
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = image_pull_policy(str(container.get("image") or ""))
    if not container.get("terminationMessagePath"):
        container["terminationMessagePath"] = "/dev/termination-log"
    if not container.get("terminationMessagePolicy"):
        container["terminationMessagePolicy"] = "File"
    container.setdefault("resources", {})  # an empty struct, which Go always writes
    for port in _dicts(container.get("ports")):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        _probe(container.get(key))
    for env in _dicts(container.get("env")):
        field_ref = (env.get("valueFrom") or {}).get("fieldRef") if isinstance(env.get("valueFrom"), dict) else None
        if isinstance(field_ref, dict) and not field_ref.get("apiVersion"):
            field_ref["apiVersion"] = "v1"


def _volume_defaults(volume: dict[str, Any]) -> None:
    sources = [k for k in volume if k != "name"]
    if not sources:
        volume["emptyDir"] = {}
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        source = volume.get(key)
        if isinstance(source, dict) and source.get("defaultMode") is None:
            source["defaultMode"] = _DEFAULT_MODE
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict) and host_path.get("type") is None:
        host_path["type"] = ""
    projected = volume.get("projected")
    if isinstance(projected, dict):
        for source in _dicts(projected.get("sources")):
            token = source.get("serviceAccountToken")
            if isinstance(token, dict) and token.get("expirationSeconds") is None:
                token["expirationSeconds"] = 3600


def pod_spec_defaults(spec: dict[str, Any]) -> None:
    """SetDefaults_PodSpec and what it reaches: containers, init containers, volumes (templates and Pods)."""
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    if not spec.get("schedulerName"):
        spec["schedulerName"] = "default-scheduler"
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in _dicts(spec.get(key)):
            container_defaults(container)
    for volume in _dicts(spec.get("volumes")):
        _volume_defaults(volume)


def template_defaults(template: Any) -> None:
    """Defaults of a PodTemplateSpec's pod spec (Deployments, ReplicaSets, Jobs and the others)."""
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        pod_spec_defaults(template["spec"])


def _requests_from_limits(spec: dict[str, Any]) -> None:
    for key in ("initContainers", "containers"):
        for container in _dicts(spec.get(key)):
            resources = container.get("resources")
            if not isinstance(resources, dict) or not isinstance(resources.get("limits"), dict):
                continue
            requests = resources.setdefault("requests", {})
            if isinstance(requests, dict):
                for name, value in resources["limits"].items():
                    requests.setdefault(name, value)


def pod_defaults(spec: dict[str, Any]) -> None:
    """SetDefaults_Pod on top of the pod spec: requests from limits, enableServiceLinks."""
    pod_spec_defaults(spec)
    _requests_from_limits(spec)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork"):
        for key in ("initContainers", "containers"):
            for container in _dicts(spec.get(key)):
                for port in _dicts(container.get("ports")):
                    if not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")


def pod_admission(spec: dict[str, Any], account: dict[str, Any] | None) -> None:
    """What the default admission plugins add to a new Pod: service account and its token volume,
    not-ready / unreachable tolerations of 300 s, priority 0."""
    name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = spec["serviceAccount"] = name
    automount = spec.get("automountServiceAccountToken")
    if automount is None and account is not None:
        automount = account.get("automountServiceAccountToken")
    if automount is not False and not _mounts_token(spec):
        _add_token_volume(spec)
    tolerations = list_field(spec, "tolerations")
    for key in _TOLERATED:
        if not any(isinstance(t, dict) and (t.get("key") == key or (not t.get("key") and t.get("operator") == "Exists"))
                   and t.get("effect") in (None, "", "NoExecute") for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": 300})
    spec["tolerations"] = tolerations
    if spec.get("priority") is None and not spec.get("priorityClassName"):
        spec["priority"] = 0
    if spec.get("preemptionPolicy") is None:
        spec["preemptionPolicy"] = "PreemptLowerPriority"


def _mounts_token(spec: dict[str, Any]) -> bool:
    containers = _dicts(spec.get("containers")) + _dicts(spec.get("initContainers"))
    return any(m.get("mountPath") == TOKEN_MOUNT for c in containers for m in _dicts(c.get("volumeMounts")))


def _add_token_volume(spec: dict[str, Any]) -> None:
    volume_name = "kube-api-access-" + "".join(random.choices(_SAFE, k=5))
    spec.setdefault("volumes", []).append({"name": volume_name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
    ]}})
    for key in ("initContainers", "containers"):
        for container in _dicts(spec.get(key)):
            container.setdefault("volumeMounts", []).append(
                {"name": volume_name, "readOnly": True, "mountPath": TOKEN_MOUNT})


def _amounts(resources: Any, kind: str) -> dict[str, Any]:
    value = resources.get(kind) if isinstance(resources, dict) else None
    return value if isinstance(value, dict) else {}


def qos_class(spec: dict[str, Any]) -> str:
    """Guaranteed, Burstable or BestEffort, as kube's qos.GetPodQOS computes it from cpu and memory."""
    containers = _dicts(spec.get("containers")) + _dicts(spec.get("initContainers"))
    requests: dict[str, float] = {}
    limits: dict[str, float] = {}
    all_limited = True
    for container in containers:
        resources = container.get("resources")
        for name, value in _amounts(resources, "requests").items():
            if name in ("cpu", "memory") and _positive(value):
                requests[name] = requests.get(name, 0) + _positive(value)
        limited = set()
        for name, value in _amounts(resources, "limits").items():
            if name in ("cpu", "memory") and _positive(value):
                limited.add(name)
                limits[name] = limits.get(name, 0) + _positive(value)
        if limited != {"cpu", "memory"}:
            all_limited = False
    if not requests and not limits:
        return "BestEffort"
    if all_limited and set(limits) == {"cpu", "memory"} and all(requests.get(k) == limits[k] for k in limits):
        return "Guaranteed"
    return "Burstable"


def _positive(value: Any) -> float:
    amount = parse_quantity(value)
    return float(amount) if amount is not None and amount > 0 else 0.0
