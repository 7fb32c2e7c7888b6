"""`python -m tests.reconciler.shard_runner LOG run ...`: a real `gitops-tui run` that also logs its writes.

Each write to a workload cluster becomes one JSON line in LOG: the pid, cluster, verb, object id and the
monotonic start and end (CLOCK_MONOTONIC is one clock for every process of the machine), so a test can
check that two processes never wrote for one project at the same time.
"""

from __future__ import annotations

import json
import os
import sys
import threading

from gitops_tui.cli import main
from gitops_tui.reconciler import propagate


def run(log_path: str, argv: list[str]) -> int:
    """Run the CLI with ``argv`` while appending every write record to ``log_path``."""
    lock = threading.Lock()
    with open(log_path, "a", buffering=1) as log:
        def record(write: propagate.WriteRecord) -> None:
            line = json.dumps({"pid": os.getpid(), "cluster": write.cluster, "verb": write.verb,
                               "object": write.object_id, "started": write.started, "finished": write.finished})
            with lock:
                log.write(line + "\n")

        propagate.add_write_hook(record)
        return main(argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2:]))
