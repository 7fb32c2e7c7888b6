"""`journal --follow -o json` is a line stream: the entries so far, then each new one as it is recorded."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from gitops_tui.actions import alerts as alert_actions
from tests.waiting import wait_until
from tests.world import World

ROOT = Path(__file__).resolve().parents[2]


def test_follow_prints_one_json_object_per_line_as_entries_land(world: World, sandbox: Any) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "gitops_tui", "journal", "--follow", "-o", "json",
                             "-p", world.project], cwd=ROOT, env=sandbox.env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    seen: list[dict[str, Any]] = []

    def arrived() -> bool:
        while not lines.empty():
            seen.append(json.loads(lines.get()))
        return any(e["action"] == "alert-create" for e in seen)

    try:
        alert_actions.create_alert(world.api, world.project, "followed", format_="generic",
                                   url="https://hooks.example.com/x", events=["failure"])
        wait_until(arrived, timeout=30.0, message="the new entry on the stream")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    entry = next(e for e in seen if e["action"] == "alert-create")
    assert entry["project"] == world.project and "followed" in entry["reason"] and entry["time"]
    assert set(entry) >= {"time", "action", "actor", "identity", "reason", "project", "source", "clusters",
                          "objects", "name"}
