"""Tests of gitops_tui/backends/: the read side between the clusters and the views (tree I/O)."""
