"""Controllers that act on the sandbox as clients, like a controller manager."""
