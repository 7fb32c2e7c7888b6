#!/usr/bin/env python3
"""Make screenshots/*.svg of every pane and dialog from the demo project (a fresh sandbox, never drawn by hand).

Starts a sandbox with the demo in a temporary data directory, lets a real reconciler apply the demo,
records the management objects, then drives the console over those objects (clock frozen at the
recording) and saves one SVG per screen. The sandbox is stopped at the end.

Usage: scripts/screenshots.py [--out screenshots] [--size 120x36]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

#: name -> keys pressed from the first pane (the demo project has one source, podinfo).
SCREENS: dict[str, list[str]] = {
    "pane-projects": ["1"],
    "pane-sources": ["2"],
    "pane-propagation": ["3"],
    "pane-secrets": ["4"],
    "pane-helm": ["5"],
    "pane-clusters": ["6"],
    "pane-events": ["7"],
    "dialog-suspend": ["2", "s", *"incident 7: manual hotfix"],
    "sources-suspended": ["2", "s", *"incident 7: manual hotfix", "enter"],
    "propagation-suspended": ["2", "s", *"incident 7: manual hotfix", "enter", "3"],
    "dialog-suspend-project": ["1", "S"],
    "dialog-resume-preview": ["2", "s", *"incident 7", "enter", "r"],
    "dialog-delete": ["2", "ctrl+d"],
    "form-new-source": ["2", "n"],
    "form-new-source-errors": ["2", "n", *"Bad_Name", "tab", *"nope", "enter"],
    "form-new-secret": ["4", "n", *"git-token", "tab", "tab", *"bot", "tab", *"hunter2"],
    "view-yaml": ["2", "y"],
    "view-describe": ["2", "d"],
    "help": ["question_mark"],
    "filter": ["7", "slash", *"cluster=dev", "enter"],
    "palette": ["ctrl+p"],
}


def record_demo(home: Path) -> tuple[dict, datetime]:
    """Start the demo sandbox in ``home``, reconcile it, and return its management objects."""
    os.environ["GITOPS_TUI_HOME"] = str(home)
    from gitops_tui.kube.client import ClusterConnections, api_client_from_kubeconfig, json_request
    from gitops_tui.reconciler.manager import Reconciler
    from gitops_tui.sandbox import manager
    from gitops_tui.tui.live import WATCHED

    status = manager.up(home=home)
    api = api_client_from_kubeconfig(status.kubeconfig, "management")
    reconciler = Reconciler(api, data_dir=home / "reconciler", identity="gitops-tui-console")
    reconciler.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            listed = json_request(api, "GET", "/apis/types.kubefed.io/v1beta1/federatedkustomizations")
            items = listed.get("items") or []
            clusters = [c for i in items for c in (i.get("status") or {}).get("clusters") or []]
            if items and clusters and all(c.get("lastAppliedRevision") for c in clusters):
                break
            time.sleep(0.5)
        objects = {key: json_request(api, "GET", path).get("items") or [] for key, path in WATCHED}
        connections = ClusterConnections(api)
        objects["versions"] = [
            {"metadata": {"name": c["metadata"]["name"]},
             "version": json_request(connections.api_client(c["metadata"]["name"]), "GET", "/version")["gitVersion"]}
            for c in objects["clusters"]
        ]
        connections.close()
    finally:
        reconciler.stop()
        manager.down(home=home)
    return objects, datetime.now(timezone.utc).replace(microsecond=0)


async def shoot(objects: dict, now: datetime, out: Path, size: tuple[int, int]) -> None:
    """Drive the console over the recorded objects and save one SVG per screen."""
    from gitops_tui.themes import builtin_dir
    from gitops_tui.tui.app import GitOpsApp
    from gitops_tui.views.static import StaticBackend

    for name, keys in SCREENS.items():
        backend = StaticBackend(objects, context="sandbox/management", identity="gitops-tui-console", now=now)
        app = GitOpsApp(backend, theme="gitops-dark", live=False, remember_theme=False, theme_dirs=(builtin_dir(),))
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            for key in keys:
                await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.pause()
            (out / f"{name}.svg").write_text(app.export_screenshot(title=f"gitops-tui: {name}"))
        print(f"wrote {out / name}.svg")


def main() -> int:
    """Record the demo and write the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "screenshots"))
    parser.add_argument("--size", default="120x36")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gitops-tui-shots-") as home:
        objects, now = record_demo(Path(home))
    for event in objects.get("events", []):
        event.get("metadata", {}).pop("managedFields", None)
    asyncio.run(shoot(objects, now, out, (width, height)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
