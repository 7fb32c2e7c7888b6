"""Field paths met while walking an object, printed the three ways kube-apiserver prints them."""

from __future__ import annotations

import json
from typing import Any

FIELD, KEY, INDEX = 0, 1, 2


class Path:
    """One step from the object's root (a linked list: cheap to extend, printed only on error)."""

    __slots__ = ("parent", "kind", "name", "item", "list_keys", "list_type")

    def __init__(self, parent: Path | None, kind: int, name: Any, item: Any = None,
                 list_keys: tuple[str, ...] = (), list_type: str = "") -> None:
        self.parent = parent
        self.kind = kind
        self.name = name
        self.item = item
        self.list_keys = list_keys
        self.list_type = list_type

    def field(self, name: str) -> Path:
        """The path of a field of this object."""
        return Path(self, FIELD, name)

    def key(self, name: str) -> Path:
        """The path of a map entry."""
        return Path(self, KEY, name)

    def index(self, i: int, item: Any, list_keys: tuple[str, ...] = (), list_type: str = "") -> Path:
        """The path of a list item (with the list's map keys, for server-side apply's spelling)."""
        return Path(self, INDEX, i, item, list_keys, list_type)

    def steps(self) -> list[Path]:
        """The steps from the root to here."""
        out: list[Path] = []
        node: Path | None = self
        while node is not None and node.parent is not None:
            out.append(node)
            node = node.parent
        out.reverse()
        return out

    def json_path(self) -> str:
        """'spec.template.spec.containers[0].image' (field errors and strict decoding errors)."""
        text = ""
        for step in self.steps():
            if step.kind == INDEX:
                text += f"[{step.name}]"
            else:
                text += f".{step.name}" if text else str(step.name)
        return text

    def go_path(self) -> str:
        """'spec.template.spec.containers.image': Go's json errors name fields, never indices or map keys."""
        return ".".join(str(step.name) for step in self.steps() if step.kind == FIELD)

    def smd_path(self) -> str:
        """'.spec.template.spec.containers[name="web"].image', as structured-merge-diff prints it."""
        text = ""
        for step in self.steps():
            if step.kind != INDEX:
                text += f".{step.name}"
            elif step.list_keys and isinstance(step.item, dict):
                keys = ",".join(f"{k}={json.dumps(step.item.get(k))}" for k in step.list_keys
                                if k in step.item)
                text += f"[{keys}]"
            elif step.list_type == "set":
                text += f"[={json.dumps(step.item)}]"
            else:
                text += f"[{step.name}]"
        return text


def value_at(obj: Any, path: Path) -> Any:
    """The value found at ``path`` in ``obj`` (None when it is not there)."""
    node = obj
    for step in path.steps():
        if step.kind == INDEX:
            node = node[step.name] if isinstance(node, list) and step.name < len(node) else None
        else:
            node = node.get(step.name) if isinstance(node, dict) else None
    return node


ROOT = Path(None, FIELD, "")
