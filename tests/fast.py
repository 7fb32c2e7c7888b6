"""The `fast` marker: tests that need no sandbox, git, subprocess or terminal, chosen by module and fixtures.

`scripts/test --fast` (`pytest -m fast`) runs them: a few hundred tests in well under a minute. A test is fast when
its module is listed in FAST_MODULES and it asks for no fixture outside PURE_FIXTURES (a module's sandbox-backed
tests stay out on their own). In a `-m fast` run a fast test that starts a process or opens a connection fails,
naming what it started, so the set stays honest as tests are added.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

#: Modules (relative to tests/) whose pure tests are fast: models, views, patch, schema, substitution, limits.
FAST_MODULES = frozenset({
    "api/test_api.py",
    "api/test_effective_state.py",
    "api/test_precedence_windows.py",
    "api/test_windows_model.py",
    "cli/test_cli_resources.py",
    "deploy/test_chart_render.py",
    "deploy/test_dockerfile.py",
    "deploy/test_in_cluster.py",
    "helm/test_oci_source.py",
    "helm/test_secret_redaction.py",
    "helm/test_storage.py",
    "house/test_import_hygiene.py",
    "house/test_module_cycles.py",
    "house/test_module_sizes.py",
    "house/test_no_secret_in_pictures.py",
    "house/test_private_imports.py",
    "house/test_request_paths.py",
    "kube/test_attach_credentials.py",
    "kube/test_config_hashes.py",
    "kube/test_diff.py",
    "reconciler/flux/test_flux_references.py",
    "reconciler/flux/test_flux_substitute.py",
    "reconciler/flux/test_sops_format.py",
    "reconciler/test_applied_cache.py",
    "reconciler/test_bounded_cost.py",
    "reconciler/test_health.py",
    "reconciler/test_shards.py",
    "reconciler/test_suspend.py",
    "reconciler/test_tenancy.py",
    "sandbox/test_catalog.py",
    "sandbox/test_controllers_queue.py",
    "sandbox/test_crd_schema.py",
    "sandbox/test_fieldmanager.py",
    "sandbox/test_patch.py",
    "sandbox/test_strict_rules.py",
    "sandbox/test_table_openapi.py",
    "sandbox/test_validation.py",
    "tui/test_console_client.py",
    "tui/test_incident_flows.py",
    "tui/test_keymap.py",
    "tui/test_module_cycles.py",
    "tui/test_new_user.py",
    "tui/test_themes.py",
    "util/test_at_once.py",
    "util/test_observers.py",
    "views/test_alert_notices.py",
    "views/test_freeze_views.py",
    "views/test_header_fit.py",
    "views/test_header_shards.py",
    "views/test_state_ring_and_loading.py",
    "views/test_views.py",
    "walls/test_walls_expansion.py",
    "walls/test_walls_fetch.py",
})

#: Fixtures a fast test may ask for: pytest's own, and the session's isolated home (a temporary folder).
PURE_FIXTURES = frozenset({
    "request", "tmp_path", "tmp_path_factory", "monkeypatch", "capsys", "capfd", "caplog", "recwarn",
    "_isolated_home", "_syrupy_apply_ide_patches", "event_loop_policy", "_fast_stays_fast",
})


def is_fast(item: pytest.Item) -> bool:
    """Whether ``item`` belongs to the fast set: listed module, only pure fixtures (parameters aside)."""
    module = item.nodeid.split("::", 1)[0].removeprefix("tests/")
    if module not in FAST_MODULES:
        return False
    params = set(getattr(getattr(item, "callspec", None), "params", {}) or {})
    return set(getattr(item, "fixturenames", ())) - params <= PURE_FIXTURES


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the fast tests."""
    for item in items:
        if is_fast(item):
            item.add_marker(pytest.mark.fast)


class SlowPartUsed(RuntimeError):
    """A test marked fast started a process or opened a connection."""


@pytest.fixture(autouse=True)
def _fast_stays_fast(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """In a `-m fast` run, refuse processes and connections to the fast tests (only then: other tests' threads)."""
    if request.config.getoption("markexpr", "") != "fast" or request.node.get_closest_marker("fast") is None:
        yield
        return

    def no_process(self: Any, args: Any, *rest: Any, **kwargs: Any) -> None:
        raise SlowPartUsed(f"a fast test started a process ({args!r}): take it out of tests/fast.py FAST_MODULES")

    def no_connection(self: Any, address: Any) -> None:
        raise SlowPartUsed(f"a fast test opened a connection to {address!r}: take it out of tests/fast.py")

    monkeypatch.setattr(subprocess.Popen, "__init__", no_process)
    monkeypatch.setattr(socket.socket, "connect", no_connection)
    yield
