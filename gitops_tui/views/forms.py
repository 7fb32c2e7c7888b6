"""The new-project, new-source and new-secret requests and their field-by-field validation (no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gitops_tui.api.git_urls import ACCEPTED_FORMS, URL_SYNTAX

_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_URL = URL_SYNTAX
_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_INTERVAL = re.compile(r"^([0-9]+(ms|s|m|h))+$")
REF_KINDS = ("branch", "tag", "commit")
SECRET_KINDS = ("basic", "token", "ssh")


def name_error(name: str) -> str | None:
    """Return why a Kubernetes object name is invalid, or None."""
    if not name:
        return "A name is required."
    if len(name) > 63 or not _DNS1123.match(name):
        return "Use a-z, 0-9 and '-' (max 63), starting and ending with a-z or 0-9."
    return None


@dataclass
class SourceRequest:
    """What the new-source form asks for."""

    project: str
    namespace: str
    name: str = ""
    url: str = ""
    ref_kind: str = "branch"
    ref: str = "main"
    path: str = "./"
    secret: str = ""
    clusters: list[str] = field(default_factory=list)
    interval: str = "1m"


def validate_source(req: SourceRequest, known_sources: set[str], known_clusters: set[str]) -> dict[str, str]:
    """Return an error message per invalid field ({} when the request is valid)."""
    errors: dict[str, str] = {}
    if (err := name_error(req.name)) is not None:
        errors["name"] = err
    elif req.name in known_sources:
        errors["name"] = f"A source named {req.name} already exists in this project."
    if not req.url:
        errors["url"] = "A git URL is required."
    elif not _URL.match(req.url):
        errors["url"] = f"Not a git URL. Use {ACCEPTED_FORMS}."
    if req.ref_kind not in REF_KINDS:
        errors["ref"] = "Choose branch, tag or commit."
    elif not req.ref:
        errors["ref"] = f"A {req.ref_kind} is required."
    elif req.ref_kind == "commit" and not _SHA.match(req.ref):
        errors["ref"] = "A commit is 7 to 40 lower-case hex digits."
    elif " " in req.ref:
        errors["ref"] = "A ref has no spaces."
    if req.path.startswith("/") or ".." in req.path.split("/"):
        errors["path"] = "The path is relative to the repository root and stays inside it."
    if not req.clusters:
        errors["clusters"] = "Choose at least one cluster."
    elif unknown := [c for c in req.clusters if c not in known_clusters]:
        errors["clusters"] = f"Unknown cluster: {', '.join(unknown)}."
    if not _INTERVAL.match(req.interval or ""):
        errors["interval"] = "Use a duration like 30s, 1m or 1h."
    return errors


@dataclass
class SecretRequest:
    """What the new-secret form asks for (values never leave this object except to the API)."""

    project: str
    namespace: str
    name: str = ""
    kind: str = "basic"
    username: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    identity: str = field(default="", repr=False)
    known_hosts: str = ""
    clusters: list[str] = field(default_factory=list)
    """The clusters to place the secret on (the project's by default)."""


def validate_secret(req: SecretRequest, known_secrets: set[str]) -> dict[str, str]:
    """Return an error message per invalid field ({} when the request is valid); never echoes values."""
    errors: dict[str, str] = {}
    if (err := name_error(req.name)) is not None:
        errors["name"] = err
    elif req.name in known_secrets:
        errors["name"] = f"A secret named {req.name} already exists in this project."
    if req.kind == "basic":
        if not req.username:
            errors["username"] = "A username is required."
        if not req.password:
            errors["password"] = "A password is required."
    elif req.kind == "token":
        if not req.token:
            errors["token"] = "A token is required."
    elif req.kind == "ssh":
        if "PRIVATE KEY" not in req.identity:
            errors["identity"] = "Paste a private key (-----BEGIN ... PRIVATE KEY-----)."
    else:
        errors["kind"] = "Choose basic, token or ssh."
    if not req.clusters:
        errors["clusters"] = "Choose at least one cluster."
    return errors


@dataclass
class ProjectRequest:
    """What the new-project form asks for."""

    name: str = ""
    namespace: str = ""
    """The project namespace (the name when left empty)."""
    clusters: list[str] = field(default_factory=list)

    @property
    def target_namespace(self) -> str:
        """The namespace the project will own."""
        return self.namespace or self.name


def validate_project(req: ProjectRequest, known_projects: set[str], known_clusters: set[str]) -> dict[str, str]:
    """Return an error message per invalid field; the management cluster has the last word (namespace owners)."""
    errors: dict[str, str] = {}
    if (err := name_error(req.name)) is not None:
        errors["name"] = err
    elif req.name in known_projects:
        errors["name"] = f"A project named {req.name} already exists."
    if req.namespace and (err := name_error(req.namespace)) is not None:
        errors["namespace"] = err
    if not req.clusters:
        errors["clusters"] = "Choose at least one cluster."
    elif unknown := [c for c in req.clusters if c not in known_clusters]:
        errors["clusters"] = f"Unknown cluster: {', '.join(unknown)}."
    return errors


def refused_field(message: str, fields: tuple[str, ...] = ("namespace", "clusters", "name")) -> str:
    """Return the form field a refusal from the management cluster is about (the name when unsure)."""
    lowered = message.lower()
    for key in fields:
        if key.rstrip("s") in lowered:
            return key
    return "name"


def refused_source_field(message: str) -> str:
    """Return the new-source field a refusal is about: the URL, the ref, the path, the interval, the clusters, the
    secret, else the name (a source of that name taken meanwhile)."""
    lowered = message.lower()
    for key, words in (("url", ("url", "repositor", "git ")), ("interval", ("interval",)),
                       ("clusters", ("cluster",)), ("secret", ("secret",)), ("path", ("path",)),
                       ("ref", ("branch", "tag", "commit", " ref"))):
        if any(word in lowered for word in words):
            return key
    return "name"
