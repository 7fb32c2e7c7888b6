"""Authentication as kube-apiserver does it: the cluster's admin token and ServiceAccount tokens."""

from __future__ import annotations

import base64
import hmac
import threading
import time
from dataclasses import dataclass, field

from gitops_tui.sandbox.serving.sa_tokens import BOUND_ISSUER, Signer, TokenClaims, service_account_user
from gitops_tui.sandbox.storage.store import Store

#: Group every user is in, and the group whose members may do anything (kube-apiserver's names).
AUTHENTICATED = "system:authenticated"
MASTERS = "system:masters"
SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token"
SA_NAME_ANNOTATION = "kubernetes.io/service-account.name"
SA_UID_ANNOTATION = "kubernetes.io/service-account.uid"
#: Verified tokens kept per store generation (a token is checked once, not on every request).
_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class UserInfo:
    """Who sends a request: name, uid, groups and extra values (kube's user.Info)."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def privileged(self) -> bool:
        """True for system:masters members: allowed everything, as kube-apiserver's privileged group."""
        return MASTERS in self.groups

    def as_dict(self) -> dict[str, object]:
        """The authentication.k8s.io/v1 UserInfo of this user."""
        body: dict[str, object] = {"username": self.name}
        if self.uid:
            body["uid"] = self.uid
        body["groups"] = list(self.groups)
        if self.extra:
            body["extra"] = {key: list(values) for key, values in self.extra}
        return body


#: The user of the cluster's static admin token (as kubeadm's admin.conf user, in system:masters).
ADMIN = UserInfo("sandbox-admin", groups=(MASTERS, AUTHENTICATED))


class ChangeWatch:
    """Counts the changes to some resource types, read from the store's newest revision of each type."""

    def __init__(self, store: Store, keys: tuple[tuple[str, str], ...]) -> None:
        self._store = store
        self._keys = frozenset(keys)
        self._seen = store.revision
        self._lock = threading.Lock()
        self.generation = 0

    def current(self) -> int:
        """Return a number that grows whenever an object of the watched types was written.

        The store is read without this watch's lock held: a writer holding the store's lock may ask (an RBAC check
        inside a write), and the two locks must never be taken in both orders.
        """
        revision = self._store.revision
        if revision == self._seen:
            return self.generation
        with self._lock:
            seen = self._seen
        if revision == seen:
            return self.generation
        changed = self._store.changed_since(seen, self._keys)
        with self._lock:
            if self._seen == seen:
                self._seen = revision
                if changed:
                    self.generation += 1
            elif changed:
                self.generation += 1  # another thread moved on meanwhile: never miss a change
        return self.generation


def service_account_groups(namespace: str) -> tuple[str, ...]:
    """The groups of every ServiceAccount of ``namespace``."""
    return ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED)


class Authenticator:
    """Maps a request's bearer token to a user: the admin token, or a live ServiceAccount's token."""

    def __init__(self, store: Store, admin_token: str, signer: Signer) -> None:
        self._store = store
        self._admin = admin_token.encode()
        self.signer = signer
        self._changes = ChangeWatch(store, (("", "secrets"), ("", "serviceaccounts")))
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[UserInfo, int]] = {}
        self._cache_generation = 0

    def authenticate(self, authorization: str) -> UserInfo | None:
        """Return the user of an ``Authorization`` header value, or None (then the answer is 401)."""
        scheme, _, given = authorization.partition(" ")
        token = given.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if hmac.compare_digest(token.encode(), self._admin):
            return ADMIN
        if token.count(".") != 2:
            return None
        generation = self._changes.current()
        with self._lock:
            if generation != self._cache_generation:
                self._cache.clear()
                self._cache_generation = generation
            hit = self._cache.get(token)
        if hit is not None:
            user, expires = hit
            return user if not expires or expires > time.time() else None
        claims = self.signer.verify(token)
        account_user = self._service_account_user(token, claims) if claims is not None else None
        if account_user is not None:
            with self._lock:
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                if generation == self._cache_generation:
                    self._cache[token] = (account_user, claims.expires if claims else 0)
        return account_user

    def _service_account_user(self, token: str, claims: TokenClaims) -> UserInfo | None:
        """The ServiceAccount user of verified claims, when the account (and its Secret) still exist."""
        account = self._store.get("", "serviceaccounts", claims.namespace, claims.name)
        meta = (account or {}).get("metadata") or {}
        if account is None or meta.get("uid") != claims.uid or meta.get("deletionTimestamp"):
            return None
        extra: tuple[tuple[str, tuple[str, ...]], ...] = ()
        if claims.legacy:
            if not self._secret_holds(token, claims):
                return None
        else:
            if BOUND_ISSUER not in claims.audiences:
                return None
            if claims.credential_id:
                extra = (("authentication.kubernetes.io/credential-id", (f"JTI={claims.credential_id}",)),)
        return UserInfo(service_account_user(claims.namespace, claims.name), claims.uid,
                        service_account_groups(claims.namespace), extra)

    def _secret_holds(self, token: str, claims: TokenClaims) -> bool:
        """A legacy token is valid while its Secret exists, names the account and holds this very token."""
        secret = self._store.get("", "secrets", claims.namespace, claims.secret)
        if secret is None or secret.get("type") != SERVICE_ACCOUNT_TOKEN_TYPE:
            return False
        meta = secret.get("metadata") or {}
        if meta.get("deletionTimestamp") or (meta.get("annotations") or {}).get(SA_NAME_ANNOTATION) != claims.name:
            return False
        stored = (secret.get("data") or {}).get("token")
        if not stored:
            return False
        try:
            return hmac.compare_digest(base64.b64decode(stored), token.encode())
        except (ValueError, TypeError):
            return False
