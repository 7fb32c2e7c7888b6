"""Decrypt SOPS files (YAML and JSON, AES-256-GCM values, the data key wrapped for age recipients) and check the MAC.

As sops (getsops/sops: ``sops.go`` Tree.Decrypt, ``aes/cipher.go``, ``stores/``) defines them: every value whose
path sops's rules (``unencrypted_suffix``, default ``_unencrypted``; ``encrypted_suffix``; ``unencrypted_regex``;
``encrypted_regex``) say is encrypted is ``ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]``, sealed with the file's
32-byte data key and the value's key path (``a:b:``) as additional data. The data key is an age file per recipient
(``sops.age[].enc``), opened with the age identities of the decryption Secret (pyrage). The MAC is SHA-512 over the
plaintext of every value in document order (only the encrypted ones, seeded, with ``mac_only_encrypted``), stored
encrypted with the data key and ``lastmodified`` as additional data: a mismatch refuses the file, as ``sops
decrypt`` does. YAML scalars are read as sops's YAML library reads them (YAML 1.2: ``yes`` is a string), so the
MAC of unencrypted values matches. Messages never quote a value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pyrage
import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAX_FILE_BYTES = 5 * 1024 * 1024  # kustomize-controller's maxEncryptedFileSize
MAX_NODES = 1_000_000
_ENC = re.compile(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]")
#: sha256("sops"): the MAC's seed with mac_only_encrypted (sops.MACOnlyEncryptedInitialization).
_MAC_ONLY_SEED = hashlib.sha256(b"sops").digest()
_PLAIN = "!gitops-tui/plain"
_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_SPECIAL_FLOATS = {".nan": float("nan"), ".NaN": float("nan"), ".NAN": float("nan"), ".inf": float("inf"),
                   ".Inf": float("inf"), ".INF": float("inf"), "+.inf": float("inf"), "+.Inf": float("inf"),
                   "+.INF": float("inf"), "-.inf": float("-inf"), "-.Inf": float("-inf"), "-.INF": float("-inf")}
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}([Tt ]\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$")
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_BOOL_TEXT = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
              "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


class SopsError(Exception):
    """A SOPS file that cannot be decrypted or fails its MAC; ``message`` is one sentence and quotes no value."""

    def __init__(self, message: str) -> None:
        """Record the sentence."""
        super().__init__(message)
        self.message = message


@dataclass
class SopsDocument:
    """A parsed SOPS file: its documents (the ``sops`` key removed) and the metadata of the first one."""

    branches: list[dict[str, Any]]
    metadata: dict[str, Any]
    json: bool = False


def is_sops(text: str, json_format: bool) -> bool:
    """Whether ``text`` carries sops's marker (kustomize-controller's check: the encrypted MAC)."""
    return ('"mac": "ENC[' in text) if json_format else ("mac: ENC[" in text)


# -- reading, as sops's stores read -------------------------------------------------------------------------------

class _PlainResolver(yaml.resolver.BaseResolver):
    """Marks plain scalars, so they are resolved as sops's YAML library (yaml.v3) resolves them."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN
        return str(super().resolve(kind, value, implicit))


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer,
              yaml.constructor.BaseConstructor, _PlainResolver):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.BaseConstructor.__init__(self)
        _PlainResolver.__init__(self)


def _go_int(text: str) -> int | None:
    """Go's strconv.ParseInt(text, 0, 64) (and ParseUint): sign, 0x/0o/0b prefixes, a leading 0 is octal."""
    sign, body = (-1, text[1:]) if text.startswith("-") else (1, text[1:] if text.startswith("+") else text)
    lowered = body.lower()
    base, digits = 10, body
    for prefix, prefix_base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if lowered.startswith(prefix):
            base, digits = prefix_base, body[2:]
            break
    else:
        if len(body) > 1 and body.startswith("0"):
            base, digits = 8, body[1:]
    if not digits or not all(c in "0123456789abcdefABCDEF"[: base + (6 if base == 16 else 0)] for c in digits):
        return None
    value = sign * int(digits, base)
    return value if -(2**63) <= value < 2**64 else None


def _resolve_plain(text: str) -> Any:
    """A plain YAML scalar as yaml.v3 reads it into an interface{} (timestamps stay strings)."""
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    head = text[0]
    if head == ".":
        try:
            return float(text) if "_" not in text else text
        except ValueError:
            return text
    if head in "+-0123456789":
        if _TIMESTAMP.match(text):
            return text
        plain = text.replace("_", "")
        number = _go_int(plain)
        if number is not None:
            return number
        if _YAML_FLOAT.match(plain):
            return float(plain)
    return text


def _value(node: yaml.Node, budget: list[int], where: str) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise SopsError(f"{where} expands to more than {MAX_NODES} values")
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _value(key_node, budget, where)
            if not isinstance(key, str):
                raise SopsError(f"{where} has a non-string key; sops reads only string keys")
            if key in out:
                raise SopsError(f"{where} defines the key {key!r} twice")
            out[key] = _value(value_node, budget, where)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_value(item, budget, where) for item in node.value]
    if node.tag == _PLAIN:
        return _resolve_plain(str(node.value))
    if node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
                    "tag:yaml.org,2002:null"):
        return _resolve_plain(str(node.value))
    return str(node.value)


def load(text: str, where: str, *, json_format: bool) -> SopsDocument:
    """Parse a SOPS file (YAML, possibly several documents, or JSON); SopsError when it is not one."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise SopsError(f"{where} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    branches: list[dict[str, Any]] = []
    try:
        if json_format:
            loaded = json.loads(text, parse_int=float, parse_constant=_no_constant)
            documents = [loaded]
        else:
            budget = [MAX_NODES]
            documents = [_value(node, budget, where) for node in yaml.compose_all(text, Loader=_Loader)  # type: ignore[arg-type]  # built from PyYAML's parts; the stubs list only its own loaders
                         if node is not None]
    except (yaml.YAMLError, ValueError) as exc:
        raise SopsError(f"{where} is not valid {'JSON' if json_format else 'YAML'}: "
                        f"{str(exc).splitlines()[0][:120]}") from None
    metadata: dict[str, Any] | None = None
    for document in documents:
        if not isinstance(document, dict):
            raise SopsError(f"{where}: a SOPS document is a mapping at the top")
        if metadata is None:
            metadata = document.get("sops") if isinstance(document.get("sops"), dict) else None
        branches.append({k: v for k, v in document.items() if k != "sops"})
    if metadata is None:
        raise SopsError(f"{where} carries no sops metadata")
    return SopsDocument(branches, metadata, json_format)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# -- decrypting ---------------------------------------------------------------------------------------------------

def go_float(value: float) -> str:
    """strconv.FormatFloat(value, 'f', -1, 64): the shortest digits that read back, never an exponent."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)).normalize(), "f")
    return "-0" if text == "0" and str(value).startswith("-") else text


def _to_bytes(value: Any) -> bytes:
    """sops.ToBytes: how each value enters the MAC."""
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, bytes):
        return value
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return go_float(value).encode()
    return str(value).encode("utf-8")


def _should_encrypt(path: list[str], meta: dict[str, Any], rules: dict[str, str]) -> bool:
    encrypted = True
    if rules.get("unencrypted_suffix") and any(p.endswith(rules["unencrypted_suffix"]) for p in path):
        encrypted = False
    if rules.get("encrypted_suffix"):
        encrypted = any(p.endswith(rules["encrypted_suffix"]) for p in path)
    if rules.get("unencrypted_regex") and any(re.search(rules["unencrypted_regex"], p) for p in path):
        encrypted = False
    if rules.get("encrypted_regex"):
        encrypted = any(re.search(rules["encrypted_regex"], p) for p in path)
    return encrypted


def _open_value(text: Any, key: bytes, path: list[str], where: str, additional: str | None = None) -> Any:
    """One ENC[...] value decrypted and typed as sops's cipher types it (additional data: the key path, ``a:b:``)."""
    shown = ".".join(path) or "sops.mac"
    if isinstance(text, str) and text == "":
        return ""
    match = _ENC.match(text) if isinstance(text, str) else None
    if match is None:
        raise SopsError(f"{where}: the value at {shown} is not encrypted though the file's rules say it must be "
                        "(the file was changed after encryption)")
    try:
        data, iv, tag = (base64.b64decode(match.group(i), validate=True) for i in (1, 2, 3))
        aad = (":".join(path) + ":") if additional is None else additional
        plain = AESGCM(key).decrypt(iv, data + tag, aad.encode())
    except (binascii.Error, ValueError, InvalidTag):
        raise SopsError(f"{where}: the value at {shown} does not decrypt with the file's data key (the file was "
                        "changed after encryption)") from None
    kind = match.group(4)
    try:
        if kind == "str":
            return plain.decode("utf-8")
        if kind in ("int", "int64"):
            return int(plain.decode())
        if kind == "float":
            return float(plain.decode())
        if kind == "bool":
            return _BOOL_TEXT[plain.decode()]
        if kind == "bytes":
            return plain.decode("utf-8")
    except (ValueError, KeyError, UnicodeDecodeError):
        pass
    raise SopsError(f"{where}: the value at {shown} has an unknown or malformed type {kind!r}")


def _key_groups(meta: dict[str, Any], where: str) -> list[dict[str, Any]]:
    kinds = ("age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault")
    if any(meta.get(k) for k in kinds):
        return [meta]
    groups = [g for g in meta.get("key_groups") or [] if isinstance(g, dict)]
    if not groups:
        raise SopsError(f"{where}: the sops metadata holds no key")
    if len(groups) > 1:
        raise SopsError(f"{where} splits its data key over {len(groups)} key groups (Shamir); only files with one "
                        "key group are decrypted")
    return groups


def data_key(document: SopsDocument, identities: list[Any], where: str) -> bytes:
    """The file's 32-byte data key, opened with one of ``identities``; SopsError naming the recipients otherwise."""
    group = _key_groups(document.metadata, where)[0]
    entries = [e for e in group.get("age") or [] if isinstance(e, dict)]
    if not entries:
        others = sorted(k for k in ("pgp", "kms", "gcp_kms", "azure_kv", "hc_vault") if group.get(k))
        raise SopsError(f"{where} is encrypted for {', '.join(others) or 'no'} keys only; only age keys are read")
    for entry in entries:
        try:
            key = pyrage.decrypt(str(entry.get("enc") or "").encode(), identities)
        except Exception:  # noqa: BLE001 - pyrage raises DecryptError (and others for a malformed file)
            continue
        if len(key) == 32:
            return bytes(key)
    recipients = ", ".join(str(e.get("recipient") or "?") for e in entries)
    raise SopsError(f"{where} is encrypted for age recipient(s) {recipients}, and no age key of the decryption "
                    "Secret opens it")


def _mac_data(meta: dict[str, Any], where: str) -> str:
    """``lastmodified`` as sops formats it (Go's RFC 3339, seconds, ``Z`` for UTC): the MAC's additional data."""
    match = _RFC3339.match(str(meta.get("lastmodified") or ""))
    if not match:
        raise SopsError(f"{where}: sops.lastmodified is not an RFC 3339 time")
    zone = match.group(4).upper()
    if zone in ("+00:00", "-00:00"):
        zone = "Z"
    datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}")  # a real date and time
    return f"{match.group(1)}T{match.group(2)}{zone}"


def decrypt(document: SopsDocument, identities: list[Any], where: str) -> list[dict[str, Any]]:
    """The plain documents of a SOPS file, its MAC checked; SopsError (one sentence) otherwise."""
    meta = document.metadata
    if meta.get("unencrypted_comment_regex") or meta.get("encrypted_comment_regex"):
        raise SopsError(f"{where} selects values by comment (encrypted_comment_regex/unencrypted_comment_regex), "
                        "which is not supported")
    rules = {k: str(meta.get(k) or "") for k in ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex",
                                                 "encrypted_regex")}
    if sum(1 for v in rules.values() if v) > 1:
        raise SopsError(f"{where}: Cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex "
                        "or unencrypted_regex in the same file")
    if not any(rules.values()):
        rules["unencrypted_suffix"] = "_unencrypted"
    for name in ("unencrypted_regex", "encrypted_regex"):
        try:
            re.compile(rules[name])
        except re.error:
            raise SopsError(f"{where}: sops.{name} is not a regular expression") from None
    key = data_key(document, identities, where)
    mac_only = bool(meta.get("mac_only_encrypted"))
    digest = hashlib.sha512()
    if mac_only:
        digest.update(_MAC_ONLY_SEED)

    def walk(value: Any, path: list[str]) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, [*path, k]) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, path) for v in value]
        if value is None:
            return None
        encrypted = _should_encrypt(path, meta, rules)
        plain = _open_value(value, key, path, where) if encrypted else value
        if not mac_only or encrypted:
            digest.update(_to_bytes(plain))
        return plain

    plain = [walk(branch, []) for branch in document.branches]
    stored = _open_value(str(meta.get("mac")), key, [], where, _mac_data(meta, where)) if meta.get("mac") else ""
    if not isinstance(stored, str) or stored == "":
        raise SopsError(f"{where} has no MAC; sops refuses such a file")
    if stored != digest.hexdigest().upper():
        raise SopsError(f"{where} fails its MAC check (MAC mismatch): its values were changed after encryption")
    return plain
