"""Which files of a tree kustomize reads: the kustomization file names and the manifest suffixes.

Shared by render.py and kustomize_guard.py (which render uses), so that neither imports the other for them.
"""

from __future__ import annotations

from pathlib import Path

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def find_kustomization(directory: Path) -> Path | None:
    """The kustomization file in `directory`, or None."""
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None
