"""Git ref selection: remote ref listings, semver tags and constraints (Masterminds-style subset, api/semver.py)."""

from __future__ import annotations

from gitops_tui.api.semver import Version, best_tag, parse_version, satisfies, validate_constraint

__all__ = ["Version", "best_tag", "parse_ls_remote", "parse_version", "satisfies", "validate_constraint"]


def parse_ls_remote(output: str) -> dict[str, str]:
    """Parse `git ls-remote` output into {ref: sha}; annotated tags resolve to their commit (^{})."""
    refs: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in output.splitlines():
        if "\t" not in line:
            continue
        sha, ref = line.split("\t", 1)
        if ref.endswith("^{}"):
            peeled[ref[:-3]] = sha
        else:
            refs[ref] = sha
    refs.update(peeled)
    return refs
