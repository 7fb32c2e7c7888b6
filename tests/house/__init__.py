"""House rules over the whole code base: layers, cycles, sizes, private imports, request paths, pictures."""
