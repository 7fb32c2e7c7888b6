"""Test helper: read the sandbox's /metrics (kube-apiserver's request counters) and sum them by label."""

from __future__ import annotations

import re
from typing import Any

_SERIES = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?P<labels>[^}]*)\}\s+(?P<value>\S+)$')
_LABEL = re.compile(r'(?P<key>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\]|\\.)*)"')


def scrape(api_client: Any) -> str:
    """GET /metrics with an official-client ApiClient (authenticated like any request); the text."""
    headers = dict(api_client.default_headers)
    auth = api_client.configuration.auth_settings().get("BearerToken")
    if auth and auth.get("value"):
        headers[auth["key"]] = auth["value"]
    url = api_client.configuration.host.rstrip("/") + "/metrics"
    response = api_client.call_api("GET", url, header_params=headers, _request_timeout=10)
    data = response.read()
    if response.status != 200:
        raise AssertionError(f"GET /metrics answered {response.status}")
    return data.decode()


def parse(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Every series of a Prometheus text exposition as (name, labels, value)."""
    series = []
    for line in text.splitlines():
        match = _SERIES.match(line.strip())
        if match:
            labels = {m.group("key"): m.group("value") for m in _LABEL.finditer(match.group("labels"))}
            series.append((match.group("name"), labels, float(match.group("value"))))
    return series


def total(text: str, name: str = "apiserver_request_total", **wanted: str) -> int:
    """The sum of ``name`` over the series whose labels match ``wanted`` (e.g. verb="LIST", resource="configmaps")."""
    return int(sum(value for series, labels, value in parse(text)
                   if series == name and all(labels.get(k) == v for k, v in wanted.items())))


#: The labels of a GET /metrics itself.
_SCRAPE_LABELS = {"component": "apiserver", "group": "", "resource": "", "scope": "", "subresource": "",
                  "verb": "GET", "version": "", "code": "200"}


class RequestCounter:
    """Counts the requests a cluster answered between two reads of its /metrics."""

    def __init__(self, api_client: Any) -> None:
        """Remember the counters now."""
        self.api_client = api_client
        self.start = scrape(api_client)

    def count(self, **wanted: str) -> int:
        """Requests answered since the start matching ``wanted`` (the counter's own scrapes excluded)."""
        now = scrape(self.api_client)
        counted = total(now, **wanted) - total(self.start, **wanted)
        if all(_SCRAPE_LABELS.get(key) == value for key, value in wanted.items()):
            counted -= 1  # the start's own GET /metrics, counted after its text was made
        return counted
