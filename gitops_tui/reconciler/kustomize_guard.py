"""Refuse, before kustomize runs, every reference a kustomization makes to a URL or to a path outside the revision.

kustomize fetches remote bases (``git::``, ``https://``, ``github.com/...``, ``user@host:path``) and
loads remote files over HTTP for any field it reads a file from; and its directories (resources,
components, generators ...) may leave the kustomization root. The reconciler fetches only what the
operator configured, so every such reference refuses the revision (BuildFailed, the reference named).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.reconciler.errors import BuildFailed
from gitops_tui.reconciler.kustomize_files import find_kustomization

#: Fields whose string entries are a file or a directory (a directory is a kustomization of its own).
DIRECTORY_FIELDS = ("resources", "bases", "components", "generators", "transformers", "validators")
#: Fields whose string entries are files (patchesStrategicMerge entries may also be inline patches).
FILE_FIELDS = ("crds", "configurations", "patchesStrategicMerge")
#: Fields holding a list of objects whose ``path`` is a file.
PATH_ITEM_FIELDS = ("patches", "patchesJson6902", "replacements")
#: Generators whose ``files``, ``envs`` and ``env`` name files.
GENERATOR_FIELDS = ("configMapGenerator", "secretGenerator")
#: Fields that make kustomize download charts: never allowed (a HelmRelease renders charts).
HELM_FIELDS = ("helmCharts", "helmChartInflationGenerator", "helmGlobals")
#: Keys inside inline generator or transformer configs that name files.
_INLINE_PATH_KEYS = ("path", "paths", "files", "envs", "env", "resources", "chartHome", "repo")
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")
_GITHUB_SHORTHAND = re.compile(r"^(gh:|github\.com[/:])", re.IGNORECASE)

#: Environment for the kustomize process: git may use no transport, HTTP goes to a closed proxy.
SAFE_ENVIRONMENT = {
    "KUSTOMIZE_PLUGIN_HOME": "/nonexistent",
    "GIT_ALLOW_PROTOCOL": "none",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
}


def is_remote(reference: str) -> bool:
    """Whether kustomize would fetch ``reference`` over the network (URL, git:: spec, scp-like, github shorthand)."""
    text = reference.strip()
    return ("://" in text or text.lower().startswith("git::") or _SCP_LIKE.match(text) is not None
            or _GITHUB_SHORTHAND.match(text) is not None)


def check_kustomization(root: Path, directory: Path) -> dict[str, str]:
    """Check the kustomization in ``directory`` and every one it includes; return the environment to build it with.

    Raises BuildFailed naming the file and the reference for a remote reference, a chart download,
    or a path outside the repository ``root``.
    """
    _check(root.resolve(), directory.resolve(), set())
    return {**os.environ, **SAFE_ENVIRONMENT}


def _check(root: Path, directory: Path, seen: set[Path]) -> None:
    if directory in seen:
        return
    seen.add(directory)
    kustomization = find_kustomization(directory)
    if kustomization is None:
        return
    file = kustomization.relative_to(root).as_posix()
    try:
        content = yaml.safe_load(kustomization.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError):
        return  # kustomize reports the syntax error itself
    if not isinstance(content, dict):
        return
    for field_name in HELM_FIELDS:
        if content.get(field_name):
            raise BuildFailed(f"{file} uses {field_name}, which downloads charts: render charts with a HelmRelease",
                              origin=file)
    for field_name, reference, may_be_dir in _references(content):
        if is_remote(reference):
            raise BuildFailed(f"{file} refers to the remote {field_name} {reference!r}: remote references are "
                              "not fetched, put the manifests in the source's repository", origin=file)
        target = (directory / reference).resolve()
        if target != root and root not in target.parents:
            raise BuildFailed(f"{file} refers to {reference!r}, which is outside the repository", origin=file)
        if may_be_dir and target.is_dir():
            _check(root, target, seen)


def _references(content: dict[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """Yield (field, reference, may be a directory) for every file or directory a kustomization names."""
    for field_name in DIRECTORY_FIELDS:
        for entry in _list(content.get(field_name)):
            if isinstance(entry, str) and "\n" in entry:
                yield from ((field_name, ref, True) for ref in _inline_references(entry))
            elif isinstance(entry, str):
                yield field_name, entry, True
    for field_name in FILE_FIELDS:
        for entry in _list(content.get(field_name)):
            if isinstance(entry, str) and "\n" not in entry:
                yield field_name, entry, False
    for field_name in PATH_ITEM_FIELDS:
        for entry in _list(content.get(field_name)):
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                yield field_name, entry["path"], False
    openapi = content.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield "openapi", openapi["path"], False
    for field_name in GENERATOR_FIELDS:
        for generator in _list(content.get(field_name)):
            if not isinstance(generator, dict):
                continue
            for entry in [*_list(generator.get("files")), *_list(generator.get("envs")), generator.get("env")]:
                if isinstance(entry, str) and entry:
                    yield field_name, entry.split("=", 1)[-1], False


def _inline_references(text: str) -> Iterator[str]:
    """Every file-like string in an inline generator, transformer or validator config."""
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return
    for document in documents:
        yield from _path_values(document)


def _path_values(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _INLINE_PATH_KEYS:
                yield from (v for v in ([value] if isinstance(value, str) else _list(value)) if isinstance(v, str))
            else:
                yield from _path_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _path_values(item)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
