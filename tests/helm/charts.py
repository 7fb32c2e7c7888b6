"""Test charts written to disk: a small app chart with a schema, and one with many templates."""

from __future__ import annotations

from pathlib import Path

CHART_YAML = """apiVersion: v2
name: {name}
description: A test chart
version: {version}
appVersion: "{app_version}"
"""

VALUES_YAML = """replicaCount: 1
image:
  repository: ghcr.io/example/web
  tag: "1.0.0"
greeting: hello
"""

SCHEMA_JSON = """{
  "$schema": "https://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "replicaCount": {"type": "integer", "minimum": 0},
    "greeting": {"type": "string"}
  }
}
"""

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels:
    app.kubernetes.io/instance: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      app: {{ .Release.Name }}-web
  template:
    metadata:
      labels:
        app: {{ .Release.Name }}-web
    spec:
      containers:
      - name: web
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
"""

CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-greeting
data:
  greeting: {{ .Values.greeting | quote }}
"""

NOTES = "Thanks for installing {{ .Chart.Name }}.\n"


def write_chart(
    root: Path,
    name: str = "web",
    version: str = "0.1.0",
    app_version: str = "1.0.0",
    extra_configmaps: int = 0,
) -> Path:
    """Write a chart directory under `root` and return its path."""
    chart = root / name
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text(CHART_YAML.format(name=name, version=version, app_version=app_version))
    (chart / "values.yaml").write_text(VALUES_YAML)
    (chart / "values.schema.json").write_text(SCHEMA_JSON)
    (chart / "templates" / "deployment.yaml").write_text(DEPLOYMENT)
    (chart / "templates" / "configmap.yaml").write_text(CONFIGMAP)
    (chart / "templates" / "NOTES.txt").write_text(NOTES)
    for index in range(extra_configmaps):
        (chart / "templates" / f"extra-{index:03d}.yaml").write_text(
            CONFIGMAP.replace("-greeting", f"-extra-{index:03d}")
        )
    return chart


#: A template that loops for hours in constant memory (10^12 empty iterations): only a kill stops it.
SPIN_TEMPLATE = ("{{- range $i := until 10000 }}{{- range $j := until 10000 }}{{- range $k := until 10000 }}"
                 "{{- end }}{{- end }}{{- end }}\n")
#: The issue's template: a range of 10^8 items, each written out (it runs into the render's memory limit).
GROW_TEMPLATE = "{{- range $i := until 100000000 }}\n# line {{ $i }}\n{{- end }}\n"


def write_runaway_chart(root: Path, name: str = "spin", template: str = SPIN_TEMPLATE) -> Path:
    """A chart of one ConfigMap and one template that never finishes; return its directory."""
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(CHART_YAML.format(name=name, version="0.1.0", app_version="1.0"))
    (chart / "templates" / "cm.yaml").write_text(CONFIGMAP)
    (chart / "templates" / "runaway.yaml").write_text(template)
    return chart
