"""Operator actions shared by the command line and the console (they only write the management cluster)."""
