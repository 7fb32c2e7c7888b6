"""Console themes: load and validate theme files (YAML) and remember the chosen one. No textual."""

from __future__ import annotations

import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gitops_tui import paths

log = logging.getLogger(__name__)

DEFAULT_THEME = "gitops-dark"
#: Colour slots a theme file may set (Textual's theme fields).
COLOR_FIELDS = ("primary", "secondary", "accent", "warning", "error", "success",
                "foreground", "background", "surface", "panel", "boost")
#: App variables every theme gets (a file may override them): status colours of the panes.
APP_VARIABLES = ("status-ready", "status-failing", "status-progress", "status-suspended")
_COLOR = re.compile(
    r"^(#[0-9a-fA-F]{3,4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|ansi_[a-z_]+|"
    r"(rgb|rgba|hsl|hsla)\([0-9., %]+\)|[a-z]+)$"
)
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")


class ThemeError(ValueError):
    """A theme file that cannot be used, with a one-sentence reason."""


@dataclass(frozen=True)
class ThemeSpec:
    """A validated theme: colours by Textual field, app variables, dark flag, origin file."""

    name: str
    colors: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    dark: bool = True
    ansi: bool = False
    path: Path | None = None


#: Where a wheel installs the shipped themes, under the installation prefix (pyproject data-files).
SHARE_THEMES = Path("share") / "gitops-tui" / "themes"


def repo_dir() -> Path:
    """The repository's top-level themes/ folder (present in a checkout or an editable install)."""
    return Path(__file__).resolve().parent.parent / "themes"


def installed_dir(prefix: str | None = None) -> Path:
    """The themes folder a wheel installs: ``<prefix>/share/gitops-tui/themes`` (default ``sys.prefix``)."""
    return Path(prefix if prefix is not None else sys.prefix) / SHARE_THEMES


def builtin_dir() -> Path:
    """The shipped themes: the repository's themes/ first, else the installed data files."""
    for folder in (repo_dir(), installed_dir()):
        if folder.is_dir():
            return folder
    return repo_dir()


def search_dirs() -> tuple[Path, ...]:
    """Theme folders in load order: the shipped themes, then the operator's ``<data>/themes/`` (which may override)."""
    return builtin_dir(), user_dir()


def user_dir() -> Path:
    """The folder for the operator's own theme files in the data directory."""
    return paths.data_dir() / "themes"


def parse_theme(data: Any, path: Path | None = None) -> ThemeSpec:
    """Validate a theme document; raise ThemeError naming the first problem."""
    where = path.name if path else "theme"
    if not isinstance(data, dict):
        raise ThemeError(f"{where} is not a mapping of theme fields.")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ThemeError(f"{where} needs a name of lower-case letters, digits and '-'.")
    unknown = set(data) - {"name", "dark", "ansi", "variables", *COLOR_FIELDS}
    if unknown:
        raise ThemeError(f"{where} has unknown fields: {', '.join(sorted(unknown))}.")
    if "primary" not in data:
        raise ThemeError(f"{where} needs a primary colour.")
    colors: dict[str, str] = {}
    for key in COLOR_FIELDS:
        if key in data:
            value = data[key]
            if not isinstance(value, str) or not _COLOR.match(value.strip()):
                raise ThemeError(f"{where}: {key} is not a colour ({value!r}).")
            colors[key] = value.strip()
    variables = data.get("variables") or {}
    if not isinstance(variables, dict) or not all(isinstance(v, str) for v in variables.values()):
        raise ThemeError(f"{where}: variables must map names to colour strings.")
    for key, value in variables.items():
        if not _COLOR.match(value.strip()):
            raise ThemeError(f"{where}: variable {key} is not a colour ({value!r}).")
    return ThemeSpec(
        name=name,
        colors=colors,
        variables={str(k): v.strip() for k, v in variables.items()},
        dark=bool(data.get("dark", True)),
        ansi=bool(data.get("ansi", False)),
        path=path,
    )


def load_file(path: Path) -> ThemeSpec:
    """Read and validate one theme file."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ThemeError(f"{path.name} cannot be read as YAML ({type(exc).__name__}).") from None
    return parse_theme(data, path)


def load_themes(*folders: Path) -> tuple[dict[str, ThemeSpec], list[str]]:
    """Load every ``*.yaml`` theme from the folders; return themes by name and one error per bad file."""
    themes: dict[str, ThemeSpec] = {}
    errors: list[str] = []
    for folder in folders or search_dirs():
        if not folder.is_dir():
            continue
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            try:
                spec = load_file(path)
            except ThemeError as exc:
                log.warning("theme file skipped: %s", exc)
                errors.append(str(exc))
                continue
            themes[spec.name] = spec
    return themes, errors


def settings_path() -> Path:
    """The console settings file in the data directory."""
    return paths.data_dir() / "console.yaml"


def remembered_theme() -> str | None:
    """Return the theme name chosen last time, or None."""
    try:
        data = yaml.safe_load(settings_path().read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None
    value = data.get("theme") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def remember_theme(name: str) -> None:
    """Write the chosen theme name to the settings file (errors are logged, not raised)."""
    path = settings_path()
    try:
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            data = {}
        data = data if isinstance(data, dict) else {}
        data["theme"] = name
        with os.fdopen(paths.open_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), "w") as handle:
            handle.write(yaml.safe_dump(data, sort_keys=True))
    except OSError as exc:
        log.warning("could not remember theme: %s", exc)


def resolve_choice(
    requested: str | None, themes: dict[str, ThemeSpec], remember: bool = False
) -> tuple[str, dict[str, ThemeSpec], list[str]]:
    """Pick the theme to use: --theme (a name or a file), else the remembered one, else the default.

    A ``requested`` theme that loads is remembered when ``remember`` is set (a file by its absolute path).
    Returns the name, the themes (plus a file given by path) and errors to notify.
    """
    errors: list[str] = []
    themes = dict(themes)
    if requested:
        name = _resolve(requested, themes, errors)
        if name is not None and remember:
            remember_theme(name if requested in themes else str(Path(requested).expanduser().resolve()))
        return name or DEFAULT_THEME, themes, errors
    remembered = remembered_theme()
    if remembered:
        quiet: list[str] = []
        name = _resolve(remembered, themes, quiet)
        if name is not None:
            return name, themes, errors
    return DEFAULT_THEME, themes, errors


def _resolve(requested: str, themes: dict[str, ThemeSpec], errors: list[str]) -> str | None:
    """Return the theme named (or the file's theme, added to ``themes``), or None with the error appended."""
    candidate = Path(requested).expanduser()
    if requested not in themes and (candidate.suffix in (".yaml", ".yml") or candidate.exists()):
        try:
            spec = load_file(candidate)
        except ThemeError as exc:
            errors.append(f"{exc} Using {DEFAULT_THEME}.")
            return None
        themes[spec.name] = spec
        return spec.name
    if requested in themes:
        return requested
    errors.append(f"No theme named {requested}; using {DEFAULT_THEME}.")
    return None
