"""Tests of gitops_tui/journal/: operator actions and corrections in one timeline, and its CLI stream."""
