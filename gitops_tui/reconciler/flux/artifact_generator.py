"""ArtifactGenerator and ExternalArtifact (``source.extensions.fluxcd.io/v1beta1``, Flux's source-watcher).

An ArtifactGenerator in a revision names sources by alias and the ExternalArtifacts it makes from them with copy
operations (flux/artifact_copy.py). It is an instruction, never applied: a Kustomization of the same revision with
``sourceRef: {kind: ExternalArtifact, name}`` becomes a child whose repository is the parent's at the parent's
commit plus the artifact's recipe (``spec.template.spec.artifact``); the child builds the artifact when it fetches
(``generate``), into a folder named by the artifact's content digest (``latest@sha256:...``, as source-watcher
names its revisions), and reads its ``path`` there. docs/flux.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitops_tui.reconciler.errors import ValidationFailed
from gitops_tui.reconciler.flux.artifact_copy import Budget, apply, parse_operation

GENERATOR_GROUP = "source.extensions.fluxcd.io"
GENERATOR_KIND = "ArtifactGenerator"
MAX_SOURCES = 20
MAX_ARTIFACTS = 100
MAX_COPIES = 100
#: Generated artifacts kept on disk (the least recently used beyond this are removed).
KEEP_ARTIFACTS = 32
_ALIAS = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$")
_REVISION = re.compile(r"^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)$")


def is_generator(obj: dict[str, Any]) -> bool:
    """Whether ``obj`` is a source-watcher ArtifactGenerator."""
    return str(obj.get("apiVersion", "")).rpartition("/")[0] == GENERATOR_GROUP and obj.get("kind") == GENERATOR_KIND


def _items(spec: dict[str, Any], key: str, limit: int, where: str) -> list[Any]:
    value = spec.get(key)
    if not isinstance(value, list) or not value:
        raise ValidationFailed(f"{where}: spec.{key}: Required value: at least one entry")
    if len(value) > limit:
        raise ValidationFailed(f"{where}: spec.{key}: Too many: {len(value)}: must have at most {limit} items")
    return value


def artifacts(generators: tuple[Any, ...]) -> dict[str, tuple[Any, dict[str, Any]]]:
    """ExternalArtifact name -> (the generator manifest, its artifact entry); ValidationFailed for one made twice."""
    found: dict[str, tuple[Any, dict[str, Any]]] = {}
    for manifest in generators:
        where = f"{manifest.display} in {manifest.origin}"
        spec = manifest.obj.get("spec") if isinstance(manifest.obj.get("spec"), dict) else {}
        for index, artifact in enumerate(_items(spec, "artifacts", MAX_ARTIFACTS, where)):
            name = artifact.get("name") if isinstance(artifact, dict) else None
            if not isinstance(name, str) or not name:
                raise ValidationFailed(f"{where}: spec.artifacts[{index}].name: Required value")
            if name in found:
                raise ValidationFailed(f"{where}: ExternalArtifact {name} is also made by "
                                       f"{found[name][0].display} in {found[name][0].origin}")
            found[name] = (manifest, artifact)
    return found


def _source(entry: Any, index: int, where: str, mine: frozenset[str],
            repositories: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(alias, how the child fetches it): this repository, or a GitRepository the revision declares."""
    field = f"{where}: spec.sources[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("alias"), str) or not _ALIAS.match(entry["alias"]):
        raise ValidationFailed(f"{field}.alias: Invalid value: lower case letters, digits, '-' and '_'")
    kind, name = entry.get("kind"), str(entry.get("name") or "")
    if kind != "GitRepository":
        raise ValidationFailed(f"{field}.kind: {kind} sources of an ArtifactGenerator are not supported; use a "
                               "GitRepository")
    if name in mine:
        return entry["alias"], {"self": True}
    declared = repositories.get(name)
    if declared is None:
        raise ValidationFailed(f"{field}.name: GitRepository {name!r} is not declared in the revision")
    git = declared.obj.get("spec") if isinstance(declared.obj.get("spec"), dict) else {}
    spec: dict[str, Any] = {"url": str(git.get("url") or ""),
                            "ref": {k: str(v) for k, v in (git.get("ref") or {}).items()
                                    if k in ("branch", "tag", "semver", "commit")}}
    if (git.get("secretRef") or {}).get("name"):
        spec["secretRef"] = {"name": str(git["secretRef"]["name"])}
    if git.get("timeout"):
        spec["timeout"] = str(git["timeout"])
    return entry["alias"], spec


def recipe(name: str, generators: tuple[Any, ...], mine: frozenset[str], repositories: dict[str, Any],
           where: str) -> dict[str, Any]:
    """What a child needs to build ExternalArtifact ``name``: its sources by alias and its copy operations.

    ValidationFailed (naming ``where``, the Kustomization) when no generator of the revision makes it, or the
    generator is not one this reconciler can run; every alias, pattern and path is checked here.
    """
    made = artifacts(generators)
    if name not in made:
        raise ValidationFailed(f"{where}: spec.sourceRef names ExternalArtifact {name!r}, which no ArtifactGenerator "
                               "of this revision makes (declare the ArtifactGenerator beside the Kustomization)")
    manifest, artifact = made[name]
    gen_where = f"{manifest.display} in {manifest.origin}"
    spec = manifest.obj.get("spec") if isinstance(manifest.obj.get("spec"), dict) else {}
    sources = dict(_source(entry, index, gen_where, mine, repositories)
                   for index, entry in enumerate(_items(spec, "sources", MAX_SOURCES, gen_where)))
    copies = _items(artifact, "copy", MAX_COPIES, f"{gen_where} artifact {name}")
    for index, raw in enumerate(copies):
        op = parse_operation(raw, f"{gen_where}: artifact {name} copy[{index}]")
        if op.alias not in sources:
            raise ValidationFailed(f"{gen_where}: artifact {name} copy[{index}].from: source alias '{op.alias}' is "
                                   "not one of spec.sources")
    block: dict[str, Any] = {"generator": str(manifest.obj["metadata"]["name"]), "name": name, "sources": sources,
                             "copy": [dict(c) for c in copies]}
    for key in ("revision", "originRevision"):
        value = artifact.get(key)
        if value in (None, ""):
            continue
        match = _REVISION.match(str(value))
        if not match or match.group(1) not in sources:
            raise ValidationFailed(f"{gen_where}: artifact {name} {key}: Invalid value: {value!r}: '@alias' of a source")
        block[key] = str(value)
    return block


def _digest(folder: Path) -> str:
    """sha256 over every file's path and content digest, sorted: the artifact's content (source-watcher's dirhash)."""
    lines = []
    for current, _, files in os.walk(folder):
        for name in files:
            path = Path(current) / name
            lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(folder).as_posix()}\n")
    return hashlib.sha256("".join(sorted(lines)).encode()).hexdigest()


def _prune(cache: Path, keep: Path) -> None:
    entries = [p for p in cache.iterdir() if p.is_dir() and not p.name.startswith(".") and p != keep]
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP_ARTIFACTS - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def generate(block: dict[str, Any], own: Path, fetch: Callable[[dict[str, Any]], Path],
             cache: Path) -> tuple[Path, str]:
    """Build the artifact ``block`` describes; return (its folder, ``latest@sha256:<digest>``).

    ``own`` is the parent's tree at its commit (sources marked ``self``); ``fetch`` fetches any other source.
    """
    where = f"ArtifactGenerator/{block.get('generator')} artifact {block.get('name')}"
    sources = {alias: own if spec.get("self") else fetch(spec) for alias, spec in (block.get("sources") or {}).items()}
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=cache))
    try:
        budget = Budget(where=where)
        for index, raw in enumerate(block.get("copy") or []):
            apply(parse_operation(raw, f"{where} copy[{index}]"), sources, staging, budget)
        digest = _digest(staging)
        final = cache / digest
        if final.is_dir():
            os.utime(final)
        else:
            os.rename(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _prune(cache, final)
    return final, f"latest@sha256:{digest}"
