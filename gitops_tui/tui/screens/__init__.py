"""The console's screens: the main panes screen and its dialogs."""
