"""Kubernetes client plumbing: clients from kubeconfig, server-side apply and dry-run diff, inventory, watches, the leader lease."""
