"""Decoding the Kubernetes protobuf request bodies kubectl's typed commands send (create namespace, configmap, ...)."""

from __future__ import annotations

import base64
import datetime
from typing import Any

from gitops_tui.sandbox.serving.errors import ApiError

MAGIC = b"k8s\x00"

# A schema maps field number -> (json name, type). Types: "string", "bytes", "int", "bool", "time",
# ("map", value_type), ("list", type) or a nested schema dict; the name "" inlines a message.
Schema = dict[int, tuple[str, Any]]

_TYPE_META: Schema = {1: ("apiVersion", "string"), 2: ("kind", "string")}
_UNKNOWN: Schema = {1: ("typeMeta", _TYPE_META), 2: ("raw", "raw"), 3: ("contentEncoding", "string"),
                    4: ("contentType", "string")}
_OWNER_REF: Schema = {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"),
                      5: ("apiVersion", "string"), 6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")}
_OBJECT_META: Schema = {
    1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
    5: ("uid", "string"), 6: ("resourceVersion", "string"), 7: ("generation", "int"),
    8: ("creationTimestamp", "time"), 9: ("deletionTimestamp", "time"),
    10: ("deletionGracePeriodSeconds", "int"), 11: ("labels", ("map", "string")),
    12: ("annotations", ("map", "string")), 13: ("ownerReferences", ("list", _OWNER_REF)),
    14: ("finalizers", ("list", "string")),
}
_OBJECT_REF: Schema = {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"),
                       4: ("uid", "string"), 5: ("apiVersion", "string"), 6: ("resourceVersion", "string"),
                       7: ("fieldPath", "string")}
_LOCAL_REF: Schema = {1: ("name", "string")}
_POLICY_RULE: Schema = {1: ("verbs", ("list", "string")), 2: ("apiGroups", ("list", "string")),
                        3: ("resources", ("list", "string")), 4: ("resourceNames", ("list", "string")),
                        5: ("nonResourceURLs", ("list", "string"))}
_SUBJECT: Schema = {1: ("kind", "string"), 2: ("apiGroup", "string"), 3: ("name", "string"),
                    4: ("namespace", "string")}
_ROLE_REF: Schema = {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")}
_LABEL_SELECTOR: Schema = {1: ("matchLabels", ("map", "string"))}
_BINDING: Schema = {1: ("metadata", _OBJECT_META), 2: ("subjects", ("list", _SUBJECT)), 3: ("roleRef", _ROLE_REF)}
_SELECTOR: Schema = {1: ("matchLabels", ("map", "string")),
                     2: ("matchExpressions", ("list", {1: ("key", "string"), 2: ("operator", "string"),
                                                       3: ("values", ("list", "string"))}))}
_PORT: Schema = {1: ("name", "string"), 2: ("hostPort", "int"), 3: ("containerPort", "int"),
                 4: ("protocol", "string"), 5: ("hostIP", "string")}
_ENV: Schema = {1: ("name", "string"), 2: ("value", "string")}
_RESOURCES: Schema = {1: ("limits", ("map", "quantity")), 2: ("requests", ("map", "quantity"))}
_MOUNT: Schema = {1: ("name", "string"), 2: ("readOnly", "bool"), 3: ("mountPath", "string"),
                  4: ("subPath", "string")}
_CONTAINER: Schema = {
    1: ("name", "string"), 2: ("image", "string"), 3: ("command", ("list", "string")),
    4: ("args", ("list", "string")), 5: ("workingDir", "string"), 6: ("ports", ("list", _PORT)),
    7: ("env", ("list", _ENV)), 8: ("resources", _RESOURCES), 9: ("volumeMounts", ("list", _MOUNT)),
    13: ("terminationMessagePath", "string"), 14: ("imagePullPolicy", "string"), 16: ("stdin", "bool"),
    17: ("stdinOnce", "bool"), 18: ("tty", "bool"), 20: ("terminationMessagePolicy", "string"),
}
_POD_SPEC: Schema = {
    2: ("containers", ("list", _CONTAINER)), 3: ("restartPolicy", "string"),
    4: ("terminationGracePeriodSeconds", "int"), 5: ("activeDeadlineSeconds", "int"),
    6: ("dnsPolicy", "string"), 7: ("nodeSelector", ("map", "string")), 8: ("serviceAccountName", "string"),
    10: ("nodeName", "string"), 11: ("hostNetwork", "bool"), 12: ("hostPID", "bool"), 13: ("hostIPC", "bool"),
    15: ("imagePullSecrets", ("list", _LOCAL_REF)), 16: ("hostname", "string"), 17: ("subdomain", "string"),
    19: ("schedulerName", "string"), 20: ("initContainers", ("list", _CONTAINER)),
    24: ("priorityClassName", "string"),
}
_TEMPLATE: Schema = {1: ("metadata", _OBJECT_META), 2: ("spec", _POD_SPEC)}
_JOB_SPEC: Schema = {1: ("parallelism", "int"), 2: ("completions", "int"), 3: ("activeDeadlineSeconds", "int"),
                     4: ("selector", _SELECTOR), 6: ("template", _TEMPLATE), 7: ("backoffLimit", "int"),
                     8: ("ttlSecondsAfterFinished", "int"), 9: ("completionMode", "string"),
                     10: ("suspend", "bool")}
_SERVICE_PORT: Schema = {1: ("name", "string"), 2: ("protocol", "string"), 3: ("port", "int"),
                         4: ("targetPort", "intorstr"), 5: ("nodePort", "int"), 6: ("appProtocol", "string")}
_INGRESS_BACKEND: Schema = {4: ("service", {1: ("name", "string"),
                                            2: ("port", {1: ("name", "string"), 2: ("number", "int")})})}
_INGRESS_RULE: Schema = {1: ("host", "string"), 2: ("", {1: ("http", {1: ("paths", ("list", {
    1: ("path", "string"), 2: ("backend", _INGRESS_BACKEND), 3: ("pathType", "string")}))})})}

_SCALE_TARGET: Schema = {1: ("kind", "string"), 2: ("name", "string"), 3: ("apiVersion", "string")}
_METRIC_TARGET: Schema = {1: ("type", "string"), 2: ("value", "quantity"), 3: ("averageValue", "quantity"),
                          4: ("averageUtilization", "int")}
_METRIC: Schema = {1: ("type", "string"), 4: ("resource", {1: ("name", "string"), 2: ("target", _METRIC_TARGET)})}

KINDS: dict[tuple[str, str], Schema] = {
    ("policy/v1", "PodDisruptionBudget"): {1: ("metadata", _OBJECT_META), 2: ("spec", {
        1: ("minAvailable", "intorstr"), 2: ("selector", _SELECTOR), 3: ("maxUnavailable", "intorstr"),
        4: ("unhealthyPodEvictionPolicy", "string")})},
    ("v1", "ResourceQuota"): {1: ("metadata", _OBJECT_META), 2: ("spec", {
        1: ("hard", ("map", "quantity")), 2: ("scopes", ("list", "string"))})},
    ("autoscaling/v1", "HorizontalPodAutoscaler"): {1: ("metadata", _OBJECT_META), 2: ("spec", {
        1: ("scaleTargetRef", _SCALE_TARGET), 2: ("minReplicas", "int"), 3: ("maxReplicas", "int"),
        4: ("targetCPUUtilizationPercentage", "int")})},
    ("autoscaling/v2", "HorizontalPodAutoscaler"): {1: ("metadata", _OBJECT_META), 2: ("spec", {
        1: ("scaleTargetRef", _SCALE_TARGET), 2: ("minReplicas", "int"), 3: ("maxReplicas", "int"),
        4: ("metrics", ("list", _METRIC))})},
    ("v1", "Namespace"): {1: ("metadata", _OBJECT_META),
                          2: ("spec", {1: ("finalizers", ("list", "string"))}),
                          3: ("status", {1: ("phase", "string")})},
    ("v1", "ConfigMap"): {1: ("metadata", _OBJECT_META), 2: ("data", ("map", "string")),
                          3: ("binaryData", ("map", "bytes")), 4: ("immutable", "bool")},
    ("v1", "Secret"): {1: ("metadata", _OBJECT_META), 2: ("data", ("map", "bytes")), 3: ("type", "string"),
                       4: ("stringData", ("map", "string")), 5: ("immutable", "bool")},
    ("v1", "ServiceAccount"): {1: ("metadata", _OBJECT_META), 2: ("secrets", ("list", _OBJECT_REF)),
                               3: ("imagePullSecrets", ("list", _LOCAL_REF)),
                               4: ("automountServiceAccountToken", "bool")},
    ("rbac.authorization.k8s.io/v1", "Role"): {1: ("metadata", _OBJECT_META), 2: ("rules", ("list", _POLICY_RULE))},
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): {
        1: ("metadata", _OBJECT_META), 2: ("rules", ("list", _POLICY_RULE)),
        3: ("aggregationRule", {1: ("clusterRoleSelectors", ("list", _LABEL_SELECTOR))})},
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): _BINDING,
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): _BINDING,
    ("apps/v1", "Deployment"): {1: ("metadata", _OBJECT_META), 2: ("spec", {
        1: ("replicas", "int"), 2: ("selector", _SELECTOR), 3: ("template", _TEMPLATE),
        4: ("strategy", {1: ("type", "string"),
                         2: ("rollingUpdate", {1: ("maxUnavailable", "intorstr"), 2: ("maxSurge", "intorstr")})}),
        5: ("minReadySeconds", "int"), 6: ("revisionHistoryLimit", "int"), 7: ("paused", "bool"),
        9: ("progressDeadlineSeconds", "int")})},
    ("batch/v1", "Job"): {1: ("metadata", _OBJECT_META), 2: ("spec", _JOB_SPEC)},
    ("batch/v1", "CronJob"): {1: ("metadata", _OBJECT_META), 2: ("spec", {
        1: ("schedule", "string"), 2: ("startingDeadlineSeconds", "int"), 3: ("concurrencyPolicy", "string"),
        4: ("suspend", "bool"), 5: ("jobTemplate", {1: ("metadata", _OBJECT_META), 2: ("spec", _JOB_SPEC)}),
        6: ("successfulJobsHistoryLimit", "int"), 7: ("failedJobsHistoryLimit", "int"),
        8: ("timeZone", "string")})},
    ("v1", "Service"): {1: ("metadata", _OBJECT_META), 2: ("spec", {
        1: ("ports", ("list", _SERVICE_PORT)), 2: ("selector", ("map", "string")), 3: ("clusterIP", "string"),
        4: ("type", "string"), 5: ("externalIPs", ("list", "string")), 7: ("sessionAffinity", "string"),
        10: ("externalName", "string"), 11: ("externalTrafficPolicy", "string")})},
    ("networking.k8s.io/v1", "Ingress"): {1: ("metadata", _OBJECT_META), 2: ("spec", {
        3: ("rules", ("list", _INGRESS_RULE)), 4: ("ingressClassName", "string")})},
    ("v1", "DeleteOptions"): {1: ("gracePeriodSeconds", "int"),
                              2: ("preconditions", {1: ("uid", "string"), 2: ("resourceVersion", "string")}),
                              3: ("orphanDependents", "bool"), 4: ("propagationPolicy", "string"),
                              5: ("dryRun", ("list", "string"))},
}

# The review and TokenRequest bodies kubectl sends (auth can-i, auth whoami, create token).
_REVIEW_ATTRIBUTES: Schema = {
    1: ("resourceAttributes", {1: ("namespace", "string"), 2: ("verb", "string"), 3: ("group", "string"),
                               4: ("version", "string"), 5: ("resource", "string"), 6: ("subresource", "string"),
                               7: ("name", "string")}),
    2: ("nonResourceAttributes", {1: ("path", "string"), 2: ("verb", "string")}),
}
KINDS.update({
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): {1: ("metadata", _OBJECT_META),
                                                             2: ("spec", _REVIEW_ATTRIBUTES)},
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): {1: ("metadata", _OBJECT_META),
                                                            2: ("spec", {1: ("namespace", "string")})},
    ("authentication.k8s.io/v1", "SelfSubjectReview"): {1: ("metadata", _OBJECT_META)},
    ("authentication.k8s.io/v1", "TokenRequest"): {1: ("metadata", _OBJECT_META), 2: ("spec", {
        1: ("audiences", ("list", "string")), 4: ("expirationSeconds", "int"),
        3: ("boundObjectRef", {1: ("kind", "string"), 2: ("apiVersion", "string"), 3: ("name", "string"),
                               4: ("uid", "string")})})},
})
_TIME: Schema = {1: ("seconds", "int"), 2: ("nanos", "int")}


class _Malformed(ValueError):
    pass


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise _Malformed("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise _Malformed("varint too long")


def _fields(data: bytes) -> list[tuple[int, int, Any]]:
    out: list[tuple[int, int, Any]] = []
    pos = 0
    value: Any
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise _Malformed("truncated field")
            value, pos = data[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise _Malformed(f"unsupported wire type {wire}")
        out.append((number, wire, value))
    return out


def _scalar(kind: Any, value: Any) -> Any:
    if isinstance(kind, dict):
        return _message(kind, value)
    if kind == "string":
        return value.decode("utf-8")
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind == "raw":
        return value
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "time":
        seconds = _message(_TIME, value).get("seconds", 0)
        if not seconds:
            return None
        stamp = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind == "quantity":
        return _message({1: ("string", "string")}, value).get("string", "")
    if kind == "intorstr":
        parts = _message({1: ("type", "int"), 2: ("intVal", "int"), 3: ("strVal", "string")}, value)
        return parts.get("strVal", "") if parts.get("type") == 1 else parts.get("intVal", 0)
    raise _Malformed(f"unknown type {kind}")


def _message(schema: Schema, data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, _wire, value in _fields(data):
        if number not in schema:
            continue
        name, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "map":
            entry = _message({1: ("key", "string"), 2: ("value", kind[1])}, value)
            out.setdefault(name, {})[entry.get("key", "")] = entry.get("value", "" if kind[1] != "bytes" else "")
        elif isinstance(kind, tuple) and kind[0] == "list":
            out.setdefault(name, []).append(_scalar(kind[1], value))
        elif name == "":  # an embedded struct Go's JSON inlines (IngressRule.IngressRuleValue)
            out.update(_scalar(kind, value))
        else:
            decoded = _scalar(kind, value)
            if not _omitted(name, kind, decoded):
                out[name] = decoded
    return out


_KEEP_ZERO = frozenset({"replicas", "parallelism", "completions", "backoffLimit", "intVal", "seconds", "type"})


def _omitted(name: str, kind: Any, value: Any) -> bool:
    """Go's omitempty: gogo-proto writes zero scalars that JSON would leave out."""
    if value is None:
        return True
    if kind in ("string", "bool"):
        return not value
    if kind == "int":
        return value == 0 and name not in _KEEP_ZERO
    return False


def decode_protobuf(raw: bytes) -> dict[str, Any]:
    """Decode a k8s protobuf envelope into a JSON-style object; 415 for kinds we cannot decode."""
    if not raw.startswith(MAGIC):
        raise ApiError(400, "the request body is not a Kubernetes protobuf message", "BadRequest")
    try:
        envelope = _message(_UNKNOWN, raw[len(MAGIC):])
        type_meta = envelope.get("typeMeta") or {}
        api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
        schema = KINDS.get((api_version, kind))
        if schema is None:
            raise ApiError(
                415,
                f"protobuf bodies of {kind or 'this kind'} are not supported by the sandbox; send application/json",
                "UnsupportedMediaType",
            )
        obj = _message(schema, envelope.get("raw") or b"")
    except (_Malformed, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the protobuf request body is malformed: {exc}", "BadRequest") from None
    return {"apiVersion": api_version, "kind": kind, **obj}
