"""The git URL forms a source may use, named once for every message that refuses one (CLI, form, condition)."""

from __future__ import annotations

import re

#: Every accepted form, as the refusals say it.
ACCEPTED_FORMS = ("https://host/path, http://host/path, ssh://[user@]host/path, git://host/path, [user@]host:path "
                  "(scp-like), or a local path or file:// URL under a directory allowed with --allow-local-repos")

#: A quick syntactic check for the console's form (the reconciler checks again: reconciler/source_urls.py).
URL_SYNTAX = re.compile(r"^((https?|ssh|git)://[^\s/]+(/\S*)?|(?:[\w.+-]+@)?[\w.-]+:(?!//)\S+|file://\S+|/\S+)$")


def refusal(url: str) -> str:
    """The sentence for a URL that is none of the accepted forms (``url`` already stripped of any password)."""
    return f"{url!r} is not a git URL: use {ACCEPTED_FORMS}"
