"""Test helpers: real git repositories made by tests, and a local smart-HTTP git server with basic auth."""

from __future__ import annotations

import base64
import gzip
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}
HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity and return stdout (raises on failure)."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args], env={**os.environ, **GIT_ENV},
        capture_output=True, text=True, check=True, timeout=30,
    )
    return result.stdout.strip()


def commit(repo: Path, files: dict[str, str | None], message: str = "change") -> str:
    """Write (or, for None, delete) files in the work tree, commit everything, return the sha."""
    for name, content in files.items():
        target = repo / name
        if content is None:
            if target.exists():
                target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def make_repo(path: Path, files: dict[str, str | None], *, branch: str = "main") -> Path:
    """Create a git repository at `path` on `branch` with one commit of `files`."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    commit(path, files, "initial")
    return path


def tag(repo: Path, name: str, *, annotated: bool = False, ref: str = "HEAD") -> str:
    """Create a tag (lightweight or annotated) at `ref`; return the tagged commit sha."""
    if annotated:
        git(repo, "tag", "-a", name, "-m", f"release {name}", ref)
    else:
        git(repo, "tag", name, ref)
    return git(repo, "rev-parse", f"{ref}^{{commit}}")


def make_bare(source: Path, bare: Path) -> Path:
    """Clone `source` as a bare repository at `bare` (what a git server serves)."""
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(source), str(bare)], env={**os.environ, **GIT_ENV},
        check=True, capture_output=True, timeout=30,
    )
    return bare


def push(source: Path, bare: Path, *refs: str) -> None:
    """Push refs (default: all branches and tags) from `source` to the bare repository."""
    args = list(refs) or ["--all"]
    git(source, "push", "-q", "-f", str(bare), *args)
    if not refs:
        git(source, "push", "-q", "-f", str(bare), "--tags")


class GitHttpServer:
    """A smart-HTTP git server on 127.0.0.1 over `git http-backend`, requiring basic auth or a token."""

    def __init__(self, root: Path, username: str = "git", password: str = "s3cret-pass", token: str = "") -> None:
        """Serve the bare repositories under `root` (URL path = path under root).

        `requests` records (method, path); `pack_requests` counts requests that download objects.
        """
        self.root = root
        self.username = username
        self.password = password
        self.token = token
        self.requests: list[tuple[str, str]] = []
        self.pack_requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The listening port."""
        assert self._server is not None
        return self._server.server_address[1]

    def url(self, repo_name: str) -> str:
        """The https-style URL (plain http on loopback) of a repository under root."""
        return f"http://127.0.0.1:{self.port}/{repo_name}"

    def authorized(self, header: str) -> bool:
        """Whether an Authorization header carries the right credentials."""
        basic = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if header == f"Basic {basic}":
            return True
        return bool(self.token) and header == f"Bearer {self.token}"

    def start(self) -> GitHttpServer:
        """Start serving in a background thread."""
        server_ref = self

        class Handler(BaseHTTPRequestHandler):
            """Basic-auth gate in front of git http-backend (CGI)."""

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Keep test output quiet."""

            def do_GET(self) -> None:
                """Serve a GET (info/refs)."""
                self._handle()

            def do_POST(self) -> None:
                """Serve a POST (upload-pack / receive-pack)."""
                self._handle()

            def _body(self) -> bytes:
                """Read the request body, plain or chunked."""
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                """Check credentials, then run http-backend as a CGI script."""
                path, _, query = self.path.partition("?")
                server_ref.requests.append((self.command, self.path))
                body = self._body() if self.command == "POST" else b""
                plain = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
                if b"command=fetch" in plain or b"want " in plain:
                    server_ref.pack_requests += 1
                if not server_ref.authorized(self.headers.get("Authorization", "")):
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "GIT_PROJECT_ROOT": str(server_ref.root),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "REQUEST_METHOD": self.command,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "REMOTE_USER": server_ref.username,
                    "REMOTE_ADDR": "127.0.0.1",
                    "GIT_CONFIG_NOSYSTEM": "1",
                    "GIT_CONFIG_GLOBAL": os.devnull,
                }
                if self.headers.get("Content-Encoding"):
                    env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
                if self.headers.get("Git-Protocol"):
                    env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
                result = subprocess.run([HTTP_BACKEND], input=body, env=env, capture_output=True, timeout=60)
                head, _, payload = result.stdout.partition(b"\r\n\r\n")
                status = 200
                headers = []
                for line in head.split(b"\r\n"):
                    key, _, value = line.decode("latin-1").partition(":")
                    if key.lower() == "status":
                        status = int(value.strip().split()[0])
                    elif key:
                        headers.append((key, value.strip()))
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="git-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


@pytest.fixture
def git_http_server(tmp_path: Path) -> Iterator[GitHttpServer]:
    """A started GitHttpServer serving `tmp_path/served`, stopped after the test."""
    root = tmp_path / "served"
    root.mkdir()
    server = GitHttpServer(root, token="t0ken-value").start()
    try:
        yield server
    finally:
        server.stop()


class SshGitServer:
    """A real sshd on 127.0.0.1 serving git over ssh to one client key (needs root and openssh-server)."""

    SSHD = "/usr/sbin/sshd"

    def __init__(self, directory: Path) -> None:
        """Prepare host and client keys under `directory`."""
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        directory.mkdir(parents=True, exist_ok=True)
        for name in ("host_key", "client_key", "other_key"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / name)],
                           check=True, capture_output=True, timeout=30)
        (directory / "authorized_keys").write_bytes((directory / "client_key.pub").read_bytes())

    @property
    def client_key(self) -> bytes:
        """The private key the server accepts."""
        return (self.directory / "client_key").read_bytes()

    @property
    def other_key(self) -> bytes:
        """A private key the server refuses."""
        return (self.directory / "other_key").read_bytes()

    @property
    def known_hosts(self) -> bytes:
        """A known_hosts line for the server's host key."""
        public = (self.directory / "host_key.pub").read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {' '.join(public)}\n".encode()

    def url(self, bare: Path) -> str:
        """The ssh URL of a bare repository on this machine."""
        user = os.environ.get("USER") or "root"
        return f"ssh://{user}@127.0.0.1:{self.port}{bare}"

    def start(self) -> SshGitServer:
        """Start sshd in the foreground (-D) on a free port and wait until it accepts connections."""
        import socket

        from tests.waiting import wait_until

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = self.directory / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.directory / 'host_key'}\n"
            f"AuthorizedKeysFile {self.directory / 'authorized_keys'}\nPidFile {self.directory / 'sshd.pid'}\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            "PermitRootLogin prohibit-password\n"
        )
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege-separation directory
        self.process = subprocess.Popen([self.SSHD, "-D", "-e", "-f", str(config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def accepting() -> bool:
            """Whether sshd is up and accepts a TCP connection."""
            assert self.process is not None and self.process.poll() is None, "sshd exited"
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True

        wait_until(accepting, timeout=15, message="sshd to accept connections")
        return self

    def stop(self) -> None:
        """Stop sshd (the process this helper started)."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


def ssh_available() -> bool:
    """Whether a real sshd can be started here (openssh-server installed, running as root)."""
    return os.path.exists(SshGitServer.SSHD) and os.geteuid() == 0 and shutil.which("ssh-keygen") is not None
