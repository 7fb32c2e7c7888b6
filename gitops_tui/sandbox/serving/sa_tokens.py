"""ServiceAccount tokens as kube-apiserver makes them: ES256-signed JWTs with its claims, and their checking."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

#: The issuer of Secret-based (legacy) tokens, as kube-controller-manager writes it.
LEGACY_ISSUER = "kubernetes/serviceaccount"
#: The issuer and default audience of TokenRequest (bound) tokens, as a default kube-apiserver has them.
BOUND_ISSUER = "https://kubernetes.default.svc.cluster.local"
#: Default and largest lifetime of a TokenRequest token, in seconds (kube-apiserver's defaults).
DEFAULT_EXPIRATION = 3600
MAX_EXPIRATION = 48 * 3600
MIN_EXPIRATION = 600
_LEGACY = "kubernetes.io/serviceaccount/"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def service_account_user(namespace: str, name: str) -> str:
    """The user name of a ServiceAccount: system:serviceaccount:NS:NAME."""
    return f"system:serviceaccount:{namespace}:{name}"


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says: the ServiceAccount, how it is bound, and when it ends."""

    namespace: str
    name: str
    uid: str
    secret: str = ""  # legacy tokens: the Secret that holds it
    expires: int = 0  # bound tokens: Unix seconds
    credential_id: str = ""  # bound tokens: the JWT id
    audiences: tuple[str, ...] = ()  # bound tokens: who may accept it

    @property
    def legacy(self) -> bool:
        """True for a Secret-based token (no expiry, revoked by deleting its Secret)."""
        return bool(self.secret)


class Signer:
    """The sandbox cluster's ServiceAccount signing key: signs and verifies tokens."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self._public = key.public_key()
        der = self._public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.key_id = _b64(hashlib.sha256(der).digest())

    @classmethod
    def load_or_create(cls, path: Path) -> Signer:
        """Read the key at ``path`` (PEM), or make one there with mode 0600."""
        path = Path(path)
        if not path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
            try:
                os.link(tmp, path)  # atomic, and never replaces a key another process wrote first
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} is not an EC private key")
        return cls(loaded)

    def sign(self, claims: dict[str, Any]) -> str:
        """Return the compact JWS of ``claims``."""
        header = {"alg": "ES256", "kid": self.key_id}
        signing_input = f"{_b64(json.dumps(header, separators=(',', ':')).encode())}." \
                        f"{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
        der = self._key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def legacy_token(self, namespace: str, name: str, uid: str, secret: str) -> str:
        """A never-expiring token for a ``kubernetes.io/service-account-token`` Secret (the token controller's)."""
        return self.sign({
            "iss": LEGACY_ISSUER,
            _LEGACY + "namespace": namespace,
            _LEGACY + "secret.name": secret,
            _LEGACY + "service-account.name": name,
            _LEGACY + "service-account.uid": uid,
            "sub": service_account_user(namespace, name),
        })

    def bound_token(self, namespace: str, name: str, uid: str, seconds: int,
                    audiences: list[str] | None = None) -> tuple[str, int]:
        """A TokenRequest token valid ``seconds``; return it and its expiry (Unix seconds)."""
        now = int(time.time())
        expires = now + seconds
        claims = {
            "aud": audiences or [BOUND_ISSUER],
            "exp": expires,
            "iat": now,
            "iss": BOUND_ISSUER,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
            "nbf": now,
            "sub": service_account_user(namespace, name),
        }
        return self.sign(claims), expires

    def verify(self, token: str) -> TokenClaims | None:
        """Return the claims of a token this key signed and that has not expired, else None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            header = json.loads(_unb64(parts[0]))
            signature = _unb64(parts[2])
            if header.get("alg") != "ES256" or len(signature) != 64:
                return None
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            self._public.verify(der, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, InvalidSignature, UnicodeError, AttributeError):
            return None
        return _claims(claims) if isinstance(claims, dict) else None


def _names(*values: object) -> list[str] | None:
    """The values when every one is a non-empty string (a claim's name), else None."""
    names = [value for value in values if isinstance(value, str) and value]
    return names if len(names) == len(values) else None


def _claims(claims: dict[str, Any]) -> TokenClaims | None:
    """Read a verified token's claims (legacy or bound); None when malformed or expired."""
    if claims.get("iss") == LEGACY_ISSUER:
        values = _names(*(claims.get(_LEGACY + key) for key in ("namespace", "service-account.name",
                                                                "service-account.uid", "secret.name")))
        if values is None:
            return None
        return TokenClaims(values[0], values[1], values[2], secret=values[3])
    if claims.get("iss") != BOUND_ISSUER:
        return None
    bound = claims.get("kubernetes.io")
    if not isinstance(bound, dict):
        return None
    account = bound.get("serviceaccount")
    expires = claims.get("exp")
    if not isinstance(account, dict) or not isinstance(expires, int) or expires <= time.time():
        return None
    names = _names(bound.get("namespace"), account.get("name"), account.get("uid"))
    if names is None:
        return None
    namespace, name, uid = names
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else audiences if isinstance(audiences, list) else []
    return TokenClaims(namespace, name, uid, expires=expires, credential_id=str(claims.get("jti") or ""),
                       audiences=tuple(str(a) for a in audiences))
