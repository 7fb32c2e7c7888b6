"""Commit statuses on the forge: GitHub's and GitLab's documented REST calls, one status per source and cluster.

GitHub (https://docs.github.com/rest/commits/statuses#create-a-commit-status): ``POST {api}/repos/{owner}/{repo}/
statuses/{sha}`` with ``{state: success|failure|error|pending, context, description, target_url}`` and
``Authorization: Bearer <token>``; ``{api}`` is https://api.github.com for github.com, ``{scheme}://{host}/api/v3``
for GitHub Enterprise. GitLab (https://docs.gitlab.com/api/commits/#set-the-pipeline-status-of-a-commit):
``POST {scheme}://{host}/api/v4/projects/{url-encoded path}/statuses/{sha}`` with ``{state: success|failed|...,
name, description, target_url}`` and ``PRIVATE-TOKEN: <token>``. The alert's address is the repository's web URL
(Flux's github/gitlab Provider address); the token is its Secret's ``token``. The context is
``gitops-tui/<source>/<cluster>``, so a pull request shows "gitops-tui/web/prod: prod: applied".
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from gitops_tui.api import alerts as al
from gitops_tui.api.paths import join
from gitops_tui.kube import pinned_http
from gitops_tui.kube.outbound import FetchPolicy, FetchRefused

_SHA = re.compile(r"(?:sha1|sha256):([0-9a-f]{40,64})$|^([0-9a-f]{40,64})$")
STATES = {"github-status": {"applied": "success", "recovery": "success", "failure": "failure"},
          "gitlab-status": {"applied": "success", "recovery": "success", "failure": "failed"}}


def commit_of(revision: str) -> str:
    """The commit SHA of a revision (``main@sha1:<sha>``), "" when it names none."""
    found = _SHA.search(revision or "")
    return (found.group(1) or found.group(2)) if found else ""


def request(alert: al.Alert, event: al.AlertEvent, token: bytes | None) -> tuple[str, dict[str, str], bytes] | None:
    """(URL, headers, body) of the status call, None when the event sets no status (no commit, no state)."""
    sha, state = commit_of(event.revision), STATES[alert.format].get(event.kind)
    if not sha or not state:
        return None
    parts = urlsplit(alert.address)
    repository = parts.path.strip("/").removesuffix(".git")
    host = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    cluster = ",".join(event.clusters)
    context = f"gitops-tui/{event.source}" + (f"/{cluster}" if cluster else "")
    what = "applied" if state == "success" else event.reason
    description = (f"{cluster}: {what}" if cluster else what)[:140]
    secret = (token or b"").decode(errors="replace")
    if alert.format == "github-status":
        owner, _, repo = repository.partition("/")
        base = "https://api.github.com" if parts.hostname == "github.com" else f"{host}{join('api', 'v3')}"
        url = base + join("repos", owner, repo, "statuses", sha)
        body = {"state": state, "context": context, "description": description}
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                   "Authorization": f"Bearer {secret}"}
    else:
        url = host + join("api", "v4", "projects", repository, "statuses", sha)
        body = {"state": state, "name": context, "description": description}
        headers = {"PRIVATE-TOKEN": secret}
    return url, {**headers, "Content-Type": "application/json"}, json.dumps(body, sort_keys=True).encode()


def set_status(alert: al.Alert, event: al.AlertEvent, token: bytes | None, policy: FetchPolicy) -> None:
    """Set the commit's status; DeliveryFailed (imported late: alert_send imports this module) when it fails."""
    from gitops_tui.reconciler.alert_send import DeliveryFailed

    if not token:
        raise DeliveryFailed(f"alert {alert.name}: a {alert.format} alert needs a token (--secret or --secret-value)",
                             retry=False)
    call = request(alert, event, token)
    if call is None:
        return
    url, headers, body = call
    try:
        status = pinned_http.post(policy, url, f"alert {alert.name}", body, headers, timeout=10.0)
    except FetchRefused as exc:
        raise DeliveryFailed(f"alert {alert.name}: {exc.message.split(' is not fetched: ', 1)[-1]}",
                             retry=False) from None
    except pinned_http.FetchFailed as exc:
        raise DeliveryFailed(f"alert {alert.name}: {exc.message}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"alert {alert.name}: {alert.shown_address()} answered HTTP {status}",
                             retry=status >= 500 or status == 429)
