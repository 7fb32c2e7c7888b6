"""The chart's metrics switch: a Service and a ServiceMonitor on /metrics; the Grafana dashboard names only our metrics."""

from __future__ import annotations

import json
import re

from gitops_tui.reconciler import metrics
from tests.deploy.chart import CHART_DIR, one, render


def test_service_monitor_scrapes_the_health_port_only_when_asked() -> None:
    assert not [k for k in render() if k[0] in ("ServiceMonitor", "ConfigMap")], "off by default"
    objects = render({"metrics": {"serviceMonitor": {"enabled": True, "interval": "15s",
                                                     "labels": {"release": "prom"}},
                                  "dashboard": {"enabled": True}}})
    monitor = one(objects, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "15s"}]
    service = next(o for (k, _, n), o in objects.items() if k == "Service" and n.endswith("-metrics"))
    assert service["spec"]["ports"][0]["targetPort"] == "health"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    dashboard = one(objects, "ConfigMap")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["gitops-tui.json"])["uid"] == "gitops-tui"


def test_the_dashboard_queries_only_metrics_the_reconciler_serves() -> None:
    served = {m.name for m in metrics.REGISTRY.collect()}
    text = (CHART_DIR / "dashboards" / "gitops-tui.json").read_text()
    queried = set(re.findall(r"gitops_tui_[a-z_]+", text))
    bases = {re.sub(r"_(bucket|count|sum|total)$", "", q) for q in queried}
    assert bases and bases <= served, sorted(bases - served)
