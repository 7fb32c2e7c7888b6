"""RBAC as kube-apiserver evaluates it: Roles, ClusterRoles (aggregation included) and their bindings.

The stored RBAC objects are compiled once into grants per namespace, and each user's rules are kept per
namespace until an RBAC object changes (seen in the store's change log): authorization runs on every
request, so a request costs a dictionary look-up and a short scan of that user's rules.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from gitops_tui.sandbox.serving.authn import ChangeWatch, UserInfo
from gitops_tui.sandbox.storage.store import Store

GROUP = "rbac.authorization.k8s.io"
RBAC_KEYS = ((GROUP, "clusterroles"), (GROUP, "clusterrolebindings"), (GROUP, "roles"), (GROUP, "rolebindings"))
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class Attributes:
    """What a request asks to do (kube's authorizer.Attributes)."""

    verb: str
    resource_request: bool
    path: str = ""
    namespace: str = ""
    group: str = ""
    version: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""


def _strings(value: Any) -> frozenset[str]:
    return frozenset(str(v) for v in value or () if isinstance(v, str))


@dataclass(frozen=True)
class Rule:
    """One PolicyRule, with sets for fast matching."""

    verbs: frozenset[str]
    api_groups: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()
    resource_names: frozenset[str] = frozenset()
    urls: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, raw: Any) -> Rule | None:
        """Read a PolicyRule mapping (None when it is not one)."""
        if not isinstance(raw, dict):
            return None
        return cls(_strings(raw.get("verbs")), _strings(raw.get("apiGroups")), _strings(raw.get("resources")),
                   _strings(raw.get("resourceNames")), _strings(raw.get("nonResourceURLs")))

    def allows(self, attrs: Attributes) -> bool:
        """Whether this rule allows ``attrs`` (kube's RuleAllows)."""
        if "*" not in self.verbs and attrs.verb not in self.verbs:
            return False
        if not attrs.resource_request:
            return any(url == "*" or url == attrs.path or (url.endswith("*") and attrs.path.startswith(url[:-1]))
                       for url in self.urls)
        if "*" not in self.api_groups and attrs.group not in self.api_groups:
            return False
        if not self._resource_matches(attrs):
            return False
        return not self.resource_names or attrs.name in self.resource_names

    def _resource_matches(self, attrs: Attributes) -> bool:
        if "*" in self.resources:
            return True
        combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        if combined in self.resources:
            return True
        return bool(attrs.subresource) and f"*/{attrs.subresource}" in self.resources

    def as_dict(self) -> dict[str, Any]:
        """The rbac.authorization.k8s.io/v1 PolicyRule of this rule."""
        return self.as_non_resource_rule() if self.urls else self.as_resource_rule()

    def as_resource_rule(self) -> dict[str, Any]:
        """The authorization.k8s.io/v1 ResourceRule of this rule."""
        body: dict[str, Any] = {"verbs": sorted(self.verbs), "apiGroups": sorted(self.api_groups),
                                "resources": sorted(self.resources)}
        if self.resource_names:
            body["resourceNames"] = sorted(self.resource_names)
        return body

    def as_non_resource_rule(self) -> dict[str, Any]:
        """The authorization.k8s.io/v1 NonResourceRule of this rule."""
        return {"verbs": sorted(self.verbs), "nonResourceURLs": sorted(self.urls)}


#: What system:masters may do (kube-apiserver's privileged group answers for any rule).
EVERYTHING = (Rule(frozenset({"*"}), frozenset({"*"}), frozenset({"*"})), Rule(frozenset({"*"}), urls=frozenset({"*"})))


@dataclass(frozen=True)
class Grant:
    """A binding's subjects and the rules of its role; ``source`` names them for an allow reason."""

    subjects: tuple[tuple[str, str, str], ...]  # ("User" | "Group", name, description); an SA is a User name
    rules: tuple[Rule, ...]
    source: str

    def subject_for(self, user: UserInfo) -> str | None:
        """The description of the subject that is ``user`` or one of its groups, else None."""
        for kind, name, description in self.subjects:
            if (kind == "User" and name == user.name) or (kind == "Group" and name in user.groups):
                return description
        return None


def _subjects(binding: dict[str, Any], namespace: str) -> tuple[tuple[str, str, str], ...]:
    out = []
    for subject in binding.get("subjects") or []:
        if not isinstance(subject, dict):
            continue
        kind, name = subject.get("kind"), str(subject.get("name") or "")
        if kind == "ServiceAccount":
            ns = subject.get("namespace") or namespace
            out.append(("User", f"system:serviceaccount:{ns}:{name}", f'ServiceAccount "{name}/{ns}"'))
        elif kind in ("User", "Group"):
            out.append((str(kind), name, f'{kind} "{name}"'))
    return tuple(out)


def _selector_matches(selector: Any, labels: dict[str, str]) -> bool:
    if not isinstance(selector, dict):
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), list(expr.get("values") or [])
        present = key in labels
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and present and labels[key] in values) \
                or (op == "Exists" and not present) or (op == "DoesNotExist" and present):
            return False
    return True


def aggregate(roles: dict[str, dict[str, Any]]) -> dict[str, tuple[Rule, ...]]:
    """Each ClusterRole's rules, aggregated ones included (as the aggregation controller would write them)."""
    done: dict[str, tuple[Rule, ...]] = {}

    def rules_of(name: str, visiting: frozenset[str]) -> tuple[Rule, ...]:
        if name in done:
            return done[name]
        role = roles[name]
        own = [r for r in (Rule.parse(x) for x in role.get("rules") or []) if r is not None]
        selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
        for other, body in sorted(roles.items()):
            if other in visiting or other == name:
                continue
            labels = (body.get("metadata") or {}).get("labels") or {}
            if any(_selector_matches(s, labels) for s in selectors):
                own.extend(rules_of(other, visiting | {name}))
        done[name] = tuple(dict.fromkeys(own))
        return done[name]

    return {name: rules_of(name, frozenset({name})) for name in roles}


@dataclass
class _Compiled:
    cluster: list[Grant]
    namespaced: dict[str, list[Grant]]
    cluster_roles: dict[str, tuple[Rule, ...]]


class RbacAuthorizer:
    """Answers "may this user do this?" and "what may this user do here?" from the stored RBAC objects."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._changes = ChangeWatch(store, RBAC_KEYS)
        self._lock = threading.Lock()
        self._compiled: _Compiled | None = None
        self._generation = -1
        self._rules: dict[tuple[str, tuple[str, ...], str], tuple[tuple[Rule, ...], tuple[str, ...]]] = {}

    def _current(self) -> tuple[_Compiled, int]:
        generation = self._changes.current()
        with self._lock:
            if self._compiled is not None and generation == self._generation:
                return self._compiled, generation
        compiled = self._compile()
        with self._lock:
            self._compiled, self._generation = compiled, generation
            self._rules.clear()
        return compiled, generation

    def _compile(self) -> _Compiled:
        listed = {plural: self._store.list(group, plural)[0] for group, plural in RBAC_KEYS}
        roles = {(o.get("metadata") or {}).get("name", ""): o for o in listed["clusterroles"]}
        cluster_roles = aggregate(roles)
        local = {((o.get("metadata") or {}).get("namespace", ""), (o.get("metadata") or {}).get("name", "")):
                 tuple(r for r in (Rule.parse(x) for x in o.get("rules") or []) if r is not None)
                 for o in listed["roles"]}
        cluster: list[Grant] = []
        for binding in listed["clusterrolebindings"]:
            ref = binding.get("roleRef") or {}
            rules = cluster_roles.get(ref.get("name", "")) if ref.get("kind") == "ClusterRole" else None
            if rules:
                name = (binding.get("metadata") or {}).get("name", "")
                cluster.append(Grant(_subjects(binding, ""), rules,
                                     f'ClusterRoleBinding "{name}" of ClusterRole "{ref.get("name")}"'))
        namespaced: dict[str, list[Grant]] = {}
        for binding in listed["rolebindings"]:
            meta = binding.get("metadata") or {}
            ns, ref = meta.get("namespace", ""), binding.get("roleRef") or {}
            kind = ref.get("kind")
            rules = cluster_roles.get(ref.get("name", "")) if kind == "ClusterRole" else \
                local.get((ns, ref.get("name", ""))) if kind == "Role" else None
            if rules:
                namespaced.setdefault(ns, []).append(
                    Grant(_subjects(binding, ns), rules,
                          f'RoleBinding "{meta.get("name", "")}/{ns}" of {kind} "{ref.get("name")}"'))
        return _Compiled(cluster, namespaced, cluster_roles)

    def generation(self) -> int:
        """A number that changes whenever an RBAC object was written (for caches of decisions)."""
        return self._changes.current()

    @property
    def store(self) -> Store:
        """The store the RBAC objects are read from."""
        return self._store

    def cluster_role_rules(self, name: str) -> tuple[Rule, ...]:
        """A ClusterRole's rules, aggregated ones included (empty when there is no such role)."""
        return self._current()[0].cluster_roles.get(name, ())

    def rules_for(self, user: UserInfo, namespace: str) -> tuple[tuple[Rule, ...], tuple[str, ...]]:
        """Every rule that applies to ``user`` in ``namespace`` ("" for cluster scope), with each rule's source."""
        compiled, generation = self._current()
        key = (user.name, user.groups, namespace)
        with self._lock:
            hit = self._rules.get(key) if generation == self._generation else None
        if hit is not None:
            return hit
        rules: list[Rule] = []
        sources: list[str] = []
        for grant in compiled.cluster + (compiled.namespaced.get(namespace, []) if namespace else []):
            subject = grant.subject_for(user)
            if subject is not None:
                rules.extend(grant.rules)
                sources.extend([f"{grant.source} to {subject}"] * len(grant.rules))
        result = (tuple(rules), tuple(sources))
        with self._lock:
            if generation == self._generation:
                if len(self._rules) >= _CACHE_LIMIT:
                    self._rules.clear()
                self._rules[key] = result
        return result

    def authorize(self, user: UserInfo, attrs: Attributes) -> tuple[bool, str]:
        """Return (allowed, reason) for ``attrs``; the reason names the allowing binding, as RBAC's does."""
        rules, sources = self.rules_for(user, attrs.namespace if attrs.resource_request else "")
        for rule, source in zip(rules, sources, strict=False):
            if rule.allows(attrs):
                return True, f"RBAC: allowed by {source}"
        return False, ""
