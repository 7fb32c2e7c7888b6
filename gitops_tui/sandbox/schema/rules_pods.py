"""Pod spec rules of kube-apiserver (pkg/apis/core/validation) that operators hit most, as 422 causes."""

from __future__ import annotations

import re
from typing import Any

from gitops_tui.sandbox.schema import causes as c
from gitops_tui.sandbox.schema.names import LABEL, LABEL_MSG, dns_errors
from gitops_tui.sandbox.schema.quantity import parse_quantity
from gitops_tui.util.fields import dict_field

_ENV_NAME = "[-._a-zA-Z][-._a-zA-Z0-9]*"
_ENV = re.compile(f"^{_ENV_NAME}$")
ENV_MSG = ("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', "
           "and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used "
           f"for validation is '{_ENV_NAME}')")
PORT_RANGE_MSG = "must be between 1 and 65535, inclusive"
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
PROTOCOLS = ("SCTP", "TCP", "UDP")
RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
_STANDARD_RESOURCES = ("cpu", "memory", "ephemeral-storage")


def label_errors(name: str, field: str) -> list[dict]:
    """A DNS-1123 label check (names of containers, volumes, ports of Services)."""
    return [c.invalid(field, name, msg) for msg in dns_errors(name, LABEL, LABEL_MSG, 63, False)]


def port_number_errors(value: Any, field: str) -> list[dict]:
    """validation.IsValidPortNum: 1..65535."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return []
    return [c.invalid(field, value, PORT_RANGE_MSG)]


def port_name_errors(name: str, field: str) -> list[dict]:
    """validation.IsValidPortName (IANA service names)."""
    out = []
    if len(name) > 15:
        out.append(c.invalid(field, name, "must be no more than 15 characters"))
    if not re.match(r"^[-a-z0-9]+$", name):
        out.append(c.invalid(field, name, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"))
    if not re.search(r"[a-z]", name):
        out.append(c.invalid(field, name, "must contain at least one letter (a-z)"))
    if "--" in name:
        out.append(c.invalid(field, name, "must not contain consecutive hyphens"))
    if name.startswith("-") or name.endswith("-"):
        out.append(c.invalid(field, name, "must not begin or end with a hyphen"))
    return out


def port_or_name_errors(value: Any, field: str) -> list[dict]:
    """ValidatePortNumOrName: a port number or an IANA port name."""
    if isinstance(value, str):
        return port_name_errors(value, field) if value else [c.required(field)]
    return port_number_errors(value, field)


def resource_errors(resources: Any, field: str) -> list[dict]:
    """ValidateResourceRequirements for a container: names, non-negative values, requests <= limits."""
    if not isinstance(resources, dict):
        return []
    out: list[dict] = []
    limits = dict_field(resources, "limits")
    requests = dict_field(resources, "requests")
    for part, values in (("limits", limits), ("requests", requests)):
        for name, value in values.items():
            where = f"{field}.{part}[{name}]"
            if name not in _STANDARD_RESOURCES and not name.startswith("hugepages-") and "/" not in name:
                out.append(c.invalid(where, name, "must be a standard resource type or fully qualified"))
            amount = parse_quantity(value)
            if amount is not None and amount < 0:
                out.append(c.invalid(where, str(value), "must be greater than or equal to 0"))
    for name, value in requests.items():
        amount, limit = parse_quantity(value), parse_quantity(limits.get(name))
        if amount is not None and limit is not None and amount > limit:
            out.append(c.invalid(f"{field}.requests", str(value),
                                 f"must be less than or equal to {name} limit of {limits[name]}"))
    return out


def _container_errors(ctr: dict, field: str, volumes: set[str], pod: bool, port_names: set[str]) -> list[dict]:
    out: list[dict] = []
    name = ctr.get("name")
    if isinstance(name, str) and name:
        out += label_errors(name, f"{field}.name")
    if pod and not ctr.get("image"):
        out.append(c.required(f"{field}.image"))
    policy = ctr.get("imagePullPolicy")
    if policy is not None and policy not in PULL_POLICIES:
        out.append(c.not_supported(f"{field}.imagePullPolicy", policy, PULL_POLICIES))
    for i, port in enumerate(ctr.get("ports") or []):
        if not isinstance(port, dict):
            continue
        where = f"{field}.ports[{i}]"
        if port.get("name"):
            out += port_name_errors(port["name"], f"{where}.name")
            if port["name"] in port_names:
                out.append(c.duplicate(f"{where}.name", port["name"]))
            port_names.add(port["name"])
        out += port_number_errors(port.get("containerPort", 0), f"{where}.containerPort")
        host = port.get("hostPort")
        if host not in (None, 0):
            out += port_number_errors(host, f"{where}.hostPort")
        protocol = port.get("protocol")
        if protocol is not None and protocol not in PROTOCOLS:
            out.append(c.not_supported(f"{where}.protocol", protocol, PROTOCOLS))
    for i, env in enumerate(ctr.get("env") or []):
        if isinstance(env, dict) and isinstance(env.get("name"), str) and env["name"] and not _ENV.match(env["name"]):
            out.append(c.invalid(f"{field}.env[{i}].name", env["name"], ENV_MSG))
    for i, mount in enumerate(ctr.get("volumeMounts") or []):
        if not isinstance(mount, dict):
            continue
        if mount.get("name") and mount["name"] not in volumes:
            out.append({"reason": "FieldValueNotFound", "field": f"{field}.volumeMounts[{i}].name",
                        "message": f"Not found: {c.go_repr(mount['name'])}"})
        if not mount.get("mountPath"):
            out.append(c.required(f"{field}.volumeMounts[{i}].mountPath"))
    out += resource_errors(ctr.get("resources"), f"{field}.resources")
    return out


def pod_spec_errors(spec: Any, field: str, *, pod: bool = False) -> list[dict]:
    """ValidatePodSpec's common rules for a pod (``pod``) or a pod template's spec at ``field``."""
    if not isinstance(spec, dict):
        return []
    out: list[dict] = []
    volumes: set[str] = set()
    for i, volume in enumerate(spec.get("volumes") or []):
        if not isinstance(volume, dict) or not isinstance(volume.get("name"), str) or not volume["name"]:
            continue
        out += label_errors(volume["name"], f"{field}.volumes[{i}].name")
        if volume["name"] in volumes:
            out.append(c.duplicate(f"{field}.volumes[{i}].name", volume["name"]))
        volumes.add(volume["name"])
    containers = spec.get("containers")
    if not containers:
        out.append(c.required(f"{field}.containers"))
    names: set[str] = set()
    port_names: set[str] = set()
    for part in ("initContainers", "containers"):
        for i, ctr in enumerate(spec.get(part) or []):
            if not isinstance(ctr, dict):
                continue
            where = f"{field}.{part}[{i}]"
            name = ctr.get("name")
            if isinstance(name, str) and name in names:
                out.append(c.duplicate(f"{where}.name", name))
            names.add(name)  # type: ignore[arg-type]  # a missing name is reported by the schema; kept as before
            out += _container_errors(ctr, where, volumes, pod, port_names if part == "containers" else set())
    restart = spec.get("restartPolicy")
    if restart is not None and restart not in RESTART_POLICIES:
        out.append(c.not_supported(f"{field}.restartPolicy", restart, RESTART_POLICIES))
    dns = spec.get("dnsPolicy")
    if dns is not None and dns not in DNS_POLICIES:
        out.append(c.not_supported(f"{field}.dnsPolicy", dns, DNS_POLICIES))
    return out
