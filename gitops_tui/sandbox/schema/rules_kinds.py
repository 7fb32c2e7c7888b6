"""Per-kind rules of kube-apiserver (workload selectors, Services, ConfigMaps, Secrets, Jobs), as 422 causes."""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any

from gitops_tui.sandbox.schema import causes as c
from gitops_tui.sandbox.schema.names import label_map_errors
from gitops_tui.sandbox.schema.rules_pods import (
    PROTOCOLS,
    label_errors,
    pod_spec_errors,
    port_number_errors,
    port_or_name_errors,
)
from gitops_tui.util.fields import dict_field

MAX_DATA_SIZE = 1024 * 1024  # core.MaxSecretSize, shared by ConfigMaps and Secrets
_CONFIG_KEY_RE = "[-._a-zA-Z0-9]+"
_CONFIG_KEY = re.compile(f"^{_CONFIG_KEY_RE}$")
CONFIG_KEY_MSG = ("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  "
                  f"or 'KEY_NAME',  or 'key-name', regex used for validation is '{_CONFIG_KEY_RE}')")
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def go_selector(selector: Any) -> str:
    """A LabelSelector as Go's %#v prints it in field errors."""
    if not isinstance(selector, dict):
        return "null"
    labels = selector.get("matchLabels")
    labels_text = "map[string]string(nil)" if labels is None else c.go_repr(labels)
    exprs = selector.get("matchExpressions")
    if not exprs:
        exprs_text = "[]v1.LabelSelectorRequirement(nil)"
    else:
        items = ", ".join(
            f'v1.LabelSelectorRequirement{{Key:{json.dumps(e.get("key", ""))}, '
            f'Operator:{json.dumps(e.get("operator", ""))}, Values:{c.go_repr(e.get("values") or [])}}}'
            for e in exprs if isinstance(e, dict))
        exprs_text = "[]v1.LabelSelectorRequirement{" + items + "}"
    return f"v1.LabelSelector{{MatchLabels:{labels_text}, MatchExpressions:{exprs_text}}}"


def selector_matches(selector: dict, labels: dict) -> bool:
    """Whether a LabelSelector selects ``labels`` (an empty selector selects everything)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in labels
        if (op == "In" and not (present and labels[key] in values)
                or op == "NotIn" and present and labels[key] in values
                or op == "Exists" and not present or op == "DoesNotExist" and present):
            return False
    return True


def _selector_errors(selector: Any, field: str) -> list[dict]:
    out = label_map_errors(selector.get("matchLabels"), f"{field}.matchLabels")
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        if not isinstance(expr, dict):
            continue
        op = expr.get("operator")
        where = f"{field}.matchExpressions[{i}]"
        if op not in _OPERATORS:
            out.append(c.invalid(f"{where}.operator", op, "not a valid selector operator"))
        elif op in ("In", "NotIn") and not expr.get("values"):
            out.append(c.required(f"{where}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist") and expr.get("values"):
            out.append(c.forbidden(f"{where}.values", "may not be specified when `operator` is 'Exists' or "
                                                        "'DoesNotExist'"))
    return out


def _template_errors(spec: dict) -> list[dict]:
    """ValidatePodTemplateSpecForReplicaSet-like rules: template present, labels selected, restart policy."""
    template = spec.get("template")
    if not isinstance(template, dict):
        return [c.required("spec.template")]
    out: list[dict] = []
    labels = (template.get("metadata") or {}).get("labels") or {}
    out += label_map_errors(labels, "spec.template.metadata.labels")
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not selector_matches(selector, labels):
        out.append(c.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"))
    tspec = template.get("spec")
    out += pod_spec_errors(tspec, "spec.template.spec")
    policy = tspec.get("restartPolicy") if isinstance(tspec, dict) else None
    if policy is not None and policy != "Always":
        out.append(c.not_supported("spec.template.spec.restartPolicy", policy, ("Always",)))
    return out


def _non_negative(spec: dict, key: str) -> list[dict]:
    value = spec.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [c.invalid(f"spec.{key}", value, "must be greater than or equal to 0")]
    return []


def workload_errors(obj: dict, what: str) -> list[dict]:
    """Deployments, ReplicaSets, StatefulSets, DaemonSets: selector required, non-empty, matching."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [c.required("spec.selector"), c.required("spec.template")]
    out: list[dict] = []
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        out.append(c.required("spec.selector"))
    else:
        out += _selector_errors(selector, "spec.selector")
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            out.append({"reason": "FieldValueInvalid", "field": "spec.selector",
                        "message": f"Invalid value: {go_selector(selector)}: empty selector is invalid for {what}"})
    for key in ("replicas", "minReadySeconds", "revisionHistoryLimit"):
        out += _non_negative(spec, key)
    out += _template_errors(spec)
    strategy = spec.get("strategy") if what == "deployment" else None
    if isinstance(strategy, dict) and strategy.get("type") not in (None, "Recreate", "RollingUpdate"):
        out.append(c.not_supported("spec.strategy.type", strategy["type"], ("Recreate", "RollingUpdate")))
    elif isinstance(strategy, dict) and strategy.get("type") == "Recreate" and strategy.get("rollingUpdate"):
        out.append(c.forbidden("spec.strategy.rollingUpdate", "may not be specified when strategy `type` is "
                                                                "'Recreate'"))
    return out


def job_errors(obj: dict) -> list[dict]:
    """Jobs: the generated selector matches the template; restartPolicy OnFailure or Never."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return [c.required("spec.template")]
    out: list[dict] = []
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit"):
        out += _non_negative(spec, key)
    template = spec.get("template")
    tspec = template.get("spec") if isinstance(template, dict) else None
    policy = (tspec.get("restartPolicy") if isinstance(tspec, dict) else None) or "Always"  # the pod default
    if policy not in ("OnFailure", "Never"):
        out.append(c.not_supported("spec.template.spec.restartPolicy", policy, ("OnFailure", "Never")))
    out += pod_spec_errors(tspec, "spec.template.spec")
    selector = spec.get("selector")
    labels = ((template if isinstance(template, dict) else {}).get("metadata") or {}).get("labels") or {}
    if isinstance(selector, dict) and not selector_matches(selector, labels):
        out.append(c.invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"))
    return out


def cronjob_errors(obj: dict) -> list[dict]:
    """CronJobs: a schedule and a job template whose pods restart OnFailure or Never."""
    spec = dict_field(obj, "spec")
    out: list[dict] = []
    schedule = spec.get("schedule")
    if not schedule:
        out.append(c.required("spec.schedule"))
    elif isinstance(schedule, str):
        out += _schedule_errors(schedule)
    policy = spec.get("concurrencyPolicy")
    if policy is not None and policy not in ("Allow", "Forbid", "Replace"):
        out.append(c.not_supported("spec.concurrencyPolicy", policy, ("Allow", "Forbid", "Replace")))
    job_spec = ((spec.get("jobTemplate") or {}).get("spec") or {})
    tspec = (job_spec.get("template") or {}).get("spec")
    restart = (tspec.get("restartPolicy") if isinstance(tspec, dict) else None) or "Always"  # the pod default
    if restart not in ("OnFailure", "Never"):
        out.append(c.not_supported("spec.jobTemplate.spec.template.spec.restartPolicy", restart,
                                   ("OnFailure", "Never")))
    out += pod_spec_errors(tspec, "spec.jobTemplate.spec.template.spec")
    return out


_CRON_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def _schedule_errors(schedule: str) -> list[dict]:
    """robfig/cron's standard parser: five fields or a descriptor; time zones belong in spec.timeZone."""
    if "TZ" in schedule:
        return [c.invalid("spec.schedule", schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field "
                                                     "instead")]
    if schedule.startswith("@"):
        if schedule in _CRON_DESCRIPTORS or schedule.startswith("@every "):
            return []
        return [c.invalid("spec.schedule", schedule, f"unrecognized descriptor: {schedule}")]
    fields = schedule.split()
    if len(fields) != 5:
        return [c.invalid("spec.schedule", schedule,
                          f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")]
    return []


def ingress_errors(obj: dict) -> list[dict]:
    """Ingresses: every HTTP path has a pathType, and Exact and Prefix paths are absolute."""
    spec = dict_field(obj, "spec")
    out: list[dict] = []
    for i, rule in enumerate(spec.get("rules") or []):
        paths = ((rule or {}).get("http") or {}).get("paths") or [] if isinstance(rule, dict) else []
        for j, item in enumerate(paths):
            if not isinstance(item, dict):
                continue
            where = f"spec.rules[{i}].http.paths[{j}]"
            kind = item.get("pathType")
            if not kind:
                out.append(c.required(f"{where}.pathType", "pathType must be specified"))
            elif kind not in ("Exact", "ImplementationSpecific", "Prefix"):
                out.append(c.not_supported(f"{where}.pathType", kind, ("Exact", "ImplementationSpecific", "Prefix")))
            elif kind != "ImplementationSpecific" and not str(item.get("path", "")).startswith("/"):
                out.append(c.invalid(f"{where}.path", item.get("path", ""), "must be an absolute path"))
    return out


def _rules_errors(obj: dict) -> list[dict]:
    """Roles and ClusterRoles: every rule names verbs."""
    out: list[dict] = []
    for i, rule in enumerate(obj.get("rules") or []):
        if isinstance(rule, dict) and not rule.get("verbs"):
            out.append(c.required(f"rules[{i}].verbs", "verbs must contain at least one value"))
    return out


def _binding_errors(obj: dict) -> list[dict]:
    """RoleBindings and ClusterRoleBindings: a roleRef to a Role or ClusterRole of the RBAC group."""
    ref = dict_field(obj, "roleRef")
    out: list[dict] = []
    if ref.get("apiGroup") != "rbac.authorization.k8s.io":
        out.append(c.not_supported("roleRef.apiGroup", ref.get("apiGroup", ""), ("rbac.authorization.k8s.io",)))
    allowed = ("ClusterRole",) if obj.get("kind") == "ClusterRoleBinding" else ("ClusterRole", "Role")
    if ref.get("kind") not in allowed:
        out.append(c.not_supported("roleRef.kind", ref.get("kind", ""), allowed))
    if not ref.get("name"):
        out.append(c.required("roleRef.name"))
    return out


def pod_errors(obj: dict) -> list[dict]:
    """Pods: the pod spec rules, images required."""
    return pod_spec_errors(obj.get("spec"), "spec", pod=True)


def service_errors(obj: dict) -> list[dict]:
    """Services: type, ports (range, names, protocols), cluster IPs, selector labels."""
    spec = dict_field(obj, "spec")
    out: list[dict] = []
    kind = spec.get("type", "ClusterIP")
    if kind not in SERVICE_TYPES:
        out.append(c.not_supported("spec.type", kind, SERVICE_TYPES))
    headless = spec.get("clusterIP") == "None"
    ports = spec.get("ports") or []
    if kind == "ExternalName":
        if not spec.get("externalName"):
            out.append(c.required("spec.externalName"))
    elif not ports and not headless:
        out.append(c.required("spec.ports"))
    names: set[str] = set()
    for i, port in enumerate(ports):
        if not isinstance(port, dict):
            continue
        where = f"spec.ports[{i}]"
        name = port.get("name") or ""
        if len(ports) > 1 and not name:
            out.append(c.required(f"{where}.name"))
        elif name:
            out += label_errors(name, f"{where}.name")
            if name in names:
                out.append(c.duplicate(f"{where}.name", name))
            names.add(name)
        out += port_number_errors(port.get("port", 0), f"{where}.port")
        protocol = port.get("protocol")
        if protocol is not None and protocol not in PROTOCOLS:
            out.append(c.not_supported(f"{where}.protocol", protocol, PROTOCOLS))
        if "targetPort" in port:
            out += port_or_name_errors(port["targetPort"], f"{where}.targetPort")
        node_port = port.get("nodePort")
        if node_port not in (None, 0) and not (isinstance(node_port, int) and 30000 <= node_port <= 32767):
            out.append(c.invalid(f"{where}.nodePort", node_port, "provided port is not in the valid range. "
                                                                   "The range of valid ports is 30000-32767"))
    for i, address in enumerate(spec.get("clusterIPs") or []):
        if address != "None" and not _is_ip(address):
            out.append(c.invalid(f"spec.clusterIPs[{i}]", address, "must be a valid IP address, (e.g. 10.9.8.7 "
                                                                   "or 2001:db8::ffff)"))
    affinity = spec.get("sessionAffinity")
    if affinity is not None and affinity not in ("ClientIP", "None"):
        out.append(c.not_supported("spec.sessionAffinity", affinity, ("ClientIP", "None")))
    out += label_map_errors(spec.get("selector"), "spec.selector")
    return out


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(str(value))
        return True
    except ValueError:
        return False


def _key_errors(data: Any, field: str) -> list[dict]:
    out: list[dict] = []
    for key in data if isinstance(data, dict) else ():
        where = f"{field}[{key}]"
        if len(key) > 253:
            out.append(c.invalid(where, key, "must be no more than 253 characters"))
        if not _CONFIG_KEY.match(key):
            out.append(c.invalid(where, key, CONFIG_KEY_MSG))
    return out


def configmap_errors(obj: dict) -> list[dict]:
    """ConfigMaps: valid keys, no key in both data and binaryData, at most 1 MiB of data."""
    data = dict_field(obj, "data")
    binary = dict_field(obj, "binaryData")
    out = _key_errors(data, "data") + _key_errors(binary, "binaryData")
    for key in data:
        if key in binary:
            out.append(c.invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
    size = sum(len(k) + len(str(v).encode()) for k, v in data.items())
    size += sum(len(k) + len(_decoded(v)) for k, v in binary.items())
    if size > MAX_DATA_SIZE:
        out.append(c.too_long("[]", MAX_DATA_SIZE))
    return out


def _decoded(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value))
    except ValueError:
        return str(value).encode()


_SECRET_KEYS = {"kubernetes.io/tls": ("tls.crt", "tls.key"), "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
                "kubernetes.io/dockercfg": (".dockercfg",), "kubernetes.io/ssh-auth": ("ssh-privatekey",)}


def secret_errors(obj: dict) -> list[dict]:
    """Secrets: valid keys, the keys their type requires, at most 1 MiB of data."""
    data = dict_field(obj, "data")
    out = _key_errors(data, "data")
    for key in _SECRET_KEYS.get(obj.get("type") or "", ()):
        if key not in data:
            out.append(c.required(f"data[{key}]"))
    if sum(len(_decoded(v)) for v in data.values()) > MAX_DATA_SIZE:
        out.append(c.too_long("data", MAX_DATA_SIZE))
    return out


KIND_RULES: dict[tuple[str, str], Callable[[dict], list[dict]]] = {
    ("apps", "Deployment"): lambda o: workload_errors(o, "deployment"),
    ("apps", "ReplicaSet"): lambda o: workload_errors(o, "replicaset"),
    ("apps", "StatefulSet"): lambda o: workload_errors(o, "statefulset"),
    ("apps", "DaemonSet"): lambda o: workload_errors(o, "daemonset"),
    ("batch", "Job"): job_errors,
    ("batch", "CronJob"): cronjob_errors,
    ("", "Pod"): pod_errors,
    ("", "Service"): service_errors,
    ("", "ConfigMap"): configmap_errors,
    ("", "Secret"): secret_errors,
    ("networking.k8s.io", "Ingress"): ingress_errors,
    ("rbac.authorization.k8s.io", "Role"): _rules_errors,
    ("rbac.authorization.k8s.io", "ClusterRole"): _rules_errors,
    ("rbac.authorization.k8s.io", "RoleBinding"): _binding_errors,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _binding_errors,
}
