"""Git credentials (Flux Secret keys) as a git environment for one fetch."""

from __future__ import annotations

import base64
import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from gitops_tui.api import names
from gitops_tui.paths import private_dir
from gitops_tui.reconciler.errors import AuthenticationFailed
from gitops_tui.redact import text_of


def split_url_credentials(url: str) -> tuple[str, dict[str, bytes]]:
    """Move user:password@ out of an http(s) URL into credentials (so it never reaches argv)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.username:
        return url, {}
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    creds = {names.GIT_USERNAME_KEY: unquote(parts.username or "").encode()}
    if parts.password:
        creds[names.GIT_PASSWORD_KEY] = unquote(parts.password).encode()
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), creds


def _config_env(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """git configuration passed through the environment (GIT_CONFIG_COUNT), never argv."""
    env = {"GIT_CONFIG_COUNT": str(len(pairs))}
    for index, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def base_environment() -> dict[str, str]:
    """The environment every git command gets: no prompts, no user or system config."""
    return {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "/bin/false",
        "SSH_ASKPASS": "/bin/false",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
        "LANGUAGE": "C",
    }


#: Prefix of the folder holding one fetch's ssh identity: "ssh-<pid>-<random>".
IDENTITY_PREFIX = "ssh-"


def remove_stale_identities(root: Path) -> int:
    """Delete the identity folders under ``root`` left by processes that are gone (killed mid-fetch); return how many."""
    removed = 0
    for entry in root.glob(f"{IDENTITY_PREFIX}*") if root.is_dir() else ():
        pid = entry.name[len(IDENTITY_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def git_environment(url: str, credentials: dict[str, bytes] | None,
                    identities: Path | None = None,
                    pinned: tuple[str, int, str] | None = None) -> Iterator[dict[str, str]]:
    """Yield the environment for git commands against `url` with the Flux-style credentials.

    https: `username` + `password` (Basic) or `bearerToken` (Bearer) as an http.extraHeader in
    the environment. ssh: `identity` (+ `known_hosts`) as files (mode 0600, in a 0700 folder under
    `identities`, else the system's temporary folder) used by GIT_SSH_COMMAND, deleted on exit; a
    folder left by a killed process is removed by remove_stale_identities() at the next start.
    Raises AuthenticationFailed for unusable credentials.

    ``pinned`` (host, port, address): connect to that checked address only (kube/outbound.py): curl's resolve
    list for http(s), with redirects off; ssh's HostName, the host key still looked up under the host's name.
    """
    env = base_environment()
    config: list[tuple[str, str]] = [
        ("credential.helper", ""),
        ("core.askPass", "/bin/false"),
        ("protocol.ext.allow", "never"),
        ("protocol.fd.allow", "never"),
    ]
    creds = credentials or {}
    scheme = urlsplit(url).scheme
    is_ssh = scheme == "ssh" or (not scheme and re.match(r"^[\w.-]+@[\w.-]+:", url) is not None)
    temp_dir: str | None = None
    try:
        if is_ssh:
            if identities is not None:
                private_dir(identities)
            temp_dir = tempfile.mkdtemp(prefix=f"{IDENTITY_PREFIX}{os.getpid()}-", dir=identities)
            env["GIT_SSH_COMMAND"] = _ssh_command(Path(temp_dir), creds, pinned)
        elif scheme in ("http", "https"):
            if pinned is not None:
                host, port, address = pinned
                config += [("http.curloptResolve", f"{host}:{port}:{f'[{address}]' if ':' in address else address}"),
                           ("http.followRedirects", "false")]
            token = text_of(creds.get(names.GIT_BEARER_TOKEN_KEY)).strip()
            username = text_of(creds.get(names.GIT_USERNAME_KEY))
            password = text_of(creds.get(names.GIT_PASSWORD_KEY))
            if token:
                config.append(("http.extraHeader", f"Authorization: Bearer {token}"))
            elif username or password:
                basic = base64.b64encode(f"{username}:{password}".encode()).decode()
                config.append(("http.extraHeader", f"Authorization: Basic {basic}"))
        env.update(_config_env(config))
        yield env
    finally:
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)


def _ssh_command(directory: Path, creds: dict[str, bytes], pinned: tuple[str, int, str] | None = None) -> str:
    """Write the identity and known_hosts into `directory` and return the ssh command line."""
    options = ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"]
    if pinned is not None:  # connect to the checked address; known_hosts still names the host as the URL does
        host, port, address = pinned
        options += ["-o", f"HostName={address}", "-o", f"HostKeyAlias={host if port == 22 else f'[{host}]:{port}'}"]
    identity = creds.get(names.GIT_IDENTITY_KEY)
    known_hosts = creds.get(names.GIT_KNOWN_HOSTS_KEY)
    if identity:
        key_path = directory / "identity"
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            data = identity if isinstance(identity, bytes) else identity.encode()
            handle.write(data if data.endswith(b"\n") else data + b"\n")
        options += ["-i", str(key_path)]
    elif creds:
        raise AuthenticationFailed("the credentials Secret has no 'identity' key for an ssh URL")
    if known_hosts:
        hosts_path = directory / "known_hosts"
        fd = os.open(hosts_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(known_hosts if isinstance(known_hosts, bytes) else known_hosts.encode())
        options += ["-o", f"UserKnownHostsFile={hosts_path}", "-o", "StrictHostKeyChecking=yes"]
    else:
        options += ["-o", f"UserKnownHostsFile={os.devnull}", "-o", "StrictHostKeyChecking=yes"]
    return " ".join(shlex.quote(o) for o in options)
