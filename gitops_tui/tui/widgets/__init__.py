"""Reusable console widgets: resource panes, the status header, the detail line."""
