"""Render a revision into manifests: plain YAML/JSON directories and kustomizations (real kustomize)."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitops_tui.kube.limits import MAX_FILE_BYTES, MIB, LimitExceeded, load_documents
from gitops_tui.reconciler.errors import (
    ArtifactFailed,
    BuildFailed,
    KustomizeNotFound,
    OverLimit,
    ValidationFailed,
)
from gitops_tui.reconciler.kustomize_files import MANIFEST_SUFFIXES, find_kustomization
from gitops_tui.reconciler.kustomize_guard import check_kustomization

try:  # the C loader is much faster when available
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.SafeLoader

HELM_RELEASE_KINDS = frozenset({"HelmRelease"})
KUSTOMIZE_TIMEOUT = 120.0


@dataclass
class Manifest:
    """One rendered object and where it came from: `file` relative to the repository, `index` in it."""

    obj: dict[str, Any]
    file: str
    index: int = 0
    built: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        """Where the object came from, for messages: "apps/web.yaml", "apps/web.yaml (document 2)"."""
        if self.built:
            return f"{self.file} (kustomize build, object {self.index + 1})"
        return self.file if self.index == 0 else f"{self.file} (document {self.index + 1})"

    @property
    def display(self) -> str:
        """"Kind/name" of the object."""
        return f"{self.obj.get('kind', '?')}/{(self.obj.get('metadata') or {}).get('name', '?')}"


Expander = Callable[[Manifest], list[Manifest]]


def _relative(path: Path, root: Path) -> str:
    """`path` relative to the repository root, with forward slashes (a path found under the root is cut as text:
    Path.relative_to was a fifth of rendering 500 files)."""
    text, prefix = str(path), os.path.join(str(root), "")  # the root with one trailing slash
    if text.startswith(prefix) and "/../" not in text[len(prefix) - 1:] and not text.endswith("/.."):
        return text[len(prefix):] or "."
    return path.relative_to(root).as_posix() or "."


def _resolve_path(root: Path, path: str, revision: str = "") -> Path:
    """The directory or file `path` inside the artifact; ArtifactFailed when missing or escaping."""
    cleaned = (path or "./").strip()
    if os.path.isabs(cleaned):
        cleaned = cleaned.lstrip("/")
    target = (root / cleaned).resolve()
    real_root = root.resolve()
    if target != real_root and real_root not in target.parents:
        raise ArtifactFailed(f"path {path!r} points outside the repository", origin=path)
    if not target.exists():
        raise ArtifactFailed(f"path {path!r} not found in {_revision_name(revision)}", origin=path)
    if (target / "Chart.yaml").is_file():
        raise ValidationFailed(
            f"path {path!r} is a Helm chart (it holds Chart.yaml), not a directory of manifests: deploy it with a "
            f"HelmRelease whose spec.chart.spec.chart is {path!r} (sourceRef kind GitRepository)", origin=path)
    return target


def resolve_path(root: Path, path: str, revision: str = "") -> Path:
    """The directory or file ``path`` names inside the artifact ``root``; ArtifactFailed when missing or escaping."""
    return _resolve_path(root, path, revision)


def _revision_name(revision: str) -> str:
    return f"revision {revision}" if revision else "the revision"


def kustomize_command(directory: Path) -> list[str]:
    """The build command: `kustomize build DIR`, else `kubectl kustomize DIR`; KustomizeNotFound otherwise."""
    kustomize = shutil.which("kustomize")
    if kustomize:
        return [kustomize, "build", str(directory)]
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize", str(directory)]
    raise KustomizeNotFound(
        "cannot build the kustomization: neither 'kustomize' nor 'kubectl' is on PATH"
    )


def plain_copy(value: Any) -> Any:
    """A copy of parsed YAML (dicts and lists copied, scalars shared: they are immutable), several times quicker
    than copy.deepcopy; anything else is deep-copied."""
    kind = type(value)
    if kind is dict:
        return {k: plain_copy(v) for k, v in value.items()}
    if kind is list:
        return [plain_copy(v) for v in value]
    if kind in (str, int, float, bool, bytes) or value is None:
        return value
    return copy.deepcopy(value)


#: Parsed files by (path in the repository, content digest): a new commit re-parses only the files it changed.
_parsed: OrderedDict[tuple[str, str], list[Any]] = OrderedDict()
_parsed_lock = threading.Lock()
MAX_PARSED_FILES = 8192


def _parse_documents(text: str, file: str) -> list[Any]:
    """Parse multi-document YAML (a copy of the last parse of the same file and content); ValidationFailed naming
    the file and line on a syntax error."""
    key = (file, hashlib.sha256(text.encode()).hexdigest())
    with _parsed_lock:
        found = _parsed.get(key)
        if found is not None:
            _parsed.move_to_end(key)
    if found is not None:
        return [plain_copy(doc) for doc in found]
    try:
        documents = load_documents(text, file)
        with _parsed_lock:
            _parsed[key] = [plain_copy(doc) for doc in documents]
            while len(_parsed) > MAX_PARSED_FILES:
                _parsed.popitem(last=False)
        return documents
    except LimitExceeded as exc:
        raise OverLimit(exc.message, origin=exc.origin) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ValidationFailed(f"invalid YAML in {file}{where}: {problem}", origin=file) from None


def _parse_file(path: Path, file: str) -> list[Any]:
    """Parse one YAML or JSON file into its documents (refused unread beyond MAX_FILE_BYTES)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise OverLimit(f"{file} is {size / MIB:.1f} MiB; at most {MAX_FILE_BYTES // MIB} MiB is read from one "
                        "manifest file", origin=file)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed(f"{file} is not UTF-8 text", origin=file) from None
    if path.suffix == ".json":
        if not text.strip():
            return []
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise ValidationFailed(f"invalid JSON in {file} line {exc.lineno}: {exc.msg}", origin=file) from None
    return _parse_documents(text, file)


def validate_object(obj: Any, where: str) -> None:
    """Check an object has apiVersion, kind and metadata.name; ValidationFailed naming `where`."""
    if not isinstance(obj, dict):
        raise ValidationFailed(f"{where} is not a Kubernetes object (a mapping was expected)", origin=where)
    missing = [key for key in ("apiVersion", "kind") if not isinstance(obj.get(key), str) or not obj.get(key)]
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata.get("name"):
        missing.append("metadata.name")
    if missing:
        kind = obj.get("kind") if isinstance(obj.get("kind"), str) else "object"
        if missing == ["metadata.name"] and isinstance(metadata, dict) and metadata.get("generateName"):
            raise ValidationFailed(
                f"{kind} in {where} uses metadata.generateName, which makes a new object at every apply and cannot "
                "be tracked or pruned; give it a fixed metadata.name (a Job run once per change can carry a "
                "hash of its spec in the name)", origin=where)
        raise ValidationFailed(f"{kind} in {where} has no {', '.join(missing)}", origin=where)
    assert isinstance(metadata, dict)  # checked above: a missing metadata.name raised
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise ValidationFailed(f"{obj['kind']}/{metadata['name']} in {where} has a non-string namespace", origin=where)


def _flatten(documents: list[Any], file: str, built: bool) -> list[Manifest]:
    """Turn parsed documents into validated manifests: skip empty ones, flatten List kinds."""
    manifests: list[Manifest] = []
    for index, doc in enumerate(documents):
        if doc is None:
            continue
        probe = Manifest(obj={}, file=file, index=index, built=built)
        if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list):
            for item_index, item in enumerate(doc["items"]):
                validate_object(item, f"{probe.origin} item {item_index + 1}")
                manifests.append(Manifest(obj=item, file=file, index=index, built=built))
            continue
        validate_object(doc, probe.origin)
        manifests.append(Manifest(obj=doc, file=file, index=index, built=built))
    return manifests


_KLOG_ERR = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ \S+\] "command failed" err="(?P<err>.*)"$')


def _kustomize_error(stderr: str, root: Path) -> str:
    """The error of kustomize (or kubectl kustomize) stderr, without warnings, log prefixes or cache paths."""
    lines = []
    for line in stderr.splitlines():
        line = line.strip()
        if not line or line.startswith("# Warning"):
            continue
        match = _KLOG_ERR.match(line)
        if match:
            line = match.group("err").replace('\\"', '"')
        lines.append(line.removeprefix("Error: "))
    text = "; ".join(lines)
    for prefix in (str(root.resolve()) + "/", str(root) + "/", str(root.resolve()), str(root)):
        text = text.replace(prefix, "")
    return text


def build_kustomization(root: Path, directory: Path) -> list[Manifest]:
    """Run kustomize on `directory` and return its objects; BuildFailed with kustomize's error."""
    kustomization = find_kustomization(directory)
    file = _relative(kustomization or directory, root)

    environment = check_kustomization(root, directory)  # remote and outside references refused here
    command = kustomize_command(directory)
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=KUSTOMIZE_TIMEOUT,
            cwd=str(directory), env=environment,
        )
    except subprocess.TimeoutExpired:
        raise BuildFailed(f"kustomize build of {file} timed out after {KUSTOMIZE_TIMEOUT:g}s", origin=file) from None
    if result.returncode != 0:
        detail = _kustomize_error(result.stderr, root) or f"exit status {result.returncode}"
        raise BuildFailed(f"kustomize build of {file} failed: {detail}", origin=file)
    return _flatten(_parse_documents(result.stdout, file), file, built=True)


def _plain_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """Manifest files under `directory` (sorted; hidden entries skipped) and nested kustomization dirs."""
    files: list[Path] = []
    kustomizations: list[Path] = []
    for current, dirs, names in os.walk(directory):
        current_path = Path(current)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if current_path != directory and find_kustomization(current_path) is not None:
            kustomizations.append(current_path)
            dirs[:] = []
            continue
        if current_path != directory and (current_path / "Chart.yaml").is_file():
            dirs[:] = []  # a Helm chart is rendered by the HelmRelease naming it, never read as manifests
            continue
        files.extend(current_path / n for n in names if n.endswith(MANIFEST_SUFFIXES) and not n.startswith("."))
    return sorted(files), sorted(kustomizations)


def manifest_units(directory: Path) -> tuple[list[Path], list[Path]]:
    """What a plain directory renders: its manifest files (sorted, hidden and chart folders skipped) and the
    folders below it that hold a kustomization (built on their own)."""
    return _plain_files(directory)


def render(artifact_path: Path, path: str = "./", *, expand: Expander | None = None,
           revision: str = "") -> list[Manifest]:
    """Render `path` of a fetched revision into validated manifests.

    A kustomization file at `path` is built with kustomize. Otherwise every *.yaml, *.yml and
    *.json under `path` (sorted, hidden files and directories skipped) is read; a subdirectory
    holding a kustomization is built with kustomize instead of read. `path` may also name one
    file. `expand` is the hook for objects that render further (HelmRelease): it gets each
    manifest and returns the manifests to use instead; without it objects pass through.
    `revision` names the revision in messages. A revision with no file at all is refused
    (ArtifactFailed): a commit that removed everything is far more likely a mistake than a wish to
    prune every object, and Flux keeps the objects of a vanished path the same way.
    """
    root = Path(artifact_path)
    if not any(root.iterdir()):
        raise ArtifactFailed(f"{_revision_name(revision)} has no files (the commit removed every file); "
                             "the objects of the last applied revision are kept", origin=path)
    target = _resolve_path(root, path, revision)
    manifests: list[Manifest] = []
    if target.is_file():
        manifests = _flatten(_parse_file(target, _relative(target, root)), _relative(target, root), built=False)
    elif find_kustomization(target) is not None:
        manifests = build_kustomization(root, target)
    else:
        files, kustomizations = _plain_files(target)
        units = sorted([(f, False) for f in files] + [(k, True) for k in kustomizations])
        for unit, is_kustomization in units:
            if is_kustomization:
                manifests.extend(build_kustomization(root, unit))
            else:
                file = _relative(unit, root)
                manifests.extend(_flatten(_parse_file(unit, file), file, built=False))
    if expand is not None:
        expanded: list[Manifest] = []
        for manifest in manifests:
            expanded.extend(expand(manifest))
        manifests = expanded
    _check_duplicates(manifests)
    return manifests


def _check_duplicates(manifests: list[Manifest]) -> None:
    """ValidationFailed when two manifests declare the same object."""
    seen: dict[tuple[str, str, str, str], Manifest] = {}
    for manifest in manifests:
        obj = manifest.obj
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        key = (group, str(obj.get("kind")), str(obj["metadata"].get("namespace") or ""), str(obj["metadata"]["name"]))
        if key in seen:
            raise ValidationFailed(
                f"{manifest.display} is declared twice: in {seen[key].origin} and in {manifest.origin}",
                origin=manifest.origin, object=manifest.display,
            )
        seen[key] = manifest
