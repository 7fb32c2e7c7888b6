"""Object metadata validation as kube-apiserver does it, giving 422 StatusCause dicts."""

from __future__ import annotations

import json
import re
from typing import Any

from gitops_tui.sandbox.schema.catalog import ResourceType

DNS1123_LABEL_RE = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_RE = DNS1123_LABEL_RE + r"(\." + DNS1123_LABEL_RE + ")*"
DNS1035_LABEL_RE = "[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME_RE = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_RE = "(" + QUALIFIED_NAME_RE + ")?"

_LABEL = re.compile(f"^{DNS1123_LABEL_RE}$")
_SUBDOMAIN = re.compile(f"^{DNS1123_SUBDOMAIN_RE}$")
_DNS1035 = re.compile(f"^{DNS1035_LABEL_RE}$")
_QUALIFIED = re.compile(f"^{QUALIFIED_NAME_RE}$")
_LABEL_VALUE = re.compile(f"^{LABEL_VALUE_RE}$")

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             f"validation is '{DNS1123_LABEL_RE}')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 f"validation is '{DNS1123_SUBDOMAIN_RE}')")
DNS1035_MSG = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
               "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
               f"regex used for validation is '{DNS1035_LABEL_RE}')")
QUALIFIED_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
                 "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                 f"validation is '{QUALIFIED_NAME_RE}')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                   f"'12345', regex used for validation is '{LABEL_VALUE_RE}')")
PATH_SEGMENT_MSG = "may not contain '/'"

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024

# Kinds whose names are DNS labels or DNS-1035 labels; RBAC kinds only need a path segment.
_LABEL_KINDS = {("", "Namespace")}
_DNS1035_KINDS = {("", "Service")}
_PATH_SEGMENT_GROUPS = {"rbac.authorization.k8s.io"}
_MAX_NAME = {("batch", "CronJob"): 52}


def _quote(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else json.dumps(value, default=str)


def invalid_cause(field: str, value: Any, detail: str) -> dict:
    """A FieldValueInvalid cause: 'Invalid value: "<value>": <detail>'."""
    return {"reason": "FieldValueInvalid", "message": f"Invalid value: {_quote(value)}: {detail}", "field": field}


def required_cause(field: str, detail: str = "") -> dict:
    """A FieldValueRequired cause: 'Required value[: <detail>]'."""
    message = f"Required value: {detail}" if detail else "Required value"
    return {"reason": "FieldValueRequired", "message": message, "field": field}


def forbidden_cause(field: str, detail: str) -> dict:
    """A FieldValueForbidden cause: 'Forbidden: <detail>'."""
    return {"reason": "FieldValueForbidden", "message": f"Forbidden: {detail}", "field": field}


def _dns_errors(value: str, pattern: re.Pattern, message: str, max_len: int, prefix: bool) -> list[str]:
    errs = []
    if prefix:  # generateName: a trailing dash is allowed before the random suffix
        value = value.rstrip("-") or value
    if len(value) > max_len:
        errs.append(f"must be no more than {max_len} characters")
    if not pattern.match(value):
        errs.append(message)
    return errs


def name_errors(rt: ResourceType, name: str, prefix: bool = False) -> list[str]:
    """Problems with ``name`` for objects of ``rt`` (empty when valid)."""
    key = (rt.group, rt.kind)
    if key == ("apiregistration.k8s.io", "APIService") and not prefix:  # <version>.<group>; "v1." is the core group
        version, dot, group = name.partition(".")
        if not dot:
            return ["API service name must be in the form of <version>.<group>"]
        return (_dns_errors(version, _DNS1035, DNS1035_MSG, 63, False)
                + (_dns_errors(group, _SUBDOMAIN, SUBDOMAIN_MSG, 253, False) if group else []))
    if key in _LABEL_KINDS:
        return _dns_errors(name, _LABEL, LABEL_MSG, 63, prefix)
    if key in _DNS1035_KINDS:
        return _dns_errors(name, _DNS1035, DNS1035_MSG, 63, prefix)
    if rt.group in _PATH_SEGMENT_GROUPS and not rt.is_crd:
        if name in (".", ".."):
            return [f"may not be '{name}'"]
        errs = [f"may not contain '{c}'" for c in ("/", "%") if c in name]
        return errs
    return _dns_errors(name, _SUBDOMAIN, SUBDOMAIN_MSG, _MAX_NAME.get(key, 253), prefix)


def qualified_name_errors(value: str) -> list[str]:
    """Problems with a label/annotation key of the form [prefix/]name."""
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part must be non-empty"]
        errs = [f"prefix part {m}" for m in _dns_errors(prefix, _SUBDOMAIN, SUBDOMAIN_MSG, 253, False)]
        if errs:
            return errs
    else:
        return ["a qualified name " + QUALIFIED_MSG.replace("name part ", "", 1)
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        return ["name part must be non-empty"]
    errs = []
    if len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if not _QUALIFIED.match(name):
        errs.append(QUALIFIED_MSG)
    return errs


def _validate_labels(labels: Any, field: str) -> list[dict]:
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [invalid_cause(field, labels, "must be a map of string keys to string values")]
    causes = []
    for key, value in labels.items():
        for msg in qualified_name_errors(str(key)):
            causes.append(invalid_cause(field, key, msg))
        if not isinstance(value, str):
            causes.append(invalid_cause(field, value, "must be a string"))
            continue
        if len(value) > 63:
            causes.append(invalid_cause(field, value, "must be no more than 63 characters"))
        if not _LABEL_VALUE.match(value):
            causes.append(invalid_cause(field, value, LABEL_VALUE_MSG))
    return causes


def _validate_annotations(annotations: Any, field: str) -> list[dict]:
    if annotations is None:
        return []
    if not isinstance(annotations, dict):
        return [invalid_cause(field, annotations, "must be a map of string keys to string values")]
    causes = []
    total = 0
    for key, value in annotations.items():
        for msg in qualified_name_errors(str(key).lower()):
            causes.append(invalid_cause(field, key, msg))
        total += len(str(key)) + len(str(value))
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append({"reason": "FieldValueTooLong", "field": field,
                       "message": f"Too long: must have at most {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"})
    return causes


def _validate_finalizers(finalizers: Any, field: str) -> list[dict]:
    if not finalizers:
        return []
    if not isinstance(finalizers, list):
        return [invalid_cause(field, finalizers, "must be a list of strings")]
    causes = []
    for i, item in enumerate(finalizers):
        text = str(item)
        for msg in qualified_name_errors(text):
            causes.append(invalid_cause(f"{field}[{i}]", item, msg))
    return causes


def validate_metadata(rt: ResourceType, obj: dict) -> list[dict]:
    """Causes for problems in ``obj['metadata']`` for a type ``rt``."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return [required_cause("metadata.name", "name or generateName is required")]
    causes: list[dict] = []
    name = meta.get("name") or ""
    generate = meta.get("generateName") or ""
    if not isinstance(name, str):
        causes.append(invalid_cause("metadata.name", name, "must be a string"))
    elif name:
        causes += [invalid_cause("metadata.name", name, m) for m in name_errors(rt, name)]
    elif not generate:
        causes.append(required_cause("metadata.name", "name or generateName is required"))
    if generate and isinstance(generate, str):
        causes += [invalid_cause("metadata.generateName", generate, m) for m in name_errors(rt, generate, True)]
    namespace = meta.get("namespace") or ""
    if rt.namespaced:
        if not namespace:
            causes.append(required_cause("metadata.namespace"))
        elif isinstance(namespace, str):
            causes += [invalid_cause("metadata.namespace", namespace, m)
                       for m in _dns_errors(namespace, _LABEL, LABEL_MSG, 63, False)]
    elif namespace:
        causes.append(forbidden_cause("metadata.namespace", "not allowed on this type"))
    causes += _validate_labels(meta.get("labels"), "metadata.labels")
    causes += _validate_annotations(meta.get("annotations"), "metadata.annotations")
    causes += _validate_finalizers(meta.get("finalizers"), "metadata.finalizers")
    return causes


def _validate_crd(obj: dict) -> list[dict]:
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
    group = spec.get("group") or ""
    plural = names.get("plural") or ""
    causes: list[dict] = []
    if not group:
        causes.append(required_cause("spec.group"))
    elif "." not in group:
        causes.append(invalid_cause("spec.group", group, "should be a domain with at least one dot"))
    if not plural:
        causes.append(required_cause("spec.names.plural"))
    if not names.get("kind"):
        causes.append(required_cause("spec.names.kind"))
    name = (obj.get("metadata") or {}).get("name") or ""
    if name and group and plural and name != f"{plural}.{group}":
        causes.append(invalid_cause("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    scope = spec.get("scope")
    if scope not in ("Namespaced", "Cluster"):
        if scope:
            causes.append({"reason": "FieldValueNotSupported", "field": "spec.scope",
                           "message": f'Unsupported value: {_quote(scope)}: supported values: "Cluster", "Namespaced"'})
        else:
            causes.append(required_cause("spec.scope"))
    versions = spec.get("versions")
    if not versions or not isinstance(versions, list):
        causes.append(invalid_cause("spec.versions", versions or [], "must have exactly one version marked as "
                                    "storage version"))
        return causes
    storage = [v for v in versions if isinstance(v, dict) and v.get("storage")]
    if len(storage) != 1:
        causes.append(invalid_cause("spec.versions", versions, "must have exactly one version marked as storage "
                                    "version"))
    seen: set[str] = set()
    for i, ver in enumerate(versions):
        if not isinstance(ver, dict):
            continue
        vname = ver.get("name") or ""
        if not vname:
            causes.append(required_cause(f"spec.versions[{i}].name"))
        elif vname in seen:
            causes.append({"reason": "FieldValueDuplicate", "field": f"spec.versions[{i}].name",
                           "message": f"Duplicate value: {_quote(vname)}"})
        seen.add(vname)
        if not ((ver.get("schema") or {}).get("openAPIV3Schema")):
            causes.append(required_cause(f"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required"))
    return causes


def validate(rt: ResourceType, obj: dict) -> list[dict]:
    """Return the 422 causes for ``obj`` of type ``rt`` (an empty list when valid)."""
    if not isinstance(obj, dict):
        return [invalid_cause("", obj, "must be an object")]
    causes = validate_metadata(rt, obj)
    if rt.group == "apiextensions.k8s.io" and rt.kind == "CustomResourceDefinition":
        causes += _validate_crd(obj)
    return causes


# ---- unknown fields (fieldValidation=Strict / Warn) -----------------------------------------

def _resolve(schema: Any, definitions: dict) -> Any:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = definitions.get(name, {})
        seen += 1
    return schema


def _walk_unknown(value: Any, schema: Any, path: str, definitions: dict, out: list[str]) -> None:
    schema = _resolve(schema, definitions)
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    if isinstance(value, dict):
        props = schema.get("properties")
        if isinstance(props, dict) and props:
            embedded = schema.get("x-kubernetes-embedded-resource")
            for key, sub in value.items():
                child = f"{path}.{key}" if path else str(key)
                if key in props:
                    _walk_unknown(sub, props[key], child, definitions, out)
                elif embedded and key in ("apiVersion", "kind", "metadata"):
                    continue
                elif not isinstance(schema.get("additionalProperties"), (dict, bool)) or \
                        schema.get("additionalProperties") is False:
                    out.append(child)
        elif isinstance(schema.get("additionalProperties"), dict):
            for key, sub in value.items():
                _walk_unknown(sub, schema["additionalProperties"], f"{path}.{key}", definitions, out)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _walk_unknown(item, schema["items"], f"{path}[{i}]", definitions, out)


def unknown_fields(rt: ResourceType, obj: dict) -> list[str]:
    """Paths of fields in ``obj`` that ``rt``'s schema does not declare, like 'spec.template.spec.foo'.

    Built-in kinds are checked against the sandbox's OpenAPI definitions (every object level they
    spell out is complete; opaque parts accept anything); CRD kinds against their structural schema.
    """
    from gitops_tui.sandbox.schema import openapi_schemas as schemas

    definitions = schemas.SHARED_DEFINITIONS  # read only
    if rt.is_crd:
        crd_schema = rt.schema if isinstance(rt.schema, dict) else None
        if not crd_schema or not crd_schema.get("properties"):
            return []
        root = dict(crd_schema)
        root["properties"] = {**crd_schema["properties"], "apiVersion": {"type": "string"},
                              "kind": {"type": "string"}, "metadata": schemas.ref(schemas.META + "ObjectMeta")}
    else:
        root = {"type": "object", "properties": schemas.kind_properties(rt, False)}
    out: list[str] = []
    _walk_unknown(obj, root, "", definitions, out)
    return out
