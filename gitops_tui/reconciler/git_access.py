"""Which credentials may read which cached repository: keyed credential fingerprints and recent proofs of access.

The git cache is keyed by URL and this fingerprint (reconciler/source.py); a commit found in a cache is
served only when the same credentials read the repository within ``ACCESS_PROOF_SECONDS`` (else an ls-remote
proves it first). docs/security.md#git-caches.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from pathlib import Path

from gitops_tui.paths import private_dir

#: A commit served from the cache needs the source's credentials to have opened the repository this recently.
ACCESS_PROOF_SECONDS = 60.0
#: The file holding the key of credential fingerprints (random, owner-only, one per cache directory).
FINGERPRINT_KEY_FILE = ".fingerprint-key"


class RemoteAccess:
    """When each (URL, credentials fingerprint) last proved it can read its repository (an ls-remote or a fetch).

    Shared by every source of the process: the ls-remote shared per repository URL and credentials
    (remote_refs.py) records its answer here, with the moment it asked.
    """

    def __init__(self, proof_seconds: float = ACCESS_PROOF_SECONDS) -> None:
        """Proofs count for ``proof_seconds``."""
        self.proof_seconds = proof_seconds
        self._proved: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def note(self, url: str, fingerprint: str, at: float | None = None) -> None:
        """The credentials of ``fingerprint`` read ``url`` (at the monotonic time ``at``, default now)."""
        when = time.monotonic() if at is None else at
        with self._lock:
            if when >= self._proved.get((url, fingerprint), -1.0):
                self._proved[(url, fingerprint)] = when

    def recent(self, url: str, fingerprint: str) -> bool:
        """Whether they did within ``proof_seconds``."""
        with self._lock:
            when = self._proved.get((url, fingerprint))
        return when is not None and time.monotonic() - when < self.proof_seconds


def fingerprint_key(cache_dir: Path) -> bytes:
    """The random key of this cache's credential fingerprints, made once (owner-only) and shared by its processes."""
    private_dir(cache_dir)
    path = cache_dir / FINGERPRINT_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it this instant
            key = path.read_bytes()
            if len(key) == 32:
                return key
            time.sleep(0.01)
        raise OSError(f"{path} does not hold a fingerprint key") from None
    key = os.urandom(32)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def fingerprint(key: bytes, credentials: dict[str, bytes] | None) -> str:
    """A fingerprint of the credentials' content keyed with ``key`` ("" for none): equal content, equal fingerprint.

    Keyed with the cache's random key, so a directory name cannot be used to guess a password offline.
    """
    if not credentials:
        return ""
    digest = hmac.new(key, digestmod=hashlib.sha256)
    for name in sorted(credentials):
        value = credentials[name] or b""
        for part in (name.encode(), value if isinstance(value, bytes) else str(value).encode()):
            digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:32]
