"""meta.k8s.io/v1 Table responses for kubectl, with kube-apiserver's printer columns."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from gitops_tui.sandbox.rest.table_printers import (  # noqa: F401  (age helpers re-exported)
    AGE_COLUMN,
    AGE_DESCRIPTION,
    NAME_COLUMN,
    PRINTERS,
    age,
    column,
    parse_time,
)
from gitops_tui.sandbox.rest.table_printers_cluster import CLUSTER_PRINTERS
from gitops_tui.sandbox.schema.catalog import ResourceType

# ---- simple JSONPath for additionalPrinterColumns -------------------------------------------

_FILTER = re.compile(r"""^\?\(@\.([\w.\-/]+)\s*==\s*(?:"([^"]*)"|'([^']*)'|(\S+))\)$""")
_TOKEN = re.compile(r"\.([^.\[\]]+)|\[([^\]]*)\]")


def jsonpath(obj: Any, path: str) -> list[Any]:
    """Evaluate a simple JSONPath (.a.b, [0], [*], [?(@.k=="v")]) and return every match."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    if path.startswith("$"):
        path = path[1:]
    values = [obj]
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if not match:
            return []
        pos = match.end()
        key, index = match.group(1), match.group(2)
        nxt: list[Any] = []
        for value in values:
            if key is not None:
                if isinstance(value, dict) and key in value:
                    nxt.append(value[key])
                continue
            if not isinstance(value, list):
                if isinstance(value, dict) and index.strip("'\"") in value:
                    nxt.append(value[index.strip("'\"")])
                continue
            if index == "*":
                nxt.extend(value)
            elif index.lstrip("-").isdigit():
                i = int(index)
                if -len(value) <= i < len(value):
                    nxt.append(value[i])
            else:
                cond = _FILTER.match(index.strip())
                if not cond:
                    return []
                field = cond.group(1)
                want = next(g for g in cond.groups()[1:] if g is not None)
                for item in value:
                    got = jsonpath(item, "." + field)
                    if got and str(got[0]) == want:
                        nxt.append(item)
        values = nxt
    return values


def _cell_for(col_type: str, value: Any) -> Any:
    if value is None:
        return None
    if col_type == "string":
        if isinstance(value, (dict, list)):
            return json.dumps(value, separators=(",", ":"))
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)
    if col_type == "integer":
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if col_type == "number":
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if col_type == "boolean":
        return value if isinstance(value, bool) else None
    if col_type == "date":
        return age(value) if parse_time(value) else ("<invalid>" if isinstance(value, str) else None)
    return None


def _crd_printer(rt: ResourceType) -> tuple[list[dict], Callable[[dict], list]]:
    cols = list(rt.printer_columns)
    if not cols:
        return [NAME_COLUMN, column("Age", "date", AGE_DESCRIPTION)], \
            lambda o: [o.get("metadata", {}).get("name", ""), age(o.get("metadata", {}).get("creationTimestamp"))]
    defs = [NAME_COLUMN] + [column(c.name, c.type, c.description, c.priority, c.format) for c in cols]

    def row(obj: dict) -> list:
        cells: list[Any] = [obj.get("metadata", {}).get("name", "")]
        for col in cols:
            found = jsonpath(obj, col.json_path)
            cells.append(_cell_for(col.type, found[0]) if found else None)
        return cells

    return defs, row


def printer_for(rt: ResourceType) -> tuple[list[dict], Callable[[dict], list]]:
    """Column definitions and a row function for objects of ``rt``."""
    if rt.is_crd:
        return _crd_printer(rt)
    entry = PRINTERS.get((rt.group, rt.kind)) or CLUSTER_PRINTERS.get((rt.group, rt.kind))
    if entry is not None:
        columns, row_fn = entry
        return [column(*c) if isinstance(c, tuple) else c for c in columns], row_fn
    return [NAME_COLUMN, AGE_COLUMN], \
        lambda o: [o.get("metadata", {}).get("name", ""), age(o.get("metadata", {}).get("creationTimestamp"))]


def _row_object(rt: ResourceType, obj: dict, include_object: str) -> dict | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def to_table(rt: ResourceType, objects: list[dict], list_metadata: dict,
             include_object: str = "Metadata") -> dict:
    """Return a meta.k8s.io/v1 Table of ``objects`` with kube-apiserver's columns for ``rt``."""
    columns, row_fn = printer_for(rt)
    rows = []
    for obj in objects:
        try:
            cells = row_fn(obj)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            cells = [obj.get("metadata", {}).get("name", "")] + [None] * (len(columns) - 1)
        row: dict[str, Any] = {"cells": cells}
        embedded = _row_object(rt, obj, include_object)
        if embedded is not None:
            row["object"] = embedded
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": dict(list_metadata or {}),
            "columnDefinitions": columns, "rows": rows}
