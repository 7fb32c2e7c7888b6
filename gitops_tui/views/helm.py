"""Data hook for the Helm Releases pane: a provider the Helm package registers later."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gitops_tui.views.state import ManagementState


@dataclass(frozen=True)
class HelmReleaseRow:
    """One Helm release as the pane shows it."""

    release: str
    namespace: str
    chart: str
    chart_version: str
    app_version: str
    status: str
    revision: int
    updated: str
    clusters: tuple[str, ...]


#: Columns of the Helm Releases pane, in order.
COLUMNS = ("Release", "Namespace", "Chart", "Version", "App version", "Status", "Rev", "Updated", "Clusters")

#: Text shown while no provider gives rows.
EMPTY = "No Helm release found. Releases rendered from HelmRelease objects will appear here."

HelmProvider = Callable[[ManagementState], list[HelmReleaseRow]]
_providers: list[HelmProvider] = []


def register_provider(provider: HelmProvider) -> None:
    """Register a function giving Helm release rows (called by gitops_tui.helm)."""
    if provider not in _providers:
        _providers.append(provider)


def unregister_provider(provider: HelmProvider) -> None:
    """Remove a provider (a backend that closes takes its provider with it)."""
    if provider in _providers:
        _providers.remove(provider)


def helm_rows(state: ManagementState) -> list[HelmReleaseRow]:
    """Return the Helm release rows from every registered provider ([] when none)."""
    rows: list[HelmReleaseRow] = []
    for provider in _providers:
        rows.extend(provider(state))
    return rows
