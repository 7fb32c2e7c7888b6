"""Tests of gitops_tui/views/: the Textual-free rows, cells, header, forms and console state."""
