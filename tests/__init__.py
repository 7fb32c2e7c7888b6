"""The gitops-tui test suite."""
