"""Tests of the kube plumbing that need no cluster."""
