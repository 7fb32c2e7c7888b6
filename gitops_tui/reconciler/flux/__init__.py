"""Flux's objects in a revision, understood by the reconciler itself: children, substitution, order (docs/flux.md)."""
