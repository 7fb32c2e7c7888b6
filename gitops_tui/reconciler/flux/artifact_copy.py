"""An ArtifactGenerator's copy operations, with source-watcher's semantics, bounded (docs/flux.md).

As fluxcd/source-watcher's builder: ``from: "@alias/pattern"`` and ``to: "@artifact/path"``; a pattern without
glob characters copies one file or one folder (``cp``: a folder lands as a subfolder of the destination); a glob
is matched like Go's ``fs.Glob`` (``*`` and ``**`` both match within one path segment) and a match is a file or a
whole folder; ``dir/**`` strips ``dir/`` from what it copies (``cp -r dir/** dest/``); a destination ending in
``/`` is a folder; later operations overwrite earlier files, or merge YAML with ``strategy: Merge`` (maps deep,
lists replaced, as Helm merges values). ``exclude`` patterns are doublestar globs matched against the matched path
and, for a pattern without ``/``, the file name. ``Extract`` (tarballs) is refused by name.

Every pattern and path is tenant input: ``..`` and absolute paths are refused, symbolic links leaving the source's
tree are refused, and the files and bytes copied are counted (at most ``MAX_FILES`` and ``MAX_BYTES``).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from gitops_tui.kube.limits import MIB, LimitExceeded, load_documents
from gitops_tui.reconciler.errors import ArtifactFailed, BuildFailed, OverLimit, ValidationFailed

MAX_FILES = 10_000
MAX_BYTES = 64 * MIB
MAX_PATTERN = 1024
MAX_EXCLUDES = 100
_GLOB = re.compile(r"[*?\[\]]")
_ALIAS = re.compile(r"^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)/(.*)$")


@dataclass
class Budget:
    """Files and bytes copied so far into one artifact."""

    files: int = 0
    bytes: int = 0
    where: str = ""

    def add(self, size: int) -> None:
        """Count one file; OverLimit past the artifact's limits."""
        self.files += 1
        self.bytes += size
        if self.files > MAX_FILES or self.bytes > MAX_BYTES:
            raise OverLimit(f"{self.where}: the artifact would hold more than {MAX_FILES} files or "
                            f"{MAX_BYTES // MIB} MiB")


@dataclass(frozen=True)
class CopyOperation:
    """One checked copy operation."""

    alias: str
    pattern: str
    destination: str
    into_folder: bool
    exclude: tuple[str, ...] = ()
    merge: bool = False
    shown: str = field(default="", compare=False)


def _safe_relative(path: str, where: str) -> str:
    """``path`` as a relative POSIX path without ``..``; ValidationFailed else."""
    if path.startswith("/") or "\\" in path or ".." in PurePosixPath(path).parts:
        raise ValidationFailed(f"{where}: Invalid value: {path!r} must stay inside the source (no '..', no absolute path)")
    return path


def parse_operation(item: Any, where: str) -> CopyOperation:
    """A copy operation of an ArtifactGenerator artifact, checked; ValidationFailed naming the field else."""
    if not isinstance(item, dict):
        raise ValidationFailed(f"{where}: Invalid value: a copy operation is a mapping with from and to")
    source, target = item.get("from"), item.get("to")
    if not isinstance(source, str) or len(source) > MAX_PATTERN or not (match := _ALIAS.match(source)):
        raise ValidationFailed(f"{where}.from: Invalid value: {source!r}: the format is '@alias/pattern'")
    if not isinstance(target, str) or len(target) > MAX_PATTERN or not target.startswith("@artifact/"):
        raise ValidationFailed(f"{where}.to: Invalid value: {target!r}: the format is '@artifact/path'")
    strategy = item.get("strategy") or "Overwrite"
    if strategy == "Extract":
        raise ValidationFailed(f"{where}.strategy: Extract (tarballs) is not supported; copy the files themselves")
    if strategy not in ("Overwrite", "Merge"):
        raise ValidationFailed(f"{where}.strategy: Unsupported value: {strategy!r}: supported values: 'Overwrite', "
                               "'Merge'")
    excludes = item.get("exclude") or []
    if not isinstance(excludes, list) or len(excludes) > MAX_EXCLUDES or not all(
            isinstance(e, str) and len(e) <= MAX_PATTERN for e in excludes):
        raise ValidationFailed(f"{where}.exclude: Invalid value: at most {MAX_EXCLUDES} patterns")
    for pattern in excludes:
        doublestar_regex(pattern)
    pattern = _safe_relative(match.group(3), f"{where}.from")
    destination = _safe_relative(target[len("@artifact/"):], f"{where}.to")
    return CopyOperation(match.group(1), pattern, destination, target.endswith("/"), tuple(excludes),
                         strategy == "Merge", f"from {source!r} to {target!r}")


def _segment_regex(segment: str, where: str) -> str:
    """One path segment of a glob as a regular expression (``*``, ``?``, ``[...]`` with ``^``/``!``, ``{a,b}``)."""
    out, index, braces = [], 0, 0
    while index < len(segment):
        char = segment[index]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = segment.find("]", index + 2)
            if end < 0:
                raise ValidationFailed(f"{where}: Invalid value: {segment!r} has an unclosed '['")
            body = segment[index + 1:end]
            negate = body[:1] in ("^", "!")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
            index = end
        elif char == "\\" and index + 1 < len(segment):
            index += 1
            out.append(re.escape(segment[index]))
        elif char == "{":
            braces += 1
            out.append("(?:")
        elif char == "}" and braces:
            braces -= 1
            out.append(")")
        elif char == "," and braces:
            out.append("|")
        else:
            out.append(re.escape(char))
        index += 1
    if braces:
        raise ValidationFailed(f"{where}: Invalid value: {segment!r} has an unclosed '{{'")
    return "".join(out)


def doublestar_regex(pattern: str) -> re.Pattern[str]:
    """A doublestar glob (``**`` spans folders) as an anchored regular expression; ValidationFailed when malformed."""
    parts = pattern.split("/")
    out = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            out.append(".*" if last else "(?:[^/]*/)*")
        else:
            out.append(_segment_regex(part, "exclude") + ("" if last else "/"))
    return re.compile("^" + "".join(out) + "$")


def excluded(path: str, patterns: tuple[str, ...]) -> bool:
    """Whether ``path`` matches an exclude pattern (a pattern without ``/`` also matches the file name)."""
    name = path.rsplit("/", 1)[-1]
    for pattern in patterns:
        regex = doublestar_regex(pattern)
        if regex.match(path) or ("/" not in pattern and regex.match(name)):
            return True
    return False


def _inside(root: Path, path: Path, where: str) -> Path:
    """``path`` resolved; ArtifactFailed when a symbolic link takes it out of ``root``."""
    real = path.resolve()
    if real != root and root not in real.parents:
        raise ArtifactFailed(f"{where}: {path.relative_to(root).as_posix()} is a symbolic link leaving the "
                             "source's tree")
    return real


def go_glob(root: Path, pattern: str, where: str) -> list[str]:
    """The paths under ``root`` matching ``pattern`` as Go's ``fs.Glob`` matches (one segment per ``*``/``**``)."""
    found = [""]
    for segment in pattern.split("/"):
        if not segment:
            continue
        regex = re.compile("^" + _segment_regex(segment, where) + "$") if _GLOB.search(segment) else None
        following = []
        for above in found:  # relative file names of the checkout, not request paths
            folder = root / above if above else root
            if regex is None:
                candidate = f"{above}/{segment}" if above else segment
                if (root / candidate).exists() or (root / candidate).is_symlink():
                    following.append(candidate)
                continue
            if not folder.is_dir():
                continue
            following.extend(f"{above}/{n}" if above else n for n in sorted(os.listdir(folder)) if regex.match(n))
        found = following
    return [f for f in found if f]


def _merge(base: Any, overlay: Any) -> Any:
    """Helm's values merge: maps deep, everything else (lists included) replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = _merge(out.get(key), value) if isinstance(value, dict) else value
        return out
    return overlay


def _yaml_map(path: Path, where: str) -> dict[str, Any]:
    """Every document of a YAML file merged into one map (bounded loader)."""
    try:
        documents = load_documents(path.read_text(encoding="utf-8"), where)
    except LimitExceeded as exc:
        raise OverLimit(exc.message) from None
    except (yaml.YAMLError, UnicodeDecodeError):
        raise BuildFailed(f"{where}: {path.name} is not YAML that can be merged") from None
    merged: dict[str, Any] = {}
    for document in documents:
        if isinstance(document, dict):
            merged = _merge(merged, document)
    return merged


def _copy_file(source: Path, target: Path, merge: bool, budget: Budget) -> None:
    budget.add(source.stat().st_size)
    target.parent.mkdir(parents=True, exist_ok=True)
    if merge and target.is_file():
        merged = _merge(_yaml_map(target, budget.where), _yaml_map(source, budget.where))
        target.write_text(yaml.safe_dump(merged, sort_keys=False), encoding="utf-8")
        return
    if target.is_dir():
        shutil.rmtree(target)
    shutil.copyfile(source, target)


def _copy_tree(root: Path, source: Path, target: Path, op: CopyOperation, budget: Budget, base: str) -> None:
    """Copy the folder ``source`` to ``target``; excluded entries (their path below ``base``) are left out."""
    target.mkdir(parents=True, exist_ok=True)
    for current, dirs, files in os.walk(source):
        here = Path(current)
        relative = here.relative_to(source)
        for name in list(dirs):
            rel = (relative / name).as_posix()
            if excluded(_below(base, (here / name).relative_to(root).as_posix()), op.exclude):
                dirs.remove(name)
            else:
                _inside(root, here / name, budget.where)
                (target / rel).mkdir(parents=True, exist_ok=True)
        for name in sorted(files):
            rel = (relative / name).as_posix()
            if not excluded(_below(base, (here / name).relative_to(root).as_posix()), op.exclude):
                _copy_file(_inside(root, here / name, budget.where), target / rel, op.merge, budget)


def _below(folder: str, name: str) -> str:
    """The file ``name`` relative to ``folder`` ("" is the source's root)."""
    return name[len(folder) + 1:] if folder and name.startswith(folder + "/") else name


def _copy_match(root: Path, relative: str, target: Path, op: CopyOperation, budget: Budget, base: str) -> None:
    source = _inside(root, root / relative, budget.where)
    if source.is_dir():
        _copy_tree(root, source, target, op, budget, base)
    else:
        _copy_file(source, target, op.merge, budget)


def literal_base(pattern: str) -> str:
    """The folders of a glob before its first glob character (``apps/base`` of ``apps/base/**``)."""
    parts = []
    for segment in pattern.split("/"):
        if _GLOB.search(segment):
            break
        parts.append(segment)
    return "/".join(p for p in parts if p)


def apply(op: CopyOperation, sources: dict[str, Path], staging: Path, budget: Budget) -> None:
    """Run one copy operation into ``staging``; BuildFailed (source-watcher's words) when it copies nothing."""
    if op.alias not in sources:
        raise BuildFailed(f"{budget.where}: failed to apply copy operation {op.shown}: source alias '{op.alias}' "
                          "not found")
    root = sources[op.alias].resolve()
    destination = staging / op.destination if op.destination else staging
    if not _GLOB.search(op.pattern):
        path = op.pattern.strip("/") or "."
        source = root / path
        if not source.exists():
            raise BuildFailed(f"{budget.where}: failed to apply copy operation {op.shown}: source '{path}' does not "
                              "exist")
        if _inside(root, source, budget.where).is_dir():  # cp -r dir dest/: the folder lands inside dest
            _copy_match(root, path, destination / source.name if path != "." else destination, op, budget, path)
        elif not excluded(path, op.exclude):
            into = op.into_folder or destination.is_dir()
            _copy_match(root, path, destination / source.name if into else destination, op, budget, path)
        return
    base = literal_base(op.pattern)
    matches = [m for m in go_glob(root, op.pattern, budget.where) if not excluded(_below(base, m), op.exclude)]
    if not matches:
        raise BuildFailed(f"{budget.where}: failed to apply copy operation {op.shown}: no files match pattern "
                          f"'{op.pattern}' in source '{op.alias}'")
    for match in matches:  # a match keeps its path below the pattern's literal folder (cp dir/*.yaml dest/)
        _copy_match(root, match, destination / _below(base, match), op, budget, base)
