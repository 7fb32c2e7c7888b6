"""Walls against hostile tenant input (issue 18), each attack reproduced across the packages it crosses."""
