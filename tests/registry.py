"""A real OCI registry for tests: Debian's ``docker-registry`` (the CNCF Distribution registry) on a free loopback port.

``Registry.start(tmp)`` writes its own config and storage directory, starts ``docker-registry serve`` and waits for
``/v2/`` to answer; ``stop()`` ends it (the process it started, by its id). Charts are pushed with Helm's own
client (``helm_python.push``, Helm's ``helm push``). Tests that need it skip, saying why, only where the package
is missing (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import helm_python as helm
import pytest

from tests.waiting import wait_until

BINARY = "docker-registry"
MISSING = ("Debian's docker-registry package (the CNCF Distribution registry) is not installed: "
           "apt-get install docker-registry (.ci/run does)")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def htpasswd_line(user: str, password: str) -> str:
    """An htpasswd entry the registry accepts (bcrypt, through the C library's crypt)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        return f"{user}:{crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))}"


@dataclass
class Registry:
    """One running registry: ``host`` is ``127.0.0.1:PORT``; ``url`` the ``oci://`` root of its charts."""

    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    tls: tuple[Path, Path] | None = None
    extra: str = ""
    pushed: list[str] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        """host:port of the registry."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The ``oci://`` URL of the test charts' repository path."""
        return f"oci://{self.host}/charts"

    @classmethod
    def start(cls, root: Path, *, tls: tuple[Path, Path] | None = None, extra: str = "",
              users: dict[str, str] | None = None) -> Registry:
        """Start ``docker-registry serve`` on a free loopback port with its own config and storage (``users``:
        htpasswd authentication with these names and passwords)."""
        if shutil.which(BINARY) is None:
            pytest.skip(MISSING)
        root.mkdir(parents=True, exist_ok=True)
        if users:
            (root / "htpasswd").write_text("".join(htpasswd_line(u, p) + "\n" for u, p in users.items()))
            extra += f"auth:\n  htpasswd:\n    realm: gitops-tui-tests\n    path: {root / 'htpasswd'}\n"
        registry = cls(root, free_port(), tls=tls, extra=extra)
        registry.users = dict(users or {})
        registry._launch()
        return registry

    def _launch(self) -> None:
        storage = self.root / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        tls = ""
        if self.tls is not None:
            tls = f"  tls:\n    certificate: {self.tls[0]}\n    key: {self.tls[1]}\n"
        config = self.root / "config.yml"
        config.write_text(f"version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                          f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
                          f"http:\n  addr: 127.0.0.1:{self.port}\n  secret: gitops-tui-tests\n{tls}{self.extra}")
        log = open(self.root / "registry.log", "wb")  # noqa: SIM115 - closed with the process
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.root)}
        self.process = subprocess.Popen([BINARY, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        log.close()
        scheme = "https" if self.tls else "http"

        def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"docker-registry exited: {(self.root / 'registry.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False

        wait_until(answers, timeout=20, message=f"docker-registry answering on {scheme}://{self.host}")

    def stop(self) -> None:
        """Stop the registry this object started."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def push(self, archive: Path, repository: str = "charts") -> str:
        """Push a chart archive with Helm's own client (``helm push``); return its manifest digest."""
        client = helm.RegistryClient(plain_http=self.tls is None, credentials_file=self.root / "push-auth.json")
        try:
            for user, password in self.users.items():
                client.login(self.host, user, password, plain_http=self.tls is None)
                break
            client.push(archive, f"oci://{self.host}/{repository}")
            chart = helm.Chart.load_archive(archive.read_bytes())
            try:
                name, version = chart.name, chart.version
            finally:
                chart.close()
            digest = str(client.resolve(f"oci://{self.host}/{repository}/{name}:{version.replace('+', '_')}")["digest"])
        finally:
            client.close()
        self.pushed.append(f"{repository}/{name}:{version}")
        return digest

    def manifest(self, repository: str, reference: str) -> bytes:
        """The raw manifest of ``repository:reference`` (the registry's HTTP API, plain http only)."""
        request = urllib.request.Request(f"http://{self.host}/v2/{repository}/manifests/{reference}",
                                         headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback test registry
            return bytes(answer.read())
