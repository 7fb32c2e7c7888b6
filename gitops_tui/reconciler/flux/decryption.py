"""Kustomization ``spec.decryption`` (provider sops, age keys): render from a private copy with the SOPS files decrypted.

The keys are the ``*.agekey`` entries of the Secret ``spec.decryption.secretRef`` names in the project namespace (as
kustomize-controller's ImportKeys reads them). The files decrypted are those the render reads (the path's manifest
files and, through kustomization files, resources, components, generator files and patches), each by sops's rules
with its MAC checked (flux/sops_format.py). A decrypted manifest must be a Secret (so every surface that hides
Secret values hides these); other files (generator sources) may only feed Secrets. The copy lives in an owner-only
directory beside the checkout for the length of the render, then is deleted; nothing decrypted is logged or
written to status. Any failure refuses the revision with one sentence (BuildFailed). docs/flux.md#decryption.
The age library (pyrage) and flux/sops_format.py (cryptography's AES-GCM) load only when a source has keys: a
reconciler of plain sources (the console's) never holds them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.api.references import ReferenceRefused, check_name
from gitops_tui.reconciler.errors import BuildFailed, ValidationFailed
from gitops_tui.reconciler.kustomize_files import KUSTOMIZATION_FILES, MANIFEST_SUFFIXES, find_kustomization

AGE_KEY_SUFFIX = ".agekey"
_KEY_PATHS = ("resources", "bases", "components", "crds", "patchesStrategicMerge")


@dataclass(frozen=True)
class Keys:
    """The age identities of a decryption Secret; ``fingerprint`` tells key sets apart (render cache)."""

    secret: str
    identities: tuple[Any, ...]
    fingerprint: str


def spec_of(kustomization: dict[str, Any] | None) -> dict[str, Any]:
    """``spec.decryption`` of a source's kustomization ({} when unset), its provider checked."""
    spec = (((kustomization or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    decryption = spec.get("decryption") or {}
    if not decryption:
        return {}
    if decryption.get("provider") != "sops":
        raise ValidationFailed(f"spec.decryption.provider: Unsupported value: \"{decryption.get('provider')}\": "
                               "supported values: \"sops\"")
    if decryption.get("serviceAccountName"):
        raise ValidationFailed("spec.decryption.serviceAccountName is not supported: give age keys in "
                               "spec.decryption.secretRef")
    if not (decryption.get("secretRef") or {}).get("name"):
        raise ValidationFailed("spec.decryption.secretRef.name is required: the Secret holding the age keys "
                               "(*.agekey)")
    return dict(decryption)


def keys_from(secret: str, data: dict[str, bytes] | None) -> Keys:
    """The age identities of the Secret's ``*.agekey`` entries; ValidationFailed (one sentence, no key) otherwise."""
    if data is None:
        raise ValidationFailed(f"the decryption Secret {secret!r} (spec.decryption.secretRef) does not exist in the "
                               "project namespace")
    import pyrage  # the age library: loaded only for a source with spec.decryption

    identities: list[Any] = []
    material = hashlib.sha256()
    for name in sorted(data):
        if not name.endswith(AGE_KEY_SUFFIX):
            continue
        for line in data[name].decode("utf-8", "replace").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                identities.append(pyrage.x25519.Identity.from_str(line))
            except Exception:  # noqa: BLE001 - pyrage's IdentityError; the line itself is never shown
                raise ValidationFailed(f"the decryption Secret {secret!r} entry {name!r} holds a line that is not an "
                                       "age X25519 identity (AGE-SECRET-KEY-1...)") from None
            material.update(line.encode())
    if not identities:
        raise ValidationFailed(f"the decryption Secret {secret!r} holds no *.agekey entry: only age keys are read "
                               "(.asc, sops.vault-token and cloud KMS entries are not supported)")
    return Keys(secret, tuple(identities), material.hexdigest())


def encrypted_objects(objects: list[tuple[dict[str, Any], str]]) -> None:
    """Refuse a rendered object still carrying SOPS metadata (a source without spec.decryption, or a file the
    decrypted copy did not cover): it would reach the cluster as ciphertext."""
    for obj, origin in objects:
        if isinstance(obj.get("sops"), dict):
            raise ValidationFailed(f"{origin} is encrypted with SOPS, and the source has no spec.decryption to "
                                   "decrypt it (docs/flux.md#decryption)", origin=origin)


@contextmanager
def decrypted_tree(root: Path, path: str, keys: Keys) -> Iterator[Path]:
    """``root``, or a private copy of it with every SOPS file the render of ``path`` reads decrypted."""
    files = [f for f in _read_files(root.resolve(), path) if _sops_format(f) is not None]
    if not files:
        yield root
        return
    holder = Path(tempfile.mkdtemp(prefix=".decrypted-", dir=root.parent))
    os.chmod(holder, 0o700)
    copy = holder / "tree"
    try:
        shutil.copytree(root, copy, symlinks=True, copy_function=_link_or_copy)
        for file in files:
            relative = file.relative_to(root.resolve())
            _decrypt_file(file, copy / relative, relative.as_posix(), keys)
        yield copy
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _sops_format(file: Path) -> str | None:
    """'yaml', 'json', 'binary' or 'dotenv' for a SOPS-encrypted file (by its marker and name); None otherwise."""
    from gitops_tui.reconciler.flux import sops_format  # age and AES-GCM: only when a source has keys

    try:
        if file.stat().st_size > sops_format.MAX_FILE_BYTES:
            return None
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if "sops_mac=ENC[" in text:
        return "dotenv"
    if file.suffix in (".yaml", ".yml") and sops_format.is_sops(text, json_format=False):
        return "yaml"
    if sops_format.is_sops(text, json_format=True):
        return "json" if file.suffix == ".json" else "binary"
    return None


def _decrypt_file(source: Path, target: Path, shown: str, keys: Keys) -> None:
    """Decrypt one file into the copy (a new file: the checkout's own, hard-linked, is never written)."""
    from gitops_tui.reconciler.flux import sops_format

    kind = _sops_format(source)
    if kind == "dotenv":
        raise BuildFailed(f"{shown} is a SOPS dotenv file; only YAML, JSON and binary (JSON envelope) SOPS files "
                          "are decrypted", origin=shown)
    try:
        document = sops_format.load(source.read_text(encoding="utf-8"), shown, json_format=kind != "yaml")
        plain = sops_format.decrypt(document, list(keys.identities), shown)
    except sops_format.SopsError as exc:
        raise BuildFailed(f"decryption failed: {exc.message}", origin=shown) from None
    if kind == "binary":
        data = plain[0].get("data") if plain else None
        if not isinstance(data, str):
            raise BuildFailed(f"decryption failed: {shown} is a SOPS binary envelope without its data", origin=shown)
        text = data
    else:
        for document_plain in plain:
            if "kind" in document_plain and (document_plain.get("kind") != "Secret"
                                             or str(document_plain.get("apiVersion")) != "v1"):
                raise BuildFailed(f"{shown}: {document_plain.get('kind')} is encrypted with SOPS; only Secrets are "
                                  "decrypted (their values stay hidden in every view)", origin=shown)
        text = (sops_format_json(plain[0]) if kind == "json"
                else yaml.safe_dump_all(plain, sort_keys=False, default_flow_style=False))
    target.unlink()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def sops_format_json(document: dict[str, Any]) -> str:
    """A decrypted JSON document as sops emits it: numbers in Go's shortest form (5432.0 is 5432)."""
    import json

    def numbers(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: numbers(v) for k, v in value.items()}
        if isinstance(value, list):
            return [numbers(v) for v in value]
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value

    return json.dumps(numbers(document), indent=2) + "\n"


def _read_files(root: Path, path: str) -> list[Path]:
    """Every file inside ``root`` the render of ``path`` may read (manifests, kustomization references)."""
    start = (root / (path or "./").strip().lstrip("/")).resolve()
    found: list[Path] = []
    seen: set[Path] = set()

    def add_file(file: Path) -> None:
        file = file.resolve()
        if file.is_file() and (root == file or root in file.parents) and file not in seen:
            seen.add(file)
            found.append(file)

    def kustomization(directory: Path) -> None:
        directory = directory.resolve()
        if directory in seen or not (root == directory or root in directory.parents):
            return
        seen.add(directory)
        file = find_kustomization(directory)
        if file is None:
            return
        try:
            content = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError):
            return  # kustomize reports it
        for entry in _references(content if isinstance(content, dict) else {}):
            target = (directory / entry).resolve()
            if target.is_dir():
                kustomization(target)
            else:
                add_file(target)

    if start.is_file():
        add_file(start)
    elif find_kustomization(start) is not None:
        kustomization(start)
    elif start.is_dir():
        for current, dirs, names in os.walk(start):
            here = Path(current)
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            if here != start and find_kustomization(here) is not None:
                kustomization(here)
                dirs[:] = []
                continue
            if here != start and (here / "Chart.yaml").is_file():
                dirs[:] = []
                continue
            for name in sorted(names):
                if name.endswith(MANIFEST_SUFFIXES) and not name.startswith(".") and name not in KUSTOMIZATION_FILES:
                    add_file(here / name)
    return found


def _references(content: dict[str, Any]) -> Iterator[str]:
    """The local paths a kustomization names (resources, components, secretGenerator files, patches)."""
    for key in _KEY_PATHS:
        for entry in content.get(key) or []:
            if isinstance(entry, str) and "://" not in entry and "\n" not in entry:
                yield entry
    for generator in content.get("secretGenerator") or []:  # as Flux: secretGenerator sources, never ConfigMaps
        if not isinstance(generator, dict):
            continue
        for entry in [*(generator.get("files") or []), *(generator.get("envs") or []), generator.get("env")]:
            if isinstance(entry, str) and entry:
                yield entry.split("=", 1)[-1]
    for patch in [*(content.get("patches") or []), *(content.get("patchesJson6902") or [])]:
        if isinstance(patch, dict) and isinstance(patch.get("path"), str):
            yield patch["path"]


def for_source(ctx: Any, source: Any) -> Callable[[], Keys | None]:
    """The deferred keys of a source: its decryption Secret read from the project namespace (management cluster)."""
    from gitops_tui.reconciler.status import secret_data

    return reader(lambda name: secret_data(ctx, source.namespace, name), source.kustomization)


def reader(read_secret: Callable[[str], dict[str, bytes] | None],
           kustomization: dict[str, Any] | None) -> Callable[[], Keys | None]:
    """A deferred read of a source's decryption keys (None without spec.decryption), for desired_objects."""

    def keys() -> Keys | None:
        spec = spec_of(kustomization)
        if not spec:
            return None
        try:
            name = check_name(spec["secretRef"].get("name"), "spec.decryption.secretRef.name", kind="Secret")
        except ReferenceRefused as exc:
            raise ValidationFailed(exc.message) from None
        return keys_from(name, read_secret(name))

    return keys
