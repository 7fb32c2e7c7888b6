"""Tests of the sandbox: the API server, its controllers, processes, CLI and demo repository."""
