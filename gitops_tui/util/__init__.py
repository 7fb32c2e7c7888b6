"""Neutral helpers that every package, the sandbox included, may import: they import no other gitops_tui package."""
