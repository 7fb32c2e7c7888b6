"""Name rules of kube-apiserver: DNS labels and subdomains, qualified names, label keys and values."""

from __future__ import annotations

import re
from typing import Any

from gitops_tui.sandbox.schema.catalog import ResourceType
from gitops_tui.sandbox.schema.causes import invalid as invalid_cause

DNS1123_LABEL_RE = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_RE = DNS1123_LABEL_RE + r"(\." + DNS1123_LABEL_RE + ")*"
DNS1035_LABEL_RE = "[a-z]([-a-z0-9]*[a-z0-9])?"
QUALIFIED_NAME_RE = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_RE = "(" + QUALIFIED_NAME_RE + ")?"

LABEL = re.compile(f"^{DNS1123_LABEL_RE}$")
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

# Kinds whose names are DNS labels or DNS-1035 labels; RBAC kinds only need a path segment.
_LABEL_KINDS = {("", "Namespace")}
_DNS1035_KINDS = {("", "Service")}
_PATH_SEGMENT_GROUPS = {"rbac.authorization.k8s.io"}
_MAX_NAME = {("batch", "CronJob"): 52}


def dns_errors(value: str, pattern: re.Pattern, message: str, max_len: int, prefix: bool) -> list[str]:
    """Problems with a DNS-style name (``prefix``: a generateName, which may end in a dash)."""
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
        return (dns_errors(version, _DNS1035, DNS1035_MSG, 63, False)
                + (dns_errors(group, _SUBDOMAIN, SUBDOMAIN_MSG, 253, False) if group else []))
    if key in _LABEL_KINDS:
        return dns_errors(name, LABEL, LABEL_MSG, 63, prefix)
    if key in _DNS1035_KINDS:
        return dns_errors(name, _DNS1035, DNS1035_MSG, 63, prefix)
    if rt.group in _PATH_SEGMENT_GROUPS and not rt.is_crd:
        if name in (".", ".."):
            return [f"may not be '{name}'"]
        errs = [f"may not contain '{c}'" for c in ("/", "%") if c in name]
        return errs
    return dns_errors(name, _SUBDOMAIN, SUBDOMAIN_MSG, _MAX_NAME.get(key, 253), prefix)


def qualified_name_errors(value: str) -> list[str]:
    """Problems with a label/annotation key of the form [prefix/]name."""
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part must be non-empty"]
        errs = [f"prefix part {m}" for m in dns_errors(prefix, _SUBDOMAIN, SUBDOMAIN_MSG, 253, False)]
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


def label_map_errors(labels: Any, field: str) -> list[dict]:
    """Problems with a map of labels (keys qualified names, values label values)."""
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
