"""Tests of gitops_tui/reconciler/flux/: Flux kinds, layouts, substitution, artifacts and SOPS decryption."""
