"""Semantic versions and Masterminds-style constraints (the subset Flux and Helm users write), pure.

Used for git tags (``ref.semver``, reconciler/refs.py) and for chart versions of a repository index
(helm/charts.py), so both pick a version the way Flux and Helm do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)(?:\.(?P<minor>0|[1-9]\d*))?(?:\.(?P<patch>0|[1-9]\d*))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_COMPARATOR = re.compile(r"^(?P<op>>=|<=|!=|=|>|<|~|\^)?\s*(?P<version>\S+)$")


@dataclass(frozen=True, order=False)
class Version:
    """A semantic version; prerelease versions sort before their release."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()

    def key(self) -> tuple:
        """A sort key following semver precedence."""
        pre_key: tuple = (1,) if not self.pre else (0,) + tuple(
            (0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre
        )
        return (self.major, self.minor, self.patch, pre_key)


def parse_version(text: str) -> Version | None:
    """Parse "v1.2.3", "1.2.3-rc.1" (full versions only); None when not a semantic version."""
    match = _VERSION.match(text.strip())
    if not match or match.group("minor") is None or match.group("patch") is None:
        return None
    pre = tuple(match.group("pre").split(".")) if match.group("pre") else ()
    return Version(int(match.group("major")), int(match.group("minor")), int(match.group("patch")), pre)


def _partial(text: str) -> tuple[list[int | None], tuple[str, ...]]:
    """Parse a constraint version that may be partial or wildcarded ("1", "1.2", "1.x", "*")."""
    text = text.strip().lstrip("v")
    pre: tuple[str, ...] = ()
    if "-" in text:
        text, pre_text = text.split("-", 1)
        pre = tuple(pre_text.split("."))
    parts: list[int | None] = []
    for piece in text.split(".")[:3]:
        if piece in ("x", "X", "*", ""):
            parts.append(None)
        elif piece.isdigit():
            parts.append(int(piece))
        else:
            raise ValueError(f"invalid version {text!r} in semver constraint")
    while len(parts) < 3:
        parts.append(None)
    return parts, pre


def _floor(parts: list[int | None], pre: tuple[str, ...]) -> Version:
    """The lowest version a partial version covers."""
    return Version(parts[0] or 0, parts[1] or 0, parts[2] or 0, pre)


def _comparator_ok(op: str, text: str, version: Version) -> bool:
    """Whether `version` satisfies one comparator."""
    parts, pre = _partial(text)
    major, minor, patch = parts
    key = version.key()
    floor = _floor(parts, pre).key()
    if major is None:
        return op in ("", "=", ">=", "<=", "~", "^")
    if op in ("", "=") and (minor is None or patch is None):
        op = "~" if minor is not None else "^"
        if minor is None:
            return version.major == major
    if op in ("", "="):
        return key == floor
    if op == "!=":
        return key != floor
    if op == ">":
        if minor is None:
            return version.major > major
        if patch is None:
            return (version.major, version.minor) > (major, minor)
        return key > floor
    if op == ">=":
        return key >= floor
    if op == "<":
        return key < floor
    if op == "<=":
        if minor is None:
            return version.major <= major
        if patch is None:
            return (version.major, version.minor) <= (major, minor)
        return key <= floor
    if op == "~":
        upper = (major, (minor or 0) + 1, 0) if minor is not None else (major + 1, 0, 0)
        return key >= floor and (version.major, version.minor, version.patch) < upper
    if op == "^":
        if major > 0 or minor is None:
            upper = (major + 1, 0, 0)
        elif minor > 0 or patch is None:
            upper = (0, minor + 1, 0)
        else:
            upper = (0, 0, (patch or 0) + 1)
        return key >= floor and (version.major, version.minor, version.patch) < upper
    raise ValueError(f"invalid operator {op!r} in semver constraint")


def _and_groups(constraint: str) -> list[list[tuple[str, str]]]:
    """Split a constraint into OR-groups of AND-ed (operator, version) comparators."""
    groups = []
    for alternative in constraint.split("||"):
        text = re.sub(r"(>=|<=|!=|=|>|<|~|\^)\s+", r"\1", alternative.replace(",", " "))
        comparators = []
        hyphen = re.match(r"^\s*(\S+)\s+-\s+(\S+)\s*$", alternative)
        if hyphen:
            comparators = [(">=", hyphen.group(1)), ("<=", hyphen.group(2))]
        else:
            for token in text.split():
                match = _COMPARATOR.match(token)
                if not match:
                    raise ValueError(f"invalid semver constraint {constraint!r}")
                comparators.append((match.group("op") or "", match.group("version")))
        if not comparators:
            raise ValueError(f"invalid semver constraint {constraint!r}")
        groups.append(comparators)
    return groups


def satisfies(version: Version, constraint: str) -> bool:
    """Whether the version satisfies the constraint (">=1.0.0 <2.0.0", "~1.2", "^1", "1.x", "a || b").

    Prereleases match only when a comparator of the group names a prerelease.
    """
    for group in _and_groups(constraint):
        if version.pre and not any("-" in text for _, text in group):
            continue
        if all(_comparator_ok(op, text, version) for op, text in group):
            return True
    return False


def validate_constraint(constraint: str) -> None:
    """Raise ValueError when the constraint cannot be parsed."""
    for group in _and_groups(constraint):
        for op, text in group:
            _comparator_ok(op, text, Version(0, 0, 0))


def best_tag(tags: list[str], constraint: str) -> str | None:
    """The tag with the highest semantic version satisfying the constraint, or None."""
    validate_constraint(constraint)
    candidates = []
    for tag in tags:
        version = parse_version(tag)
        if version is not None and satisfies(version, constraint):
            candidates.append((version.key(), tag))
    return max(candidates)[1] if candidates else None
