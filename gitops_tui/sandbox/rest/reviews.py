"""Create-only virtual resources: SelfSubject{Access,Rules}Review, SelfSubjectReview and TokenRequest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gitops_tui.sandbox.serving.authn import UserInfo
from gitops_tui.sandbox.serving.authz import AccessGate
from gitops_tui.sandbox.serving.common import ApiRequest, Response
from gitops_tui.sandbox.serving.errors import ApiError, bad_request, invalid, not_found
from gitops_tui.sandbox.serving.query import decode_body
from gitops_tui.sandbox.serving.rbac import Attributes
from gitops_tui.sandbox.serving.routing import ResourceRoute
from gitops_tui.sandbox.serving.sa_tokens import BOUND_ISSUER, DEFAULT_EXPIRATION, MAX_EXPIRATION, MIN_EXPIRATION

AUTHZ = "authorization.k8s.io"
AUTHN = "authentication.k8s.io"


@dataclass(frozen=True)
class _Kind:
    """The group, plural and kind an Invalid error names."""

    group: str
    plural: str
    kind: str


ACCESS_REVIEW = _Kind(AUTHZ, "selfsubjectaccessreviews", "SelfSubjectAccessReview")
TOKEN_REQUEST = _Kind(AUTHN, "tokenrequests", "TokenRequest")
#: (group, plural, subresource) of every request answered here.
SERVED = frozenset({(AUTHZ, "selfsubjectaccessreviews", ""), (AUTHZ, "selfsubjectrulesreviews", ""),
                    (AUTHN, "selfsubjectreviews", ""), ("", "serviceaccounts", "token")})


def serves(route: ResourceRoute) -> bool:
    """Whether ``route`` is one of the virtual resources answered by Reviews."""
    return (route.group, route.plural, route.subresource) in SERVED


def _body(req: ApiRequest) -> dict[str, Any]:
    """The request's object (JSON, YAML or the protobuf kubectl sends); an empty body is an empty object."""
    if not req.body.strip():
        return {}
    return decode_body(req.body, req.header("Content-Type") or "application/json")


def _spec(body: dict[str, Any]) -> dict[str, Any]:
    spec = body.get("spec") or {}
    if not isinstance(spec, dict):
        raise bad_request("spec must be an object")
    return spec


class Reviews:
    """Answers the review and TokenRequest resources for the user of each request."""

    def __init__(self, gate: AccessGate) -> None:
        self.gate = gate

    def handle(self, route: ResourceRoute, req: ApiRequest) -> Response:
        """Answer one POST (any other method is 405, as for every create-only resource)."""
        if req.method != "POST" or route.watch_path or (route.name and route.plural != "serviceaccounts"):
            raise ApiError(405, "the server does not allow this method on the requested resource", "MethodNotAllowed")
        user: UserInfo | None = req.user
        if user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        body = _body(req)
        if route.plural == "serviceaccounts":
            return self._token_request(route, body)
        head: dict[str, Any] = {"apiVersion": route.group_version, "metadata": {"creationTimestamp": None}}
        if route.plural == "selfsubjectreviews":
            return Response(201, {"kind": "SelfSubjectReview", **head, "status": {"userInfo": user.as_dict()}})
        spec = _spec(body)
        if route.plural == "selfsubjectaccessreviews":
            status = self._access(user, spec)
            return Response(201, {"kind": "SelfSubjectAccessReview", **head, "spec": spec, "status": status})
        status = self._rules(user, spec)
        return Response(201, {"kind": "SelfSubjectRulesReview", **head, "spec": spec, "status": status})

    def _access(self, user: UserInfo, spec: dict[str, Any]) -> dict[str, Any]:
        resource, non_resource = spec.get("resourceAttributes") or {}, spec.get("nonResourceAttributes") or {}
        if bool(resource) == bool(non_resource):
            raise invalid(ACCESS_REVIEW, "", [{
                "reason": "FieldValueRequired", "field": "spec.resourceAttributes",
                "message": "Required value: exactly one of nonResourceAttributes or resourceAttributes "
                           "must be specified"}])
        if resource:
            attrs = Attributes(str(resource.get("verb") or ""), True, namespace=str(resource.get("namespace") or ""),
                               group=str(resource.get("group") or ""), version=str(resource.get("version") or ""),
                               resource=str(resource.get("resource") or ""),
                               subresource=str(resource.get("subresource") or ""),
                               name=str(resource.get("name") or ""))
        else:
            attrs = Attributes(str(non_resource.get("verb") or ""), False, path=str(non_resource.get("path") or ""))
        allowed, reason = self.gate.can(user, attrs)
        status: dict[str, Any] = {"allowed": allowed}
        if reason:
            status["reason"] = reason
        return status

    def _rules(self, user: UserInfo, spec: dict[str, Any]) -> dict[str, Any]:
        namespace = str(spec.get("namespace") or "")
        rules = self.gate.rules(user, namespace)
        return {"resourceRules": [r.as_resource_rule() for r in rules if not r.urls],
                "nonResourceRules": [r.as_non_resource_rule() for r in rules if r.urls],
                "incomplete": False}

    def _token_request(self, route: ResourceRoute, body: dict[str, Any]) -> Response:
        spec = _spec(body)
        namespace, name = route.namespace or "", route.name or ""
        account = self.gate.store.get("", "serviceaccounts", namespace, name)
        if account is None:
            raise not_found("", "serviceaccounts", name)
        seconds = spec.get("expirationSeconds")
        seconds = DEFAULT_EXPIRATION if seconds is None else seconds
        if not isinstance(seconds, int) or seconds < MIN_EXPIRATION:
            raise invalid(TOKEN_REQUEST, name, [{
                "reason": "FieldValueInvalid", "field": "spec.expirationSeconds",
                "message": f"Invalid value: {seconds}: may not specify a duration less than 10 minutes"}])
        seconds = min(seconds, MAX_EXPIRATION)
        audiences = [str(a) for a in spec.get("audiences") or [] if a] or None
        uid = str((account.get("metadata") or {}).get("uid") or "")
        token, expires = self.gate.signer.bound_token(namespace, name, uid, seconds, audiences)
        answer = {
            "kind": "TokenRequest", "apiVersion": f"{AUTHN}/v1",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
            "spec": {"audiences": audiences or [BOUND_ISSUER], "expirationSeconds": seconds,
                     "boundObjectRef": spec.get("boundObjectRef")},
            "status": {"token": token,
                       "expirationTimestamp": datetime.fromtimestamp(expires, UTC).strftime(
                           "%Y-%m-%dT%H:%M:%SZ")},
        }
        return Response(201, answer)
