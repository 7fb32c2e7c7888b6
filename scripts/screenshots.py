#!/usr/bin/env python3
"""Make screenshots/*.svg of every pane and dialog from the demo project (a fresh sandbox, never drawn by hand).

Starts a sandbox with the demo in a temporary data directory, lets a real reconciler apply the demo
(its plain objects and its Helm release), records the management objects and the Helm releases,
then points prod's kubeconfig Secret at a port nobody answers on until the reconciler marks prod
Offline and records the objects again (the stale-cluster screens; prod is put back after), then
suspends the demo source, edits its Deployment on staging with kubectl and records the real resume
preview (the drift). A live console then watches the sandbox while it is stopped, for the banner of
a broken management watch. The console is then driven over the recordings (clock frozen at the
recording) and saves one SVG per screen. The temporary data directory is shown as the default
``~/.local/share/gitops-tui``. The sandbox is stopped at the end.

Usage: scripts/screenshots.py [--out screenshots] [--size 120x36]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

#: A freeze window of the demo project on prod, open whenever the screenshots are made (daily, 24 hours).
WINDOW = [*"release", "tab", *"0 0 * * *", "tab", *"24h", "tab", *"UTC", "tab", *"prod", "tab", *"release freeze"]
#: name -> keys pressed from the first pane (the demo project has one source, podinfo).
SCREENS: dict[str, list[str]] = {
    "pane-projects": ["1"],
    "pane-sources": ["2"],
    "pane-propagation": ["3"],
    "pane-secrets": ["4"],
    "pane-helm": ["5"],
    "pane-clusters": ["6"],
    "pane-events": ["7"],
    "pane-journal": ["8"],
    "view-tree": ["2", "t"],
    "dialog-suspend": ["2", "s", *"incident 7: manual hotfix"],
    "sources-suspended": ["2", "s", *"incident 7: manual hotfix", "enter"],
    "propagation-suspended": ["2", "s", *"incident 7: manual hotfix", "enter", "3"],
    "dialog-suspend-project": ["1", "S"],
    "dialog-resume-preview": ["2", "s", *"incident 7: manual hotfix", "enter", "r"],
    "dialog-delete": ["2", "ctrl+d"],
    "dialog-delete-secret": ["4", "ctrl+d"],
    "dialog-delete-project": ["1", "ctrl+d"],
    "view-helm-release": ["5", "enter"],
    "form-new-project": ["1", "n", *"payments", "tab", "tab", "space", "down", "space"],
    "form-new-source": ["2", "n"],
    "form-new-source-errors": ["2", "n", *"Bad_Name", "tab", *"nope", "enter"],
    "form-new-secret": ["4", "n", *"git-token", "tab", "tab", *"bot", "tab", *"hunter2"],
    "view-yaml": ["2", "y"],
    "view-describe": ["2", "d"],
    "help": ["question_mark"],
    "filter": ["7", "slash", *"cluster=dev", "enter"],
    "palette": ["ctrl+p"],
    "dialog-freeze-project": ["1", "S", *"INC-7 prod freeze", "tab", *"prod", "tab", *"2h"],
    "projects-frozen-prod": ["1", "S", *"INC-7 prod freeze", "tab", *"prod", "enter"],
    "propagation-frozen-prod": ["1", "S", *"INC-7 prod freeze", "tab", *"prod", "enter", "3"],
    "dialog-resume-project": ["1", "S", *"INC-7 prod freeze", "tab", *"prod", "enter", "r"],
    "dialog-break-glass": ["2", "s", *"incident 7: manual hotfix", "enter", "B"],
    "dialog-resume-clusters": ["2", "s", *"incident 7: manual hotfix", "enter", "u"],
    "dialog-window": ["1", "W", *WINDOW],
    "propagation-window": ["1", "W", *WINDOW, "enter", "3"],
    "dialog-override": ["2", "O", *"prod", "tab", *"Deployment/podinfo", "tab",
                        *'[{"op":"replace","path":"/spec/replicas","value":3}]', "tab", "tab", *"prod load"],
}


#: name -> keys pressed, over the recording made while prod did not answer.
STALE_SCREENS: dict[str, list[str]] = {
    "cluster-stale": ["3"],
    "cluster-stale-projects": ["1"],
    "cluster-stale-clusters": ["6"],
}

#: How the temporary data directory appears in the screenshots (the default data directory).
DISPLAY_HOME = "~/.local/share/gitops-tui"
#: The suspension reason used for the recorded drift.
REASON = "incident 7: manual hotfix"


def _wait(predicate, what: str, timeout: float = 120.0):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something true (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what}")


def _point_prod_at(api, server: str | None) -> str:  # type: ignore[no-untyped-def]
    """Point prod's kubeconfig Secret at ``server`` (None: leave it); return the server it had."""
    import base64

    import yaml

    from gitops_tui.kube.client import json_request

    path = "/api/v1/namespaces/kube-federation-system/secrets/prod-kubeconfig"
    secret = json_request(api, "GET", path)
    config = yaml.safe_load(base64.b64decode(secret["data"]["kubeconfig"]))
    had = config["clusters"][0]["cluster"]["server"]
    if server is not None:
        config["clusters"][0]["cluster"]["server"] = server
        data = base64.b64encode(yaml.safe_dump(config).encode()).decode()
        json_request(api, "PATCH", path, {"data": {"kubeconfig": data}}, content_type="application/merge-patch+json")
    return had


def _ready_reason(api, name: str) -> str:  # type: ignore[no-untyped-def]
    from gitops_tui.kube.client import json_request

    cluster = json_request(api, "GET", f"/apis/core.kubefed.io/v1beta1/namespaces/kube-federation-system/"
                                       f"kubefedclusters/{name}")
    ready = [c for c in (cluster.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"]
    return ready[0].get("reason", "") if ready else ""


def record_stale(api, watched) -> tuple[dict, datetime]:  # type: ignore[no-untyped-def]
    """Make prod stop answering (its endpoint refuses connections), wait until the reconciler says so; record."""
    from gitops_tui.kube.client import json_request

    server = _point_prod_at(api, "https://127.0.0.1:1")
    try:
        _wait(lambda: _ready_reason(api, "prod") == "ClusterNotReachable", "prod to be Offline", timeout=60)
        time.sleep(20)  # the age of the last good data, as an operator would first see it
        objects = {key: json_request(api, "GET", path).get("items") or [] for key, path in watched}
        now = datetime.now(UTC).replace(microsecond=0)
    finally:
        _point_prod_at(api, server)
    _wait(lambda: _ready_reason(api, "prod") == "ClusterReady", "prod to be Ready again", timeout=60)
    return objects, now


async def shoot_banner(kubeconfig: Path, home: Path, out: Path, size: tuple[int, int]) -> None:
    """A live console watching the sandbox while it stops: the broken-watch banner, for real."""
    from gitops_tui.backends.live import LiveBackend
    from gitops_tui.sandbox import manager
    from gitops_tui.themes import builtin_dir
    from gitops_tui.tui.app import GitOpsApp

    backend = LiveBackend(kubeconfig, "management", "sandbox/management", reconcile=False)
    app = GitOpsApp(backend, theme="gitops-dark", live=True, read_only=True, remember_theme=False,
                    theme_dirs=(builtin_dir(),))
    app.cursor_blink = False
    async with app.run_test(size=size) as pilot:
        await pilot.press("2")
        for _ in range(600):
            if backend.synced():
                break
            await pilot.pause(0.1)
        manager.down(home=home)
        for _ in range(600):
            if "Management watch broken for" in str(app.screen.query_one("#banner").render()):
                break
            await pilot.pause(0.1)
        await pilot.pause(3.0)
        (out / "banner-watch-broken.svg").write_text(app.export_screenshot(title="gitops-tui: banner-watch-broken"))
        app.shutdown_backend()
    print(f"wrote {out / 'banner-watch-broken'}.svg")


def record_demo(home: Path) -> tuple[dict, datetime, dict, dict, datetime]:
    """Start the demo sandbox in ``home``, reconcile it; return its objects, the time and the extras, then the
    objects and the time of the recording with prod not answering."""
    os.environ["GITOPS_TUI_HOME"] = str(home)
    from gitops_tui.actions import sources
    from gitops_tui.api.journal_crd import journal_path
    from gitops_tui.backends.live import watched
    from gitops_tui.backends.static_helm import record_entries
    from gitops_tui.backends.tree import read_tree
    from gitops_tui.helm.cluster_view import collect_placements, project_placements
    from gitops_tui.kube.client import ClusterConnections, api_client_from_kubeconfig, json_request
    from gitops_tui.reconciler.manager import Reconciler
    from gitops_tui.reconciler.options import ReconcilerOptions
    from gitops_tui.sandbox import manager
    from gitops_tui.views.preview import format_preview
    from gitops_tui.views.tree import tree_lines

    status = manager.up(home=home)
    api = api_client_from_kubeconfig(status.kubeconfig, "management")
    reconciler = Reconciler(api, ReconcilerOptions(data_dir=home / "reconciler", identity="gitops-tui-console"))
    reconciler.start()
    connections = ClusterConnections(api)
    try:
        def applied() -> bool:
            listed = json_request(api, "GET", "/apis/types.kubefed.io/v1beta1/federatedkustomizations")
            items = listed.get("items") or []
            clusters = [c for i in items for c in (i.get("status") or {}).get("clusters") or []]
            return bool(items and clusters and all(c.get("lastAppliedRevision") for c in clusters))

        _wait(applied, "the demo to be applied", timeout=240)
        objects = {key: json_request(api, "GET", path).get("items") or [] for key, path in watched()}
        objects["versions"] = [
            {"metadata": {"name": c["metadata"]["name"]},
             "version": json_request(connections.api_client(c["metadata"]["name"]), "GET", "/version")["gitVersion"]}
            for c in objects["clusters"]
        ]
        placements = project_placements(objects["projects"], objects["clusters"])
        view = _wait(lambda: (lambda v: v if v.rows and len(v.rows[0].clusters) == 3 else None)(
            collect_placements(connections, placements)), "the demo Helm release on every cluster")
        releases = record_entries(r for records in view.records.values() for r in records)
        now = datetime.now(UTC).replace(microsecond=0)
        stale, stale_now = record_stale(api, watched())
        stale["versions"] = objects["versions"]

        # A real drift: suspend the source, scale its Deployment by hand on staging, record the resume preview.
        sources.suspend_source(api, "demo", "podinfo", REASON, actor="alice")
        subprocess.run(["kubectl", "--kubeconfig", str(status.kubeconfig), "--context", "staging", "-n", "demo",
                        "scale", "deployment", "podinfo", "--replicas=5"], check=True, capture_output=True, timeout=60)
        preview = _wait(lambda: format_preview(sources.preview_resume(api, "demo", "podinfo", home / "reconciler")),
                        "the resume preview to show the kubectl change", timeout=60)
        # The journal so far (the suspend) and the real tree of the demo source (the drift on staging shows).
        objects["journal"] = json_request(api, "GET", journal_path()).get("items") or []
        tree = "\n".join(tree_lines(read_tree(api, "demo", "podinfo", home / "reconciler")))
    finally:
        connections.close()
        reconciler.stop()
    extras = {"helmReleases": releases, "resumePreviews": {"demo/podinfo": preview}, "trees": {"demo/podinfo": tree}}
    return objects, now, extras, stale, stale_now


def display_paths(data: object, home: Path) -> object:
    """Replace the temporary data directory in every recorded string with the default one."""
    return json.loads(json.dumps(data).replace(str(home), DISPLAY_HOME))


async def shoot(objects: dict, now: datetime, extras: dict, out: Path, size: tuple[int, int],
                screens: dict[str, list[str]]) -> None:
    """Drive the console over the recorded objects and save one SVG per screen."""
    from gitops_tui.backends.static import StaticBackend
    from gitops_tui.themes import builtin_dir
    from gitops_tui.tui.app import GitOpsApp

    for name, keys in screens.items():
        backend = StaticBackend(objects, context="sandbox/management", identity="gitops-tui-console", now=now,
                                extras=extras)
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
        from gitops_tui.sandbox import manager

        try:
            objects, now, extras, stale, stale_now = record_demo(Path(home))
            asyncio.run(shoot_banner(Path(home) / "sandbox" / "kubeconfig", Path(home), out, (width, height)))
        finally:
            manager.down(home=Path(home))
        objects, extras, stale = display_paths((objects, extras, stale), Path(home))
    for recording in (objects, stale):
        for items in recording.values():
            for obj in items:
                obj.get("metadata", {}).pop("managedFields", None)
    asyncio.run(shoot(objects, now, extras, out, (width, height), SCREENS))
    asyncio.run(shoot(stale, stale_now, extras, out, (width, height), STALE_SCREENS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
