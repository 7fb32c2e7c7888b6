"""The C allocator of a long-running process with many threads: at most a few malloc arenas (glibc's mallopt).

glibc gives each thread that meets a busy arena its own, up to eight per core; every watch thread then decodes
into its own arena, and the holes left in each are not shared or returned. With 1,000 sources the console held
about 20 MiB more that way (docs/console.md#memory). ``MALLOC_ARENA_MAX`` set by the operator wins.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: glibc's mallopt parameter number for the arena limit (malloc.h ``M_ARENA_MAX``).
M_ARENA_MAX = -8
#: Arenas kept: Python allocates under its GIL, so threads seldom contend for one.
ARENAS = 2


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap the malloc arenas of this process (call before starting threads); False where it cannot (not glibc, or
    ``MALLOC_ARENA_MAX`` already chosen)."""
    if not sys.platform.startswith("linux") or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 - glibc only: musl's mallopt ignores M_ARENA_MAX
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Give the pages the C allocator holds free back to the system (glibc ``malloc_trim``); False where it cannot.

    A few milliseconds for the console's heap; its free holes (after a burst of list or watch decoding) otherwise
    stay resident.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = (ctypes.c_size_t,)
    trim(0)
    return True
