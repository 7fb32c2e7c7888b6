"""Helm tests run on a single in-process sandbox cluster: the sandbox suite's own fixtures."""

from tests.sandbox.conftest import dynamic_client, kubectl, sandbox_kubeconfig, sandbox_server  # noqa: F401
