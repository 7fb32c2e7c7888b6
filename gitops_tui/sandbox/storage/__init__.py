"""The kine-style SQLite store behind each cluster."""
