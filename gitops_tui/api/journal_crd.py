"""The JournalEntry CRD (gitops-tui.io/v1alpha1, in gitops-tui-system): one operator action or automatic correction."""

from __future__ import annotations

from typing import Any

from gitops_tui.api import names
from gitops_tui.api.crd_skeleton import crd_manifest, typed_object
from gitops_tui.api.paths import resource_path

KIND_JOURNAL_ENTRY = "JournalEntry"
PLURAL_JOURNAL_ENTRIES = "journalentries"
JOURNAL_API_VERSION = names.PROJECT_API_VERSION
#: Label holding the UTC day of an entry (YYYYMMDD), so a --since listing reads only the days it needs.
LABEL_DAY = "gitops-tui.io/journal-day"

_STRING: dict[str, Any] = {"type": "string"}
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}


def journal_path(name: str = "") -> str:
    """The REST path of the journal entries (or of one entry)."""
    return resource_path(names.PROJECT_API_VERSION, PLURAL_JOURNAL_ENTRIES, names.SYSTEM_NAMESPACE, name or None)


def journal_entry_crd() -> dict[str, Any]:
    """The JournalEntry CRD manifest: spec {time, action, actor, identity, ssh, reason, project, source, clusters, objects}."""
    spec = {
        "type": "object",
        "required": ["time", "action", "actor"],
        "properties": {
            "time": _STRING, "action": _STRING, "actor": _STRING, "reason": _STRING,
            "project": _STRING, "source": _STRING, "clusters": _STRINGS, "objects": _STRINGS, "ssh": _STRING,
            "identity": {"type": "object", "properties": {"user": _STRING, "groups": _STRINGS,
                                                          "verified": {"type": "boolean"}, "via": _STRING}},
        },
    }
    columns: list[dict[str, Any]] = [{"name": "Time", "type": "string", "jsonPath": ".spec.time"},
                                     {"name": "Action", "type": "string", "jsonPath": ".spec.action"},
                                     {"name": "Actor", "type": "string", "jsonPath": ".spec.actor"},
                                     {"name": "Identity", "type": "string", "jsonPath": ".spec.identity.user"},
                                     {"name": "Project", "type": "string", "jsonPath": ".spec.project"},
                                     {"name": "Source", "type": "string", "jsonPath": ".spec.source"},
                                     {"name": "Reason", "type": "string", "jsonPath": ".spec.reason", "priority": 1}]
    return crd_manifest(names.PROJECT_GROUP, names.PROJECT_VERSION, KIND_JOURNAL_ENTRY, PLURAL_JOURNAL_ENTRIES,
                        schema=typed_object(spec), columns=columns, short_names=["journal"], categories=["gitops-tui"],
                        labels={"app.kubernetes.io/managed-by": names.FIELD_MANAGER}, status=False)
