"""The console against a live sandbox: its resident memory with 1,000 sources and 50 Events/s, its requests at idle.

Run through bench/bench_console.py (``memory``, ``requests``).
"""

from __future__ import annotations

import asyncio
import collections
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import BenchSandbox, init_repo
from gitops_tui.actions import sources
from gitops_tui.api import names
from gitops_tui.kube.client import json_request
from tests.ptyconsole import PtyProcess

REPO = Path(__file__).resolve().parent.parent


# -- memory: 1,000 sources on three clusters, 50 Events/s, the embedded reconciler ------------------


def _write_apps(count: int):  # type: ignore[no-untyped-def]
    """A writer of ``count`` app folders, each with its own ConfigMap (sources never share an object)."""

    def write(root: Path) -> None:
        for index in range(count):
            folder = root / "apps" / f"{index:04d}"
            folder.mkdir(parents=True)
            (folder / "configmap.yaml").write_text(
                f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{index:04d}\ndata:\n  index: '{index}'\n")

    return write


def _status_mib(pid: int) -> dict[str, float]:
    """Memory figures of /proc/PID/status (VmRSS, VmHWM, RssAnon, RssFile), in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM", "RssAnon", "RssFile")}


def _rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, in MiB."""
    status = _status_mib(pid)
    return status["VmRSS"], status["VmHWM"]


#: Shared libraries a console of plain sources should never map (each loads only where it is used).
OPTIONAL_LIBRARIES = {"Helm (libhelm_c)": "libhelm_c", "pyrage (age)": "pyrage", "cryptography": "cryptography"}


def _mapped_libraries(pid: int) -> list[str]:
    """The optional libraries mapped into a process (its /proc/PID/maps)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return [name for name, needle in OPTIONAL_LIBRARIES.items() if needle in maps]


class EventStream:
    """Posts core/v1 Events about the project's sources at ``rate`` per second (as the reconciler's would look)."""

    def __init__(self, api: Any, namespace: str, count: int, rate: float) -> None:
        self.api, self.namespace, self.count, self.rate = api, namespace, count, rate
        self.sent = 0
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="bench events")

    def _post(self, number: int) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        source = f"app-{number % self.count:04d}"
        json_request(self.api, "POST", f"/api/v1/namespaces/{self.namespace}/events", {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{source}.bench{number}", "namespace": self.namespace},
            "involvedObject": {"apiVersion": "types.kubefed.io/v1beta1", "kind": names.KIND_FEDERATED_KUSTOMIZATION,
                               "namespace": self.namespace, "name": source},
            "reason": "BenchEvent", "message": f"bench event {number} about {source}", "type": "Normal",
            "reportingComponent": names.REPORTING_COMPONENT, "reportingInstance": "bench",
            "source": {"component": names.REPORTING_COMPONENT}, "firstTimestamp": stamp, "lastTimestamp": stamp,
            "count": 1})
        self.sent += 1

    def run(self) -> None:
        """Post until stopped, paced to ``rate``."""
        started, number = time.monotonic(), 0
        while not self._stop.is_set():
            number += 1
            self._pool.submit(self._post, number)
            self._stop.wait(max(0.0, started + number / self.rate - time.monotonic()))

    def stop(self) -> None:
        """Stop posting."""
        self._stop.set()
        self._pool.shutdown(wait=True)


def memory(sources: int = 1000, rate: float = 50.0, seconds: float = 60.0, settle: float = 900.0) -> dict[str, Any]:
    """Resident memory of the console (a real process on a pty, embedded reconciler) on a live sandbox.

    Events stream from the start; the reconciler applies every source (bounded by ``settle`` seconds),
    then the console is measured ``seconds`` more at steady state. The peak covers the whole run.
    """
    from bench.machine import load_average

    load_start = load_average()
    home = Path(tempfile.mkdtemp(prefix="bench-console-mem-"))
    bench = BenchSandbox(home, "bench")
    console = stream = None
    try:
        repo = init_repo(home / "apps.git", _write_apps(sources))
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: _create_source(bench.api, repo, i), range(sources)))
        env = {**os.environ, "GITOPS_TUI_HOME": str(home)}  # the bench's own allow-list: its repository's folder
        console = PtyProcess([sys.executable, "-m", "gitops_tui", "--allow-local-repos", str(home)], env, cwd=str(REPO))
        stream = EventStream(bench.api, "bench", sources, rate)
        threading.Thread(target=stream.run, name="bench event stream", daemon=True).start()
        started = time.monotonic()
        ready = 0
        while ready < sources and time.monotonic() - started < settle and console.proc.poll() is None:
            time.sleep(5)
            ready = _ready_sources(bench.api)
        applied_after = time.monotonic() - started
        load_applied = load_average()
        samples = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and console.proc.poll() is None:
            samples.append(_rss_mib(console.proc.pid)[0])
            time.sleep(0.5)
        status = _status_mib(console.proc.pid)
        rss, peak = status["VmRSS"], status["VmHWM"]
        libraries = _mapped_libraries(console.proc.pid)
        stream.stop()
        return {"load_at_start": load_start, "load_when_applied": load_applied, "load_at_end": load_average(),
                "sources": sources, "sources_ready": _ready_sources(bench.api),
                "all_applied_after_s": round(applied_after),
                "events_per_s": rate, "events_sent": stream.sent, "steady_seconds": seconds,
                "rss_mib_steady_median": round(sorted(samples)[len(samples) // 2], 1) if samples else None,
                "rss_mib_end": round(rss, 1), "rss_mib_peak": round(peak, 1),
                "rss_mib_anonymous_end": round(status["RssAnon"], 1), "rss_mib_file_end": round(status["RssFile"], 1),
                "optional_libraries_mapped": libraries}
    finally:
        if stream is not None:
            stream.stop()
        if console is not None:
            console.proc.send_signal(signal.SIGTERM)
            console.proc.wait(timeout=15)
            console.end()
        bench.close()
        shutil.rmtree(home, ignore_errors=True)


def _create_source(api: Any, repo: Path, index: int) -> None:
    """Create bench source ``app-NNNN`` on the project's clusters, reading its own app folder."""
    sources.create_source(api, "bench", f"app-{index:04d}", str(repo), path=f"./apps/{index:04d}", interval="1h",
                          local_repos=[repo.parent])


def _ready_sources(api: Any) -> int:
    path = "/apis/types.kubefed.io/v1beta1/namespaces/bench/federatedkustomizations"
    count = 0
    for item in json_request(api, "GET", path).get("items") or []:
        ready = next((c for c in (item.get("status") or {}).get("conditions") or [] if c.get("type") == "Ready"), {})
        count += ready.get("status") == "True"
    return count


# -- requests at idle -------------------------------------------------------------------------------


class RequestCounter:
    """Counts every HTTP request this process sends (urllib3, which the kubernetes client uses), by kind."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        from urllib3.connectionpool import HTTPConnectionPool

        original = HTTPConnectionPool.urlopen
        counter = self

        def urlopen(pool, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
            counter.note(method, url)
            return original(pool, method, url, *args, **kwargs)

        HTTPConnectionPool.urlopen = urlopen  # type: ignore[method-assign]

    def note(self, method: str, url: str) -> None:
        """Count one request: ``WATCH <resource>``, ``GET <resource>``, ``PUT <resource>``..."""
        path, _, query = url.partition("?")
        verb = "WATCH" if "watch=true" in query or "watch=1" in query else method
        with self._lock:
            self.counts[f"{verb} {resource_of(path)}"] += 1

    def snapshot(self) -> collections.Counter[str]:
        """A copy of the counts so far."""
        with self._lock:
            return collections.Counter(self.counts)


def resource_of(url: str) -> str:
    """The resource of a request: ``/apis/g/v/namespaces/ns/leases/x`` -> ``leases``; ``/version`` stays."""
    parts = [p for p in url.split("://", 1)[-1].split("/")[1:] if p]
    if parts[:1] == ["api"]:
        rest = parts[2:]
    elif parts[:1] == ["apis"]:
        rest = parts[3:]
    else:
        return "/" + "/".join(parts)
    if len(rest) >= 3 and rest[0] == "namespaces":
        rest = rest[2:]
    return rest[0] if rest else "(discovery)"


_METRIC = re.compile(r'^apiserver_request_total\{(?P<labels>[^}]*)\}\s+(?P<value>[0-9.e+]+)$')


def read_metrics(api: Any) -> dict[str, float] | None:
    """``apiserver_request_total`` by 'VERB resource' from the sandbox's /metrics, or None when it is not served."""
    from kubernetes.client.exceptions import ApiException

    url = api.configuration.host.rstrip("/") + "/metrics"
    try:
        headers = {"Accept": "text/plain", **api.default_headers}
        auth = api.configuration.auth_settings().get("BearerToken")
        if auth and auth.get("value"):
            headers[auth["key"]] = auth["value"]
        resp = api.call_api("GET", url, header_params=headers)
        if not 200 <= resp.status < 300:
            return None
        text = resp.read().decode()
    except ApiException:
        return None
    totals: collections.Counter[str] = collections.Counter()
    for line in text.splitlines():
        match = _METRIC.match(line.strip())
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
            totals[f"{labels.get('verb', '?')} {labels.get('resource', '?')}"] += float(match["value"])
    return dict(totals)


def requests(sources: int = 0, rate: float = 0.0, seconds: float = 60.0) -> dict[str, Any]:
    """The console's own requests per minute at idle on the demo sandbox: Projects shown, then Helm shown."""
    del sources, rate  # idle: the demo project only, no event stream
    counter = RequestCounter()
    home = Path(tempfile.mkdtemp(prefix="bench-console-req-"))
    from gitops_tui.sandbox import manager

    status = manager.up(home=home)
    previous = os.environ.get("GITOPS_TUI_HOME")
    os.environ["GITOPS_TUI_HOME"] = str(home)
    try:
        return asyncio.run(_idle_requests(counter, status.kubeconfig, seconds))
    finally:
        if previous is None:
            os.environ.pop("GITOPS_TUI_HOME", None)
        else:
            os.environ["GITOPS_TUI_HOME"] = previous
        manager.down(home=home)
        shutil.rmtree(home, ignore_errors=True)


async def _idle_requests(counter: RequestCounter, kubeconfig: Path, seconds: float) -> dict[str, Any]:
    from gitops_tui.backends.live import LiveBackend
    from gitops_tui.kube.client import api_client_from_kubeconfig
    from gitops_tui.tui.app import GitOpsApp

    metrics_api = api_client_from_kubeconfig(kubeconfig, "management")
    backend = LiveBackend(kubeconfig, "management", "sandbox/management")
    app = GitOpsApp(backend, theme="gitops-dark", remember_theme=False)
    result: dict[str, Any] = {}
    async with app.run_test(size=(120, 36)) as pilot:
        settle = time.monotonic() + 120
        while time.monotonic() < settle and not (backend.reconciler and backend.reconciler.is_leader()
                                                 and backend.synced()):
            await pilot.pause(0.2)
        await pilot.pause(15.0)  # the reconciler's first pass over the demo ends; then the console idles
        for pane, key in (("projects", "1"), ("helm", "5")):
            await pilot.press(key)
            await pilot.pause(1.0)
            before, server_before = counter.snapshot(), read_metrics(metrics_api)
            started = time.monotonic()
            await pilot.pause(seconds)
            minutes = (time.monotonic() - started) / 60
            delta = counter.snapshot() - before
            delta.pop("GET /metrics", None)  # the bench's own reads
            server_after = read_metrics(metrics_api)
            result[pane] = {
                "console_requests_per_min": round(sum(delta.values()) / minutes, 1),
                "by_kind_per_min": {k: round(v / minutes, 1) for k, v in sorted(delta.items())},
                "sandbox_metrics_per_min": "not available" if server_before is None or server_after is None else {
                    k: round((server_after.get(k, 0) - server_before.get(k, 0)) / minutes, 1)
                    for k in sorted(server_after) if server_after.get(k, 0) != server_before.get(k, 0)},
            }
    app.shutdown_backend()
    return result
