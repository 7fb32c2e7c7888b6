"""Git: a long-lived ``git cat-file --batch-check`` per repository against a process per command (issue 21 item 1).

The question the reconciler asks of a cached repository at each new commit: what commit and tree a revision names.
Asked ``--reads`` times of a repository of ``--commits`` commits, both ways, in the same run: through one
reconciler/git_objects.ObjectReader (one batch process answering on a pipe), and as two short git commands per
read (``git cat-file -e REV^{commit}`` then ``git rev-parse REV^{tree}``), the shape of the reads before. Printed:
wall and CPU (this process and its waited-for children, from getrusage) per read, the ratio, the batch process's
RSS, and the load average.

Run: .venv/bin/python bench/bench_git.py [--reads 300] [--commits 50] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import git, init_repo, load_average, ratio  # noqa: E402
from gitops_tui.reconciler.git_objects import ObjectReader  # noqa: E402


def cpu_now() -> float:
    """CPU seconds of this process and its waited-for children so far."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(reads: list[str], read: Any) -> tuple[float, float]:
    """(wall, CPU) seconds per read of ``read(revision)`` over ``reads``."""
    cpu, wall = cpu_now(), time.monotonic()
    for revision in reads:
        read(revision)
    return (time.monotonic() - wall) / len(reads), (cpu_now() - cpu) / len(reads)


def rss_mib(pid: int) -> float:
    """RSS of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def measure(reads: int, commits: int) -> dict[str, Any]:
    """Both ways over the same revisions of a fresh repository."""
    home = Path(tempfile.mkdtemp(prefix="bench-git-"))
    try:
        repo = init_repo(home / "repo", lambda root: (root / "a.txt").write_text("0\n"))
        for n in range(1, commits):
            (repo / "a.txt").write_text(f"{n}\n")
            git(repo, "commit", "-q", "-am", str(n))
        shas = git(repo, "rev-list", "HEAD").split()
        revisions = [shas[i % len(shas)] for i in range(reads)]
        git_dir = repo / ".git"
        env = {**os.environ, "GIT_DIR": str(git_dir)}

        def per_command(revision: str) -> None:
            subprocess.run(["git", "cat-file", "-e", f"{revision}^{{commit}}"], env=env, check=True)
            subprocess.run(["git", "rev-parse", f"{revision}^{{tree}}"], env=env, check=True, capture_output=True)

        reader = ObjectReader(git_dir, env)
        cpu, wall = cpu_now(), time.monotonic()  # the batch's start and end counted: one per burst of reads
        for revision in revisions:
            reader.resolve(revision)
            reader.resolve(revision, "tree")
        batch_wall = (time.monotonic() - wall) / reads
        batch_rss = rss_mib(reader._process.pid) if reader._process is not None else 0.0  # noqa: SLF001 - measure
        reader.close()  # waited for: its CPU joins this process's children's
        batch_cpu = (cpu_now() - cpu) / reads
        command_wall, command_cpu = timed(revisions, per_command)
        return {
            "reads": reads,
            "batch: wall ms per read (commit and tree)": round(1000 * batch_wall, 3),
            "batch: CPU ms per read": round(1000 * batch_cpu, 3),
            "two git commands: wall ms per read": round(1000 * command_wall, 3),
            "two git commands: CPU ms per read": round(1000 * command_cpu, 3),
            "ratio CPU batch / commands": ratio(batch_cpu, command_cpu),
            "ratio wall batch / commands": ratio(batch_wall, command_wall),
            "batch process RSS (MiB)": batch_rss,
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    """Measure and print, with the load average."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = load_average()
    results = measure(args.reads, args.commits)
    results["load average (1, 5, 15 min) at the start"] = started
    results["load average (1, 5, 15 min) at the end"] = load_average()
    print(json.dumps(results, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in results.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
