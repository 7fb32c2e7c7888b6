"""References are names: DNS-1123 names as Kubernetes validates them, resolved in the referring object's namespace only.

A name taken from a tenant's object (a Flux ``sourceRef``, ``secretRef``, ``substituteFrom``, ``valuesFrom``,
``dependsOn`` ...) is checked here before anything is looked up, in kube-apiserver's words; a reference to another
namespace is refused in Flux's words (its ``--no-cross-namespace-refs`` lockdown, ``acl.AccessDenied``), before
and whatever the target, so the answer never tells whether it exists. docs/security.md#references-are-names.
"""

from __future__ import annotations

import re
from typing import Any

DNS1123_LABEL_RE = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_RE = DNS1123_LABEL_RE + r"(\." + DNS1123_LABEL_RE + ")*"
LABEL_MAX = 63
SUBDOMAIN_MAX = 253
_LABEL = re.compile(f"^{DNS1123_LABEL_RE}$")
_SUBDOMAIN = re.compile(f"^{DNS1123_SUBDOMAIN_RE}$")
#: kube-apiserver's messages (apimachinery validation IsDNS1123Label / IsDNS1123Subdomain).
LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
             "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
             f"validation is '{DNS1123_LABEL_RE}')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 f"validation is '{DNS1123_SUBDOMAIN_RE}')")
#: Condition reasons: a name that is not one, and a reference to another namespace (Flux's acl.AccessDeniedReason).
REASON_INVALID = "ValidationFailed"
REASON_ACCESS_DENIED = "AccessDenied"
#: Kinds whose names are DNS-1123 labels (the others' are subdomains).
LABEL_KINDS = frozenset({"Namespace"})


class ReferenceRefused(ValueError):
    """A reference that is not a name, or names another namespace; ``message`` is one sentence, ``reason`` its kind."""

    def __init__(self, reason: str, message: str) -> None:
        """Record the condition reason and the sentence."""
        super().__init__(message)
        self.reason = reason
        self.message = message


def name_errors(value: str, *, label: bool = False) -> list[str]:
    """kube-apiserver's complaints about ``value`` as a DNS-1123 subdomain (or label); empty when it is valid."""
    limit, pattern, message = (LABEL_MAX, _LABEL, LABEL_MSG) if label else (SUBDOMAIN_MAX, _SUBDOMAIN, SUBDOMAIN_MSG)
    errors = []
    if len(value) > limit:
        errors.append(f"must be no more than {limit} characters")
    if not pattern.match(value):
        errors.append(message)
    return errors


def _shown(value: Any) -> str:
    """The value as kube-apiserver quotes it in a field error, cut short so a hostile one cannot flood a message."""
    text = value if isinstance(value, str) else repr(value)
    short = text if len(text) <= 80 else text[:77] + "..."
    return '"' + short.replace('"', '\\"') + '"'


def check_name(value: Any, field: str, *, kind: str = "", where: str = "") -> str:
    """Return ``value`` when it is a DNS-1123 name for ``kind`` (a label for a Namespace, else a subdomain).

    ReferenceRefused otherwise, worded as kube-apiserver words a field error:
    ``<where>: spec.sourceRef.name: Invalid value: "..": a lowercase RFC 1123 subdomain must ...``.
    """
    prefix = f"{where}: " if where else ""
    if not isinstance(value, str) or not value:
        raise ReferenceRefused(REASON_INVALID, f"{prefix}{field}: Required value: a {kind or 'object'} name")
    errors = name_errors(value, label=kind in LABEL_KINDS)
    if errors:
        raise ReferenceRefused(REASON_INVALID, f"{prefix}{field}: Invalid value: {_shown(value)}: {'; '.join(errors)}")
    return value


def check_same_namespace(namespace: Any, own: str, kind: str, name: str, field: str, *, where: str = "") -> str:
    """Return the namespace a reference resolves in: ``own``; ReferenceRefused when it names another one.

    The refusal is Flux's (``can't access 'Kind/namespace/name', cross-namespace references have been blocked``)
    and is made before any lookup, so it reads the same whether the target exists, is ready, or not.
    """
    if namespace in (None, "") or namespace == own:
        return own
    shown_ns = namespace if isinstance(namespace, str) else repr(namespace)
    prefix = f"{where}: " if where else ""
    raise ReferenceRefused(REASON_ACCESS_DENIED, f"{prefix}{field}: can't access '{kind}/{shown_ns[:80]}/{name[:80]}', "
                                                 "cross-namespace references have been blocked")


def check_kind(kind: Any, allowed: tuple[str, ...], field: str, *, where: str = "") -> str:
    """Return ``kind`` when it is one of ``allowed``; ReferenceRefused in kube-apiserver's enum words otherwise."""
    if isinstance(kind, str) and kind in allowed:
        return kind
    prefix = f"{where}: " if where else ""
    supported = ", ".join(f'"{k}"' for k in allowed)
    raise ReferenceRefused(REASON_INVALID, f"{prefix}{field}: Unsupported value: {_shown(kind)}: supported values: "
                                           f"{supported}")
