"""The access gate of every request: authenticate, then authorize with RBAC, as kube-apiserver's filters do."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from gitops_tui.sandbox.serving.authn import Authenticator, UserInfo
from gitops_tui.sandbox.serving.common import now
from gitops_tui.sandbox.serving.errors import ApiError
from gitops_tui.sandbox.serving.impersonation import has_impersonation, impersonate
from gitops_tui.sandbox.serving.rbac import EVERYTHING, GROUP, Attributes, RbacAuthorizer, Rule, aggregate
from gitops_tui.sandbox.serving.routing import ResourceRoute, parse_path
from gitops_tui.sandbox.serving.sa_tokens import Signer
from gitops_tui.sandbox.storage.store import AlreadyExists, Store

_BOOTSTRAP = Path(__file__).with_name("bootstrap_rbac.yaml")
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}
#: Decisions kept per RBAC generation: a repeated request of a user costs one dictionary look-up.
_DECISIONS_LIMIT = 8192


def request_attributes(method: str, raw_path: str) -> Attributes:
    """What a request asks to do, as kube-apiserver's RequestInfoFactory reads it from method and path."""
    parts = urlsplit(raw_path)
    route = parse_path(parts.path)
    if not isinstance(route, ResourceRoute):
        return Attributes(method.lower(), False, path=parts.path)
    query = parse_qs(parts.query)
    name = route.name or ""
    if method in ("GET", "HEAD"):
        watch = route.watch_path or (query.get("watch") or [""])[0].lower() in ("1", "true")
        verb = "watch" if watch else "get" if name else "list"
        if verb in ("list", "watch") and not name:
            name = _name_from_selector((query.get("fieldSelector") or [""])[0])
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = _VERBS.get(method, method.lower())
    namespace = route.namespace or ""
    if route.group == "" and route.plural == "namespaces" and name and not namespace:
        namespace = name  # kube-apiserver: a Namespace is "in" itself for authorization
    return Attributes(verb, True, parts.path, namespace, route.group, route.version, route.plural,
                      route.subresource, name)


def _name_from_selector(selector: str) -> str:
    """The name a list or watch is limited to by ``fieldSelector=metadata.name=NAME``, else ""."""
    terms = [t for t in selector.split(",") if t]
    if len(terms) == 1:
        for op in ("==", "="):
            key, sep, value = terms[0].partition(op)
            if sep and key.strip() == "metadata.name":
                return value.strip()
    return ""


def forbidden(user: UserInfo, attrs: Attributes, reason: str = "") -> ApiError:
    """The 403 kube-apiserver answers, with its exact message and details."""
    if not attrs.resource_request:
        message = f'User "{user.name}" cannot {attrs.verb} path "{attrs.path}"'
    else:
        resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
        message = (f'User "{user.name}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.group}" '
                   f"{scope}")
    if reason:
        message = f"{message}: {reason}"
    if not attrs.resource_request or not attrs.resource:
        return ApiError(403, f"forbidden: {message}", "Forbidden", {})
    qualified = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
    details: dict[str, Any] = {}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.group:
        details["group"] = attrs.group
    details["kind"] = attrs.resource
    subject = f'{qualified} "{attrs.name}"' if attrs.name else qualified
    return ApiError(403, f"{subject} is forbidden: {message}", "Forbidden", details)


class AccessGate:
    """Authentication and authorization of one sandbox cluster; ``admit`` is their one call site."""

    def __init__(self, store: Store, admin_token: str, signer: Signer) -> None:
        self.store = store
        self.signer = signer
        self.authn = Authenticator(store, admin_token, signer)
        self.rbac = RbacAuthorizer(store)
        self._decisions: dict[tuple[UserInfo, str, str], bool] = {}
        self._decisions_generation = -1

    def admit(self, method: str, raw_path: str, headers: Mapping[str, str]) -> UserInfo:
        """Return the request's user (the impersonated one, when asked and allowed), or raise ApiError 401
        (unknown credentials) or 403 (not allowed)."""
        user = self.authn.authenticate(headers.get("Authorization") or "")
        if user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        if has_impersonation(headers):  # the request acts as someone else once each part is authorized
            user = impersonate(user, headers, raw_path, lambda who, attrs: self.can(who, attrs)[0], forbidden)
        if user.privileged:
            return user
        generation = self.rbac.generation()
        if generation != self._decisions_generation or len(self._decisions) >= _DECISIONS_LIMIT:
            self._decisions = {}  # replaced whole: a thread still holding the old one writes where nobody reads
            self._decisions_generation = generation
        decisions, key = self._decisions, (user, method, raw_path)
        allowed = decisions.get(key)
        if allowed is None:  # decided with rules at least as new as ``decisions``
            allowed = self.rbac.authorize(user, request_attributes(method, raw_path))[0]
            decisions[key] = allowed
        if not allowed:
            raise forbidden(user, request_attributes(method, raw_path))
        return user

    def can(self, user: UserInfo, attrs: Attributes) -> tuple[bool, str]:
        """Return (allowed, reason) for ``user`` doing ``attrs`` (SelfSubjectAccessReview)."""
        if user.privileged:
            return True, ""
        return self.rbac.authorize(user, attrs)

    def rules(self, user: UserInfo, namespace: str) -> tuple[Rule, ...]:
        """Every rule of ``user`` in ``namespace`` (SelfSubjectRulesReview), duplicates removed."""
        rules = self.rbac.rules_for(user, namespace)[0]
        return tuple(dict.fromkeys((EVERYTHING if user.privileged else ()) + rules))

    def bootstrap(self) -> None:
        """Create the default ClusterRoles and bindings that are missing (kube-apiserver's RBAC bootstrap)."""
        policy = yaml.safe_load(_BOOTSTRAP.read_text())
        roles: dict[str, dict[str, Any]] = {}
        for name, spec in policy["clusterRoles"].items():
            body: dict[str, Any] = {"apiVersion": f"{GROUP}/v1", "kind": "ClusterRole",
                                    "metadata": self._meta(name, spec.get("labels"))}
            if "aggregationRule" in spec:
                body["aggregationRule"] = spec["aggregationRule"]
            body["rules"] = spec.get("rules") or []
            roles[name] = body
        for name, rules in aggregate(roles).items():
            if "aggregationRule" in roles[name]:  # written as the aggregation controller would
                roles[name]["rules"] = [r.as_dict() for r in rules]
            self._create("clusterroles", name, roles[name])
        for name, spec in policy["clusterRoleBindings"].items():
            self._create("clusterrolebindings", name, {
                "apiVersion": f"{GROUP}/v1", "kind": "ClusterRoleBinding", "metadata": self._meta(name, None),
                "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": spec["role"]},
                "subjects": [{"apiGroup": GROUP, "kind": "Group", "name": g} for g in spec["groups"]]})

    @staticmethod
    def _meta(name: str, labels: dict[str, str] | None) -> dict[str, Any]:
        return {"name": name, "uid": str(uuid.uuid4()), "creationTimestamp": now(),
                "labels": {"kubernetes.io/bootstrapping": "rbac-defaults", **(labels or {})},
                "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}}

    def _create(self, plural: str, name: str, body: dict[str, Any]) -> None:
        if self.store.get(GROUP, plural, "", name) is not None:
            return
        try:
            self.store.create(GROUP, plural, "", name, body)
        except AlreadyExists:
            pass

