"""Tests of gitops_tui/cli/: each verb through the real command line, its output shapes and its errors."""
