"""Textual-free views: management objects (raw dicts) turned into pane rows, cells and glyphs."""
