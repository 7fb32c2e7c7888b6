"""The embedded Kubernetes-compatible API server, its status simulator and the demo seed."""
