"""The embedded Kubernetes-compatible API server, its controllers and the demo seed."""
