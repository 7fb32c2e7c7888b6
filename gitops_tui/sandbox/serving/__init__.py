"""HTTP serving: the TLS listener, requests, routing, bodies and Status errors."""
