"""Tests of the management API types and the reconciler's source, render, tenancy and health."""
