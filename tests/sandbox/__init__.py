"""Tests of the sandbox API server, its store and its clients."""
