"""Secrets stay secret when a chart transforms them (issue 8 item 5).

A template that fails on ``b64enc``, ``lower``, ``trunc`` ... of a value read from a Secret (valuesFrom) used to
show the transformed value in the condition, the Event and the HelmRelease status: an exact-string scrub
cannot find ``U3VwM3I...`` or ``sup3r``. The whole template error is now withheld when Secret data is in the values.
"""

from __future__ import annotations

import base64
import logging

import pytest

from gitops_tui.api import names
from gitops_tui.helm.values import WITHHELD, redact_message
from gitops_tui.kube.client import json_request
from tests.gitserver import commit
from tests.helm.test_helm_reconcile import _chart_repo, conditions, helm_release, live_release
from tests.world import CLUSTERS, World

SECRET = "Zq7vXw9KmRt2Lp4Hy"
TEMPLATES = {
    "b64enc": "{{ fail (b64enc .Values.password) }}",
    "lower": "{{ include (lower .Values.password) . }}",
    "trunc": "{{ fail (printf \"bad prefix %s\" (trunc 7 .Values.password)) }}",
    "tpl": "{{ tpl (printf \"{{ %s }}\" (upper .Values.password)) . }}",
}


def forms(value: str) -> list[str]:
    """The value and what templates commonly make of it; any 5-character piece of these must stay hidden."""
    encoded = base64.b64encode(value.encode()).decode()
    return [value, value.lower(), value.upper(), encoded, value[::-1]]


def pieces(text: str, size: int = 5) -> set[str]:
    """Every substring of ``text`` of ``size`` characters."""
    return {text[i:i + size] for i in range(len(text) - size + 1)}


def leaked(text: str) -> set[str]:
    """The pieces of the secret (in any common form) found in ``text``."""
    return {piece for form in forms(SECRET) for piece in pieces(form) if piece in text}


def password_secret(world: World, cluster: str) -> None:
    """The Secret `db-password` with values.yaml holding the password, on one cluster."""
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-password"},
            "data": {"values.yaml": base64.b64encode(f"password: {SECRET}\n".encode()).decode()}}
    json_request(world.client(cluster), "POST", f"/api/v1/namespaces/{world.namespace}/secrets", body)


@pytest.mark.parametrize("function", sorted(TEMPLATES))
def test_a_chart_failing_on_a_transformed_secret_value_shows_no_part_of_it(
        world: World, caplog: pytest.LogCaptureFixture, function: str) -> None:
    caplog.set_level(logging.DEBUG)
    repo = _chart_repo(world)
    (repo / "charts" / "web" / "templates" / "creds.yaml").write_text(TEMPLATES[function] + "\n")
    for cluster in CLUSTERS:
        password_secret(world, cluster)
    release = helm_release("shop", {}, valuesFrom=[{"kind": "Secret", "name": "db-password"}])
    commit(repo, {"deploy/shop.yaml": release})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")

    ready = world.condition("apps", names.READY)
    assert ready["status"] == "False"
    assert WITHHELD in ready["message"] and "templates/creds.yaml line 1" in ready["message"], ready["message"]
    shown = [ready["message"], *(c["message"] for c in world.status("apps")["clusters"])]
    shown += [e.get("message", "") for e in world.events("apps")]
    for cluster in CLUSTERS:
        hr = conditions(live_release(world, cluster, "shop"))
        shown += [c.get("message", "") for c in hr.values()]
    shown += [record.getMessage() for record in caplog.records]
    shown += [str(record.exc_info[1]) for record in caplog.records if record.exc_info]
    assert not leaked("\n".join(shown)), f"{function}: the secret shows in {leaked(chr(10).join(shown))}"


def test_messages_without_secret_data_are_kept_whole() -> None:
    text = "template: web/templates/x.yaml:3:7: executing at <div 0>: error calling div: integer divide by zero"
    assert redact_message(text, []) == text
    redacted = redact_message(text, [SECRET])
    assert redacted == f"template web/templates/x.yaml line 3 column 7 failed: error calling div ({WITHHELD})"
    assert redact_message("Deployment/x: Invalid value: \"sup3r\"", [""]) == \
        f"the chart or the cluster refused the release ({WITHHELD})"
    schema = "web:\n- at '/greeting': 'Zq7v' does not match pattern '^[a-z]+$'\n- at '/n': got string, want integer\n"
    assert redact_message(schema, [SECRET]) == f"the values do not meet the chart's schema at /greeting, /n ({WITHHELD})"
    own = "web/templates/x.yaml: rendered YAML is invalid: mapping values are not allowed here at line 3, column 9"
    assert redact_message(own, [SECRET], quotes_values=False) == own


def test_helm_charts_take_scrubbing_from_below() -> None:
    """helm/ no longer reaches up into the reconciler for secret scrubbing (STYLE.md)."""
    import ast
    from pathlib import Path

    import gitops_tui.helm as helm_package

    for module in Path(helm_package.__file__).parent.glob("*.py"):
        tree = ast.parse(module.read_text())
        imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module]
        assert not [m for m in imported if m.startswith("gitops_tui.reconciler")], module.name
