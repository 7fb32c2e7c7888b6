"""Pure patch and server-side apply (managedFields) logic."""
