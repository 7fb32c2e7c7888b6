"""What a cluster and the reconciler accept: a YAML loader that counts expanded nodes, and sizes per object and revision.

A YAML alias is cheap to parse and expensive everywhere after (a JSON body, a hash, a deep compare
expand it), so every document is measured as it would be *expanded* before it is constructed.
Figures and reasons: docs/reconciler.md#bounded-cost.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from typing import Any

import yaml

try:  # the C loader is much faster when available
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.SafeLoader

MIB = 1024 * 1024
#: Expanded YAML nodes (scalars, sequences, mappings; an alias counts as what it points at) per file.
MAX_YAML_NODES = 1_000_000
#: Bytes of one manifest file, or of one kustomize / Helm output, before it is parsed.
MAX_FILE_BYTES = 16 * MIB
#: The API server's limit for one object (etcd's 1.5 MiB), measured on the JSON body.
MAX_OBJECT_BYTES = 3 * MIB // 2
#: A ConfigMap's or Secret's data (keys and values, decoded) may hold at most 1 MiB, as kube-apiserver checks.
MAX_DATA_BYTES = MIB
#: Objects in one revision (plain objects and each chart's objects are counted apart).
MAX_OBJECTS = 5000
#: JSON bytes of every object of one revision together.
MAX_REVISION_BYTES = 32 * MIB
#: YAML text of one object once expanded (post-build substitution): twice the object limit, YAML being wordier
#: than the JSON body MAX_OBJECT_BYTES measures; the object is measured again as JSON after.
MAX_EXPANDED_OBJECT_BYTES = 2 * MAX_OBJECT_BYTES
#: YAML text of a whole revision once expanded (the same allowance over MAX_REVISION_BYTES).
MAX_EXPANDED_REVISION_BYTES = 2 * MAX_REVISION_BYTES


class LimitExceeded(ValueError):
    """Manifests too big or too expensive to use: an alias bomb, an object over 1.5 MiB, too many objects.

    ``message`` is one sentence; ``origin`` names the file and ``object`` the object when known.
    """

    def __init__(self, message: str, *, origin: str = "", object: str = "") -> None:  # noqa: A002
        """Record the message and what it is about."""
        super().__init__(message)
        self.message = message
        self.origin = origin
        self.object = object


def _size(amount: int) -> str:
    return f"{amount / MIB:.1f} MiB" if amount >= MIB else f"{amount} bytes"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def expanded_size(root: yaml.Node, where: str, limit: int = MAX_YAML_NODES) -> tuple[int, int]:
    """Return (nodes, scalar bytes) of a composed document as if every alias were expanded.

    Each distinct node is visited once (sizes are memoised), so a billion-laughs document costs
    microseconds here; LimitExceeded when it expands beyond ``limit`` nodes or aliases itself.
    """
    memo: dict[int, tuple[int, int]] = {}
    ancestors: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            nodes, size = 1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0
            for child in _children(node):
                child_nodes, child_size = memo[id(child)]
                nodes += child_nodes
                size += child_size
            if nodes > limit:
                raise LimitExceeded(f"{where} expands to more than {limit:,} YAML nodes (an alias bomb?); "
                                    "write the objects out instead of nesting aliases", origin=where)
            memo[key] = (nodes, size)
            ancestors.discard(key)
            continue
        if key in memo:
            continue
        ancestors.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in ancestors:
                raise LimitExceeded(f"{where} has an alias that contains itself", origin=where)
            if id(child) not in memo:
                stack.append((child, False))
    return memo[id(root)]


def expanded_nodes(value: Any, where: str, limit: int = MAX_YAML_NODES) -> int:
    """Return how many nodes a loaded value has once shared parts are counted each time (as JSON would write them).

    For values parsed elsewhere (Helm values from a ConfigMap): LimitExceeded beyond ``limit`` or on a cycle.
    """
    memo: dict[int, int] = {}
    ancestors: set[int] = set()
    stack: list[tuple[Any, bool]] = [(value, False)]

    def children(item: Any) -> list[Any]:
        if isinstance(item, dict):
            return [v for v in item.values() if isinstance(v, (dict, list))]
        return [v for v in item if isinstance(v, (dict, list))] if isinstance(item, list) else []

    while stack:
        item, finished = stack.pop()
        key = id(item)
        if not isinstance(item, (dict, list)):
            continue
        if finished:
            count = 1 + len(item) + sum(memo[id(c)] - 1 for c in children(item))
            if count > limit:
                raise LimitExceeded(f"{where} expand to more than {limit:,} nodes (an alias bomb?)")
            memo[key] = count
            ancestors.discard(key)
            continue
        if key in memo:
            continue
        ancestors.add(key)
        stack.append((item, True))
        for child in children(item):
            if id(child) in ancestors:
                raise LimitExceeded(f"{where} contain themselves (a recursive alias)")
            if id(child) not in memo:
                stack.append((child, False))
    return memo.get(id(value), 1)


class Budget:
    """What expansions (substitution, values) may still produce in one revision: bytes in all, and per object.

    ``spend`` is called as text is produced, before it is built, so an expansion is refused at the first
    byte over the limit rather than measured after (docs/reconciler.md#bounded-cost).
    """

    def __init__(self, total: int = MAX_EXPANDED_REVISION_BYTES, per_object: int = MAX_EXPANDED_OBJECT_BYTES) -> None:
        """Allow ``total`` bytes in the revision and ``per_object`` bytes for each object."""
        self.total = total
        self.per_object = per_object
        self.spent = 0

    def spend(self, amount: int, object_so_far: int, where: str) -> None:
        """Count ``amount`` more bytes, the object then holding ``object_so_far``; LimitExceeded past either limit."""
        self.spent += amount
        if object_so_far > self.per_object:
            raise LimitExceeded(f"{where} grows past {_size(self.per_object)} while its variables are substituted; "
                                "an object may hold at most 1.5 MiB", origin=where)
        if self.spent > self.total:
            raise LimitExceeded(f"substituting variables makes the revision larger than {_size(self.total)} "
                                f"(at {where}); split it into several sources", origin=where)


def load_documents(text: str, where: str, *, max_nodes: int = MAX_YAML_NODES,
                   max_bytes: int = MAX_FILE_BYTES) -> list[Any]:
    """Parse multi-document YAML, refusing (LimitExceeded) more than ``max_nodes`` expanded nodes in all.

    Syntax errors are yaml.YAMLError, as from yaml.load_all; the caller words them.
    """
    if len(text) > max_bytes:
        raise LimitExceeded(f"{where} is {_size(len(text))}; at most {_size(max_bytes)} of YAML is read "
                            "from one file or one build", origin=where)
    scalar_limit = max(MAX_REVISION_BYTES, 2 * max_bytes)
    loader = _Loader(text)
    documents: list[Any] = []
    total_nodes = 0
    total_bytes = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            nodes, size = expanded_size(node, where, max_nodes - total_nodes)
            total_nodes += nodes
            total_bytes += size
            if total_bytes > scalar_limit:
                raise LimitExceeded(f"{where} expands to more than {_size(scalar_limit)} of text "
                                    "(an alias bomb?)", origin=where)
            documents.append(loader.construct_document(node))
    finally:
        loader.dispose()
    return documents


def json_size(obj: Any) -> int:
    """Bytes of the object's compact JSON body (as sent to the API server)."""
    return len(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def _data_bytes(obj: dict[str, Any]) -> int:
    """Bytes of a ConfigMap's or Secret's data as kube-apiserver counts them (keys plus decoded values)."""
    total = 0
    secret = obj.get("kind") == "Secret"
    for field_name in ("data", "binaryData", "stringData"):
        values = obj.get(field_name)
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            text = str(value if value is not None else "")
            if (secret and field_name == "data") or field_name == "binaryData":
                try:
                    total += len(str(key)) + len(base64.b64decode(text, validate=False))
                    continue
                except (binascii.Error, ValueError):
                    pass
            total += len(str(key).encode("utf-8")) + len(text.encode("utf-8"))
    return total


def display(obj: dict[str, Any]) -> str:
    """"Kind namespace/name" of an object, for messages."""
    meta = obj.get("metadata") or {}
    where = f"{meta.get('namespace')}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))
    return f"{obj.get('kind')} {where}"


def check_object(obj: dict[str, Any], origin: str = "") -> int:
    """Return the object's JSON size; LimitExceeded when over 1.5 MiB, or over 1 MiB of ConfigMap/Secret data."""
    where = f"{display(obj)}" + (f" in {origin}" if origin else "")
    if obj.get("kind") in ("ConfigMap", "Secret") and "/" not in str(obj.get("apiVersion", "v1")):
        data = _data_bytes(obj)
        if data > MAX_DATA_BYTES:
            raise LimitExceeded(f"{where} holds {_size(data)} of data; a {obj['kind']} may hold at most 1 MiB "
                                f"({MAX_DATA_BYTES} bytes)", origin=origin, object=display(obj))
    size = json_size(obj)
    if size > MAX_OBJECT_BYTES:
        raise LimitExceeded(f"{where} is {_size(size)}; the API server stores objects of at most 1.5 MiB",
                            origin=origin, object=display(obj))
    return size


def check_revision(objects: Iterable[tuple[dict[str, Any], str]], what: str = "the revision") -> None:
    """Check each (object, origin) and the totals: at most MAX_OBJECTS objects and MAX_REVISION_BYTES bytes."""
    count = 0
    total = 0
    for obj, origin in objects:
        count += 1
        if count > MAX_OBJECTS:
            raise LimitExceeded(f"{what} has more than {MAX_OBJECTS:,} objects; split it into several sources")
        total += check_object(obj, origin)
        if total > MAX_REVISION_BYTES:
            raise LimitExceeded(f"{what} holds more than {_size(MAX_REVISION_BYTES)} of objects; "
                                "split it into several sources")
