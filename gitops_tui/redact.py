"""Keep secrets out of text: URL userinfo, Authorization headers and credential values become ``***``.

Used by the reconciler (git messages) and by helm (chart repository messages): it sits below both.
"""

from __future__ import annotations

import base64
import re

from gitops_tui.api import names

_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")
_HTTP_USERINFO = re.compile(r"(?P<scheme>https?://)[^/@\s]+@", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/@\s:]*):[^/@\s]*@")
_AUTH_HEADER = re.compile(r"(Authorization:\s*(?:Basic|Bearer))\s+\S+", re.IGNORECASE)


def text_of(value: bytes | str | None) -> str:
    """Decode a Secret value to text."""
    if value is None:
        return ""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def secret_words(credentials: dict[str, bytes] | None) -> list[str]:
    """The secret strings to scrub from any text: password, token, key, and their encodings."""
    words: list[str] = []
    if not credentials:
        return words
    username = text_of(credentials.get(names.GIT_USERNAME_KEY))
    for key in (names.GIT_PASSWORD_KEY, names.GIT_BEARER_TOKEN_KEY, names.GIT_IDENTITY_KEY):
        value = text_of(credentials.get(key)).strip()
        if value:
            words.append(value)
            words.extend(line for line in value.splitlines() if len(line) >= 8)
    password = text_of(credentials.get(names.GIT_PASSWORD_KEY))
    if password:
        words.append(base64.b64encode(f"{username}:{password}".encode()).decode())
    return sorted({w for w in words if w}, key=len, reverse=True)


def scrub_url(url: str) -> str:
    """Remove any user:password@ part from a URL."""
    return _URL_USERINFO.sub(lambda m: m.group("scheme"), url)


def hide_url_password(url: str) -> str:
    """Show a URL without its secrets: all http(s) userinfo (it may be a token) and any password become ``***``."""
    url = _HTTP_USERINFO.sub(lambda m: f"{m.group('scheme')}***@", url)
    return _URL_PASSWORD.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:***@", url)


def scrub(text: str, credentials: dict[str, bytes] | None = None) -> str:
    """Remove credentials from text: URL userinfo, Authorization headers, and the secret values."""
    text = _URL_USERINFO.sub(lambda m: m.group("scheme"), text)
    text = _AUTH_HEADER.sub(r"\1 ***", text)
    for word in secret_words(credentials):
        text = text.replace(word, "***")
    return text
