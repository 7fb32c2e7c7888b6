"""Tests of Helm releases: storage format, rendering, values and the cross-cluster view."""
