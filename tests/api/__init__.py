"""Tests of gitops_tui/api/: the management API's names, CRDs, typed views, effective state and precedence."""
