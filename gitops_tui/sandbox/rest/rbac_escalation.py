"""RBAC inside writes: privilege-escalation prevention, as kube-apiserver's RBAC storage wrappers enforce it, and
the ``create`` check of a server-side apply that creates its object.

Writing a Role or ClusterRole needs every permission it grants (in its namespace), or the ``escalate`` verb
on it; writing a RoleBinding or ClusterRoleBinding needs every permission of the role it references (in the
binding's namespace), or the ``bind`` verb on that role (kubernetes ``pkg/registry/rbac``: the policybased
storages, ``escalation_check.go``, ``validation/rule.go`` ``ConfirmNoEscalation`` and
``component-helpers/auth/rbac/validation`` ``Covers``). ``system:masters`` is never checked. A refusal is
kube-apiserver's 403, word for word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_tui.sandbox.serving.authn import UserInfo
from gitops_tui.sandbox.serving.errors import ApiError, internal, not_found
from gitops_tui.sandbox.serving.rbac import GROUP, Attributes, RbacAuthorizer, Rule
from gitops_tui.util.fields import dict_field

ROLE_KINDS = frozenset({"roles", "clusterroles"})
BINDING_KINDS = frozenset({"rolebindings", "clusterrolebindings"})
#: What may set an aggregationRule: everything (clusterrole/policybased/storage.go ``fullAuthority``).
_FULL_AUTHORITY = ({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}, {"verbs": ["*"], "nonResourceURLs": ["*"]})
#: Metadata the garbage collector changes; an update touching only these is never checked (IsOnlyMutatingGCFields).
_GC_FIELDS = ("ownerReferences", "finalizers", "selfLink", "managedFields", "resourceVersion")


@dataclass(frozen=True)
class PolicyRule:
    """One PolicyRule with its lists in written order (messages follow it)."""

    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Any) -> PolicyRule:
        """Read a PolicyRule mapping (anything else reads as an empty rule)."""
        raw = raw if isinstance(raw, dict) else {}

        def strings(key: str) -> tuple[str, ...]:
            value = raw.get(key)
            return tuple(str(v) for v in value if isinstance(v, str)) if isinstance(value, list) else ()

        return cls(strings("verbs"), strings("apiGroups"), strings("resources"), strings("resourceNames"),
                   strings("nonResourceURLs"))

    @classmethod
    def of(cls, rule: Rule) -> PolicyRule:
        """A compiled rule (sets) as a PolicyRule, its lists sorted."""
        return cls(tuple(sorted(rule.verbs)), tuple(sorted(rule.api_groups)), tuple(sorted(rule.resources)),
                   tuple(sorted(rule.resource_names)), tuple(sorted(rule.urls)))

    def compact_string(self) -> str:
        """``{APIGroups:["*"], Resources:["*"], Verbs:["*"]}`` (rbac v1 helpers' CompactString)."""
        parts = [f"{label}:{_go_quoted(values)}" for label, values in (
            ("APIGroups", self.api_groups), ("Resources", self.resources), ("NonResourceURLs", self.urls),
            ("ResourceNames", self.resource_names), ("Verbs", self.verbs)) if values]
        return "{" + ", ".join(parts) + "}"


def _go_quote(text: str) -> str:
    """Go's %q of one string (strconv.Quote) for the printable text of names."""
    out = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif not char.isprintable():
            out.append(f"\\x{ord(char):02x}" if ord(char) < 0x80 else f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _go_quoted(values: tuple[str, ...]) -> str:
    """Go's %q of a string slice: ``["a" "b"]``."""
    return "[" + " ".join(_go_quote(v) for v in values) + "]"


def breakdown(rule: PolicyRule) -> list[PolicyRule]:
    """The rule as atomic rules of one group, resource, verb and name each (validation.BreakdownRule)."""
    out: list[PolicyRule] = []
    for group in rule.api_groups:
        for resource in rule.resources:
            for verb in rule.verbs:
                if rule.resource_names:
                    out.extend(PolicyRule((verb,), (group,), (resource,), (name,)) for name in rule.resource_names)
                else:
                    out.append(PolicyRule((verb,), (group,), (resource,)))
    out.extend(PolicyRule((verb,), urls=(url,)) for url in rule.urls for verb in rule.verbs)
    return out


def _resources_cover(owned: frozenset[str], wanted: tuple[str, ...]) -> bool:
    if "*" in owned or all(r in owned for r in wanted):
        return True
    for path in wanted:
        if path in owned:
            continue
        if "/" not in path or f"*/{path.split('/', 1)[1]}" not in owned:
            return False
    return True


def _url_covers(owner: str, path: str) -> bool:
    return owner == path or (owner.endswith("*") and path.startswith(owner.rstrip("*")))


def rule_covers(owner: Rule, sub: PolicyRule) -> bool:
    """Whether ``owner`` covers the atomic rule ``sub`` (validation.ruleCovers)."""
    verbs = "*" in owner.verbs or all(v in owner.verbs for v in sub.verbs)
    groups = "*" in owner.api_groups or all(g in owner.api_groups for g in sub.api_groups)
    urls = all(any(_url_covers(o, path) for o in owner.urls) for path in sub.urls)
    if not sub.resource_names:
        names = not owner.resource_names
    else:
        names = not owner.resource_names or all(n in owner.resource_names for n in sub.resource_names)
    return verbs and groups and _resources_cover(owner.resources, sub.resources) and names and urls


def missing_rules(owned: tuple[Rule, ...], wanted: list[PolicyRule]) -> list[PolicyRule]:
    """The atomic rules of ``wanted`` no rule of ``owned`` covers (validation.Covers)."""
    return [sub for rule in wanted for sub in breakdown(rule) if not any(rule_covers(o, sub) for o in owned)]


def compact(rules: list[PolicyRule]) -> list[PolicyRule]:
    """Merge rules of one group and one resource that differ only by verb (validation.CompactRules)."""
    out: list[PolicyRule] = []
    simple: dict[tuple[str, str], list[str]] = {}
    for rule in rules:
        if len(rule.api_groups) == 1 and len(rule.resources) == 1 and not rule.resource_names and not rule.urls:
            simple.setdefault((rule.api_groups[0], rule.resources[0]), []).extend(rule.verbs)
        else:
            out.append(rule)
    out.extend(PolicyRule(tuple(verbs), (group,), (resource,)) for (group, resource), verbs in simple.items())
    return out


def escalation_message(user: UserInfo, missing: list[PolicyRule]) -> str:
    """ConfirmNoEscalation's words: the user, its groups and the rules it does not hold, one per line, sorted."""
    described = sorted({rule.compact_string() for rule in compact(missing)})
    return (f"user {_go_quote(user.name)} (groups={_go_quoted(user.groups)}) is attempting to grant RBAC "
            "permissions not currently held:\n" + "\n".join(described))


def forbidden(plural: str, name: str, message: str) -> ApiError:
    """errors.NewForbidden on an RBAC resource: '<plural>.rbac.authorization.k8s.io "<name>" is forbidden: ...'."""
    return ApiError(403, f'{plural}.{GROUP} "{name}" is forbidden: {message}', "Forbidden",
                    {"name": name, "group": GROUP, "kind": plural})


class EscalationGuard:
    """Refuses RBAC writes that would grant more than their writer holds (kube-apiserver's RBAC storages)."""

    def __init__(self, rbac: RbacAuthorizer) -> None:
        self.rbac = rbac

    def check(self, plural: str, namespace: str, name: str, user: UserInfo | None, new: dict[str, Any],
              old: dict[str, Any] | None = None) -> None:
        """Raise the 403 of a write of ``new`` (over ``old``) to an RBAC resource that escalates; else return."""
        if user is None or user.privileged or (plural not in ROLE_KINDS and plural not in BINDING_KINDS):
            return
        if old is not None and _only_gc_fields(new, old):
            return
        if plural in ROLE_KINDS:
            self._check_role(plural, namespace, name, user, new, old)
        else:
            self._check_binding(plural, namespace, name, user, new)

    def _allowed(self, user: UserInfo, attrs: Attributes) -> bool:
        return self.rbac.authorize(user, attrs)[0]

    def _confirm(self, user: UserInfo, namespace: str, rules: list[PolicyRule], plural: str, name: str) -> None:
        missing = missing_rules(self.rbac.rules_for(user, namespace)[0], rules)
        if missing:
            raise forbidden(plural, name, escalation_message(user, missing))

    def _check_role(self, plural: str, namespace: str, name: str, user: UserInfo, new: dict[str, Any],
                    old: dict[str, Any] | None) -> None:
        # RoleEscalationAuthorized: the escalate verb on this role (by the request's name and namespace).
        if self._allowed(user, Attributes("escalate", True, namespace=namespace, group=GROUP, version="*",
                                          resource=plural, name=name)):
            return
        self._confirm(user, namespace, [PolicyRule.parse(r) for r in new.get("rules") or []], plural, name)
        if plural == "clusterroles" and (_aggregates(new) or _aggregates(old)):
            if missing_rules(self.rbac.rules_for(user, namespace)[0], [PolicyRule.parse(r) for r in _FULL_AUTHORITY]):
                raise forbidden(plural, name, "must have cluster-admin privileges to use the aggregationRule")

    def _check_binding(self, plural: str, namespace: str, name: str, user: UserInfo, new: dict[str, Any]) -> None:
        ref = dict_field(new, "roleRef")
        kind, role = str(ref.get("kind") or ""), str(ref.get("name") or "")
        resource = {"ClusterRole": "clusterroles", "Role": "roles"}.get(kind)
        # BindingAuthorized: the bind verb on the referenced role, in the binding's namespace.
        if resource is not None and self._allowed(user, Attributes(
                "bind", True, namespace=namespace, group=str(ref.get("apiGroup") or ""), resource=resource, name=role)):
            return
        if resource is None:
            raise internal(f"unsupported role reference kind: {_go_quote(kind)}")
        rules = self.role_rules(resource, namespace, role)
        self._confirm(user, namespace, rules, plural, name)

    def role_rules(self, resource: str, namespace: str, name: str) -> list[PolicyRule]:
        """The rules of a referenced role as stored (aggregated ClusterRoles: as aggregation makes them); 404 if absent."""
        store = self.rbac.store
        stored = store.get(GROUP, resource, namespace if resource == "roles" else "", name)
        if stored is None:
            raise not_found(GROUP, resource, name)
        if resource == "clusterroles" and _aggregates(stored):
            return [PolicyRule.of(r) for r in self.rbac.cluster_role_rules(name)]
        return [PolicyRule.parse(r) for r in stored.get("rules") or []]


def check_write(guard: EscalationGuard | None, rt: Any, new: dict[str, Any], old: dict[str, Any] | None,
                user: UserInfo | None) -> None:
    """Refuse a write of ``new`` (over ``old``) of resource type ``rt`` that escalates; a no-op for other kinds."""
    if guard is not None and rt.group == GROUP:
        meta = new.get("metadata") or {}
        guard.check(rt.plural, str(meta.get("namespace") or ""), str(meta.get("name") or ""), user, new, old)


def check_apply_create(guard: EscalationGuard | None, rt: Any, namespace: str, name: str,
                       user: UserInfo | None) -> None:
    """A server-side apply that creates its object is authorized as a ``create`` of that name too (the patch
    handler's createAuthorizerAttributes); the 403 has RBAC's empty reason, as kube-apiserver writes it."""
    if guard is None or user is None or user.privileged:
        return
    attrs = Attributes("create", True, namespace=namespace, group=rt.group, version=rt.version, resource=rt.plural,
                       name=name)
    if not guard.rbac.authorize(user, attrs)[0]:
        qualified = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
        details = {"name": name, "group": rt.group, "kind": rt.plural} if rt.group else {"name": name, "kind": rt.plural}
        raise ApiError(403, f'{qualified} "{name}" is forbidden: ', "Forbidden", details)


def _aggregates(role: dict[str, Any] | None) -> bool:
    rule = (role or {}).get("aggregationRule")
    return isinstance(rule, dict) and bool(rule.get("clusterRoleSelectors"))


def _only_gc_fields(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """Whether ``new`` differs from ``old`` only in what the garbage collector changes (IsOnlyMutatingGCFields)."""

    def without(obj: dict[str, Any]) -> dict[str, Any]:
        meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _GC_FIELDS}
        return {**obj, "metadata": meta}

    return without(new) == without(old)
