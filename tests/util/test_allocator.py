"""The console caps its malloc arenas: threads share two instead of taking one each (util/allocator.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gitops_tui.util import allocator

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Eight threads each keep blocks too big for Python's own small-object allocator (so glibc's malloc serves them),
#: then glibc prints its arenas (``malloc_stats``: one "Arena N:" per arena) on stderr.
THREADS = """
import ctypes, sys, threading
from gitops_tui.util.allocator import limit_arenas
limited = limit_arenas() if sys.argv[1] == "limit" else False
kept, ready = [], threading.Barrier(8)
def work():
    ready.wait()
    kept.append([bytes(2048 + i) for i in range(200)])
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(limited, flush=True)
ctypes.CDLL(None).malloc_stats()
"""


def _arenas(mode: str) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run([sys.executable, "-c", THREADS, mode], capture_output=True, text=True, timeout=60,
                         check=True, cwd=REPO_ROOT, env=env)
    return out.stdout.strip(), len(re.findall(r"^Arena \d+:", out.stderr, re.MULTILINE))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's arenas")
def test_threads_share_two_arenas_once_limited() -> None:
    limited, arenas = _arenas("limit")
    assert limited == "True"
    assert arenas <= allocator.ARENAS
    _, unlimited = _arenas("none")
    assert unlimited > allocator.ARENAS, "without the cap glibc gives threads arenas of their own (else this proves nothing)"


def test_the_operators_own_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert allocator.limit_arenas() is False


def test_the_console_caps_its_arenas_before_any_thread() -> None:
    """run_console calls it first, before the exit guard starts its thread."""
    source = (REPO_ROOT / "gitops_tui" / "cli" / "console_cmd.py").read_text()
    body = source[source.index("def run_console("):]
    assert body.index("limit_arenas()") < body.index("ExitGuard()")


#: 2,000 blocks of 16 KiB (glibc's heap, under its mmap threshold), every other one freed: 16 MiB of holes that
#: stay resident until trimmed. Prints the anonymous RSS (KiB) before and after release_free_memory().
HOLES = """
from pathlib import Path
from gitops_tui.util.allocator import release_free_memory
def anonymous():
    return next(int(l.split()[1]) for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("RssAnon"))
blocks = [bytearray(16 * 1024) for _ in range(2000)]
del blocks[::2]
before = anonymous()
released = release_free_memory()
print(released, before, anonymous())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_free_holes_go_back_to_the_system() -> None:
    out = subprocess.run([sys.executable, "-c", HOLES], capture_output=True, text=True, timeout=60, check=True,
                         cwd=REPO_ROOT)
    released, before, after = out.stdout.split()
    assert released == "True"
    assert int(before) - int(after) >= 8 * 1024, out.stdout
