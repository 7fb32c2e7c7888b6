"""Pure helpers the controllers share: owner references, selectors, pod state, template hashes, int-or-percent."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime
from typing import Any

from gitops_tui.util.timestamps import parse_time

#: Characters of generated names and hashes, as apimachinery's rand.SafeEncodeString uses them.
SAFE_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def meta(obj: dict[str, Any] | None) -> dict[str, Any]:
    """obj.metadata (an empty dict when missing)."""
    value = (obj or {}).get("metadata")
    return value if isinstance(value, dict) else {}


def spec(obj: dict[str, Any] | None) -> dict[str, Any]:
    """obj.spec (an empty dict when missing)."""
    value = (obj or {}).get("spec")
    return value if isinstance(value, dict) else {}


def status(obj: dict[str, Any] | None) -> dict[str, Any]:
    """obj.status (an empty dict when missing)."""
    value = (obj or {}).get("status")
    return value if isinstance(value, dict) else {}


def deleting(obj: dict[str, Any] | None) -> bool:
    """Whether the object has a deletionTimestamp."""
    return bool(meta(obj).get("deletionTimestamp"))


def controller_uid(obj: dict[str, Any]) -> str:
    """The uid of the object's managing controller (its ownerReference with controller: true), or ""."""
    for ref in meta(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return str(ref.get("uid") or "")
    return ""


def owner_reference(owner: dict[str, Any], block: bool = True) -> dict[str, Any]:
    """A controller ownerReference pointing at ``owner``."""
    m = meta(owner)
    return {"apiVersion": owner.get("apiVersion", ""), "kind": owner.get("kind", ""), "name": m.get("name", ""),
            "uid": m.get("uid", ""), "controller": True, "blockOwnerDeletion": block}


def owned_by(items: list[dict[str, Any]], owner: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects of ``items`` whose controller is ``owner``."""
    uid = meta(owner).get("uid")
    return [o for o in items if uid and controller_uid(o) == uid]


def selector_matches(selector: Any, labels: dict[str, Any] | None) -> bool:
    """Whether a LabelSelector (matchLabels / matchExpressions) selects ``labels``; an empty one selects all."""
    labels = labels or {}
    if not isinstance(selector, dict):
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def map_matches(selector: Any, labels: dict[str, Any] | None) -> bool:
    """Whether a plain label map (a Service's or an RC's selector) selects ``labels``; an empty one selects none."""
    if not isinstance(selector, dict) or not selector:
        return False
    labels = labels or {}
    return all(labels.get(k) == v for k, v in selector.items())


def pod_terminal(pod: dict[str, Any]) -> bool:
    """Whether the pod has finished (Succeeded or Failed)."""
    return status(pod).get("phase") in ("Succeeded", "Failed")


def pod_active(pod: dict[str, Any]) -> bool:
    """Whether the pod counts toward its controller's replicas: not finished and not being deleted."""
    return not pod_terminal(pod) and not deleting(pod)


def _ready_condition(pod: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in status(pod).get("conditions") or [] if c.get("type") == "Ready"), None)


def pod_ready(pod: dict[str, Any]) -> bool:
    """Whether the pod's Ready condition is True."""
    cond = _ready_condition(pod)
    return cond is not None and cond.get("status") == "True"


def pod_available(pod: dict[str, Any], min_ready_seconds: int, now: datetime) -> bool:
    """Whether the pod has been ready for at least ``min_ready_seconds``."""
    if not pod_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = parse_time((_ready_condition(pod) or {}).get("lastTransitionTime"))
    return since is not None and (now - since).total_seconds() >= min_ready_seconds


def image_fails(image: str) -> bool:
    """Whether an image reference is tagged `fail` (such containers never start)."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[1] == "fail"


def fnv32a(data: bytes) -> int:
    """The 32-bit FNV-1a hash, as Go's hash/fnv New32a computes it."""
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """apimachinery's rand.SafeEncodeString: each byte mapped onto consonants and digits that spell no words."""
    return "".join(SAFE_CHARS[ord(ch) % len(SAFE_CHARS)] for ch in text)


def pruned(value: Any) -> Any:
    """``value`` without nulls, empty objects and empty lists, as Go's omitempty serialization sees it."""
    if isinstance(value, dict):
        out = {k: pruned(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [pruned(v) for v in value]
    return value


def template_hash(template: Any, collision_count: int | None = None) -> str:
    """A pod template's hash as the controllers compute it: FNV-32a, then SafeEncodeString of its decimal value.

    The bytes hashed are the template's canonical JSON (kube-controller-manager hashes Go's dump of the
    struct), so the value has the real format but not the real cluster's digits.
    """
    data = json.dumps(pruned(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:  # as controller.ComputeHash: the count as 8 little-endian bytes
        data += int(collision_count).to_bytes(4, "little") + bytes(4)
    return safe_encode(str(fnv32a(data)))


def random_suffix(length: int = 5) -> str:
    """A generateName suffix: ``length`` safe characters."""
    return "".join(random.choices(SAFE_CHARS, k=length))


def int_or_percent(value: Any, total: int, round_up: bool) -> int:
    """Resolve an IntOrString (3 or "25%") against ``total``."""
    if isinstance(value, int):
        return value
    text = str(value or "0").strip()
    if text.endswith("%"):
        try:
            fraction = float(text[:-1]) * total / 100
        except ValueError:
            return 0
        return int(math.ceil(fraction) if round_up else math.floor(fraction))
    try:
        return int(text)
    except ValueError:
        return 0


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def timestamp(when: datetime) -> str:
    """RFC 3339 with second precision, as the API server writes times."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(kind: str, state: str, reason: str, message: str, old: dict[str, Any] | None, now: datetime,
              update_time: bool = True) -> dict[str, Any]:
    """A status condition keeping the old timestamps where nothing changed."""
    old = old or {}
    same = bool(old) and old.get("status") == state
    unchanged = same and old.get("reason") == reason and old.get("message") == message
    cond: dict[str, Any] = {"type": kind, "status": state}
    if update_time:
        cond["lastUpdateTime"] = old.get("lastUpdateTime", timestamp(now)) if unchanged and old else timestamp(now)
    cond["lastTransitionTime"] = old["lastTransitionTime"] if same and old.get("lastTransitionTime") \
        else timestamp(now)
    cond["reason"] = reason
    cond["message"] = message
    return cond


def conditions_by_type(obj: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The status conditions of an object keyed by type."""
    return {c.get("type"): c  # type: ignore[misc]  # an untyped condition keys as None, never looked up
            for c in status(obj).get("conditions") or [] if isinstance(c, dict)}


def status_patch(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """The merge patch turning status ``old`` into ``new`` (keys to remove set to null), None when equal."""
    if old == new:
        return None
    patch: dict[str, Any] = {}
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            inner = status_patch(before, value)
            if inner is not None:
                patch[key] = inner
        elif value != before or key not in old:
            patch[key] = value
    for key in old:
        if key not in new:
            patch[key] = None
    return patch
