"""Fields kube-apiserver refuses to change on update (selectors, cluster IPs, Job templates, immutable data)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gitops_tui.sandbox.schema import causes as c
from gitops_tui.sandbox.schema.rules_kinds import go_selector
from gitops_tui.util.fields import dict_field

_IMMUTABLE_WHEN_SET = "field is immutable when `immutable` is set"
_STATEFULSET_MUTABLE = ("replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                        "minReadySeconds")
STATEFULSET_MESSAGE = ("updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
                       "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")
PVC_MESSAGE = ("spec is immutable after creation except resources.requests and volumeAttributesClassName for "
               "bound claims")


def _spec(obj: dict) -> dict:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _selector(new: dict, old: dict) -> list[dict]:
    selector = _spec(new).get("selector")
    if selector != _spec(old).get("selector"):
        return [{"reason": "FieldValueInvalid", "field": "spec.selector",
                 "message": f"Invalid value: {go_selector(selector)}: field is immutable"}]
    return []


def _statefulset(new: dict, old: dict) -> list[dict]:
    out = _selector(new, old)
    rest_new = {k: v for k, v in _spec(new).items() if k not in _STATEFULSET_MUTABLE}
    rest_old = {k: v for k, v in _spec(old).items() if k not in _STATEFULSET_MUTABLE}
    if rest_new != rest_old:
        out.append(c.forbidden("spec", STATEFULSET_MESSAGE))
    return out


def _job(new: dict, old: dict) -> list[dict]:
    out = _selector(new, old)
    template = _spec(new).get("template")
    if template != _spec(old).get("template"):
        out.append(c.immutable("spec.template", template))
    return out


def _service(new: dict, old: dict) -> list[dict]:
    spec, old_spec = _spec(new), _spec(old)
    if "ExternalName" in (spec.get("type"), old_spec.get("type")):
        return []
    if spec.get("clusterIP") == "None" and old_spec.get("clusterIP") == "None":
        return []
    out: list[dict] = []
    old_ips, new_ips = old_spec.get("clusterIPs") or [], list(spec.get("clusterIPs") or [])
    if len(old_ips) == len(new_ips):
        for i, address in enumerate(old_ips):
            if new_ips[i] != address:
                out.append(c.invalid(f"spec.clusterIPs[{i}]", new_ips, "may not change once set"))
    elif new_ips and old_ips and new_ips[0] != old_ips[0]:
        out.append(c.invalid("spec.clusterIPs[0]", new_ips, "may not change once set"))
    return out


def _immutable_data(keys: tuple[str, ...]) -> Callable[[dict, dict], list[dict]]:
    def check(new: dict, old: dict) -> list[dict]:
        if not old.get("immutable"):
            return []
        out: list[dict] = []
        if not new.get("immutable"):
            out.append(c.forbidden("immutable", _IMMUTABLE_WHEN_SET))
        out += [c.forbidden(key, _IMMUTABLE_WHEN_SET) for key in keys if new.get(key) != old.get(key)]
        return out
    return check


def _secret(new: dict, old: dict) -> list[dict]:
    out: list[dict] = []
    if (new.get("type") or "Opaque") != (old.get("type") or "Opaque"):
        out.append(c.immutable("type", new.get("type")))
    return out + _immutable_data(("data",))(new, old)


def _pvc(new: dict, old: dict) -> list[dict]:
    spec, old_spec = dict(_spec(new)), dict(_spec(old))
    if not old_spec.get("volumeName"):  # binding sets volumeName once
        old_spec.pop("volumeName", None)
        spec.pop("volumeName", None)
    for either in (spec, old_spec):
        either.pop("volumeAttributesClassName", None)
    bound = (new.get("status") or {}).get("phase") == "Bound"
    if bound:
        for either in (spec, old_spec):
            requests = dict((either.get("resources") or {}).get("requests") or {})
            requests.pop("storage", None)
            either["resources"] = {**(either.get("resources") or {}), "requests": requests}
    if spec != old_spec:
        return [c.forbidden("spec", PVC_MESSAGE)]
    return []


def _role_ref(new: dict, old: dict) -> list[dict]:
    ref = dict_field(new, "roleRef")
    if ref != old.get("roleRef"):
        shown = (f'rbac.RoleRef{{APIGroup:"{ref.get("apiGroup", "")}", Kind:"{ref.get("kind", "")}", '
                 f'Name:"{ref.get("name", "")}"}}')
        return [{"reason": "FieldValueInvalid", "field": "roleRef",
                 "message": f"Invalid value: {shown}: cannot change roleRef"}]
    return []


UPDATE_RULES: dict[tuple[str, str], Callable[[dict, dict], list[dict]]] = {
    ("apps", "Deployment"): _selector,
    ("apps", "ReplicaSet"): _selector,
    ("apps", "DaemonSet"): _selector,
    ("apps", "StatefulSet"): _statefulset,
    ("batch", "Job"): _job,
    ("", "Service"): _service,
    ("", "ConfigMap"): _immutable_data(("data", "binaryData")),
    ("", "Secret"): _secret,
    ("", "PersistentVolumeClaim"): _pvc,
    ("rbac.authorization.k8s.io", "RoleBinding"): _role_ref,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _role_ref,
}


def update_errors(group: str, kind: str, new: dict, old: dict) -> list[dict]:
    """The causes for changes to immutable fields between ``old`` and ``new``."""
    rule = UPDATE_RULES.get((group, kind))
    return rule(new, old) if rule is not None else []


def normalize_cluster_ips(new: dict[str, Any], old: dict[str, Any]) -> None:
    """A changed spec.clusterIP carries into clusterIPs[0] (the registry keeps the two in step)."""
    spec, old_spec = new.get("spec"), old.get("spec") or {}
    if not isinstance(spec, dict):
        return
    address, ips = spec.get("clusterIP"), spec.get("clusterIPs")
    if address and address != old_spec.get("clusterIP") and isinstance(ips, list) and ips \
            and ips == old_spec.get("clusterIPs"):
        spec["clusterIPs"] = [address, *ips[1:]]
