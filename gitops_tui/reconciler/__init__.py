"""The embedded reconciler: git sources, rendering, tenancy, health, the controller loop and its events."""
