"""Helm releases: Helm storage records, chart rendering with real Helm, and the cross-cluster release view."""
