"""Impersonation headers, as kube-apiserver's WithImpersonation filter reads and authorizes them.

``Impersonate-User`` (a ServiceAccount's ``system:serviceaccount:NS:NAME`` or any user name),
``Impersonate-Group`` (repeated), ``Impersonate-Uid`` and ``Impersonate-Extra-<key>`` each need the
``impersonate`` verb on ``users``, ``serviceaccounts`` (in the account's namespace), ``groups``,
``uids`` or ``userextras/<key>``; then the request is made, and authorized, as the impersonated user
(apiserver ``pkg/endpoints/filters/impersonation.go``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from gitops_tui.sandbox.serving.authn import AUTHENTICATED, UserInfo, service_account_groups
from gitops_tui.sandbox.serving.errors import ApiError
from gitops_tui.sandbox.serving.rbac import Attributes

USER_HEADER = "Impersonate-User"
GROUP_HEADER = "Impersonate-Group"
UID_HEADER = "Impersonate-Uid"
EXTRA_PREFIX = "impersonate-extra-"
AUTHN_GROUP = "authentication.k8s.io"
SA_PREFIX = "system:serviceaccount:"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"


@dataclass(frozen=True)
class Request:
    """One thing asked for (kube's ObjectReference of an impersonation request)."""

    kind: str  # ServiceAccount, User, Group, UserExtra, UID
    name: str
    namespace: str = ""
    field: str = ""  # the extra's key

    def go_value(self) -> str:
        """The reference as Go's %v prints a v1.ObjectReference (for the 500's message)."""
        api_version = AUTHN_GROUP + "/v1" if self.kind in ("UserExtra", "UID") else ""
        return "{" + " ".join([self.kind, self.namespace, self.name, "", api_version, "", self.field]) + "}"

    def attributes(self) -> Attributes:
        """What the impersonator must be allowed: the impersonate verb on this user, account, group, uid or extra."""
        if self.kind == "ServiceAccount":
            return Attributes("impersonate", True, namespace=self.namespace, resource="serviceaccounts",
                              version="v1", name=self.name)
        if self.kind in ("User", "Group"):
            return Attributes("impersonate", True, resource="users" if self.kind == "User" else "groups",
                              version="v1", name=self.name)
        if self.kind == "UserExtra":
            return Attributes("impersonate", True, group=AUTHN_GROUP, version="v1", resource="userextras",
                              subresource=self.field, name=self.name)
        return Attributes("impersonate", True, group=AUTHN_GROUP, version="v1", resource="uids", name=self.name)


class PlainError(ApiError):
    """A 500 kube-apiserver answers as plain text (responsewriters.InternalError), not as a Status."""

    content_type = "text/plain; charset=utf-8"

    def encoded(self) -> bytes:
        """The text body, with the trailing newline http.Error adds."""
        return (self.message + "\n").encode("utf-8")


def _split_service_account(user: str) -> tuple[str, str] | None:
    """(namespace, name) of ``system:serviceaccount:NS:NAME``, else None (serviceaccount.SplitUsername)."""
    if not user.startswith(SA_PREFIX):
        return None
    parts = user[len(SA_PREFIX):].split(":")
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


def _all(headers: Mapping[str, str], name: str) -> list[str]:
    getter = getattr(headers, "get_all", None)
    values = getter(name) if getter is not None else ([headers[name]] if name in headers else [])
    return [str(v) for v in values or []]


def requests_of(headers: Mapping[str, str], uri: str) -> list[Request]:
    """The impersonation asked for by ``headers`` (buildImpersonationRequests); a 500 for groups without a user."""
    out: list[Request] = []
    user = (_all(headers, USER_HEADER) or [""])[0]
    if user:
        account = _split_service_account(user)
        out.append(Request("ServiceAccount", account[1], account[0]) if account else Request("User", user))
    groups = [Request("Group", g) for g in _all(headers, GROUP_HEADER)]
    out += groups
    items = headers.items() if hasattr(headers, "items") else []
    extras = [Request("UserExtra", str(value), field=unquote(str(key)[len(EXTRA_PREFIX):].lower()))
              for key, value in items if str(key).lower().startswith(EXTRA_PREFIX)]
    out += extras
    uid = (_all(headers, UID_HEADER) or [""])[0]
    if uid:
        out.append(Request("UID", uid))
    if (groups or extras or uid) and not user:
        listed = "[" + " ".join(r.go_value() for r in out) + "]"
        raise PlainError(500, f'Internal Server Error: "{uri}": requested {listed} without impersonating a user', "")
    return out


def impersonate(requestor: UserInfo, headers: Mapping[str, str], uri: str,
                allowed: Callable[[UserInfo, Attributes], bool],
                forbidden: Callable[[UserInfo, Attributes], ApiError]) -> UserInfo:
    """The user a request acts as: ``requestor`` itself, or the impersonated user once each part is authorized."""
    asked = requests_of(headers, uri)
    if not asked:
        return requestor
    groups_given = bool(_all(headers, GROUP_HEADER))
    name, uid, groups = "", "", []
    extra: dict[str, list[str]] = {}
    for request in asked:
        attrs = request.attributes()
        if not allowed(requestor, attrs):
            raise forbidden(requestor, attrs)
        if request.kind == "ServiceAccount":
            name = f"{SA_PREFIX}{request.namespace}:{request.name}"
            if not groups_given:
                groups = [g for g in service_account_groups(request.namespace) if g != AUTHENTICATED]
        elif request.kind == "User":
            name = request.name
        elif request.kind == "Group":
            groups.append(request.name)
        elif request.kind == "UserExtra":
            extra.setdefault(request.field, []).append(request.name)
        else:
            uid = request.name
    if name != ANONYMOUS:
        if not any(g in (AUTHENTICATED, UNAUTHENTICATED) for g in groups):
            groups.append(AUTHENTICATED)
    elif UNAUTHENTICATED not in groups:
        groups.append(UNAUTHENTICATED)
    extras: tuple[tuple[str, tuple[str, ...]], ...] = tuple((k, tuple(v)) for k, v in extra.items())
    return UserInfo(name, uid, tuple(groups), extras)


def has_impersonation(headers: Any) -> bool:
    """Whether any impersonation header is present (the common case answers False at once)."""
    keys = headers.keys() if hasattr(headers, "keys") else []
    return any(str(k).lower().startswith("impersonate-") for k in keys)
