"""gitops-tui: a keyboard-driven terminal console for GitOps deployment across clusters."""

__version__ = "0.1.0"
