"""What a source is to Flux, read from its FederatedKustomization alone: a child of another source, a bootstrap, or neither.

A *child* was made from a Flux Kustomization another source renders (label ``gitops-tui.io/parent-source``). A
*bootstrap* source holds Flux's ``flux-system`` Kustomization of its own path (``gotk-sync.yaml``), which is read
as the source itself; the reconciler records that, and what it did with Flux's own components
(``gotk-components.yaml``), in ``status.flux``. Every surface (get sources, tree, the panes, describe, the Ready
condition) reads it here, so they say the same thing. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_tui.api import names

#: The operator's choice for Flux's own components (``run --flux-components``): left out (default) or applied.
COMPONENTS_SKIP = "skip"
COMPONENTS_APPLY = "apply"
COMPONENT_MODES = (COMPONENTS_SKIP, COMPONENTS_APPLY)
#: The environment variable the console's option sets for its embedded reconciler (as --allow-fetch does).
COMPONENTS_ENV = "GITOPS_TUI_FLUX_COMPONENTS"
#: On a child source: the Flux Kustomization's own name (docs/flux.md).
ANNOTATION_FLUX_NAME = "gitops-tui.io/flux-name"


@dataclass(frozen=True)
class FluxRole:
    """A source's place in a Flux layout."""

    parent: str = ""
    """The source whose revision declares this one ("" for a source an operator made)."""
    flux_name: str = ""
    """A child's Flux Kustomization name."""
    bootstrap: tuple[str, ...] = ()
    """The Flux Kustomizations (``Kustomization/flux-system``) this source's revision declares that are this source."""
    components: str = ""
    """What happened to Flux's own components at the last revision: ``skip``, ``apply`` or "" (none declared)."""
    component_objects: int = 0

    @property
    def is_bootstrap(self) -> bool:
        """Whether Flux's flux-system Kustomization is this source."""
        return bool(self.bootstrap)

    def tag(self) -> str:
        """The mark after the source's name in lists and trees: `` (flux-system)`` for a bootstrap, else ""."""
        if not self.bootstrap:
            return ""
        return " (" + ", ".join(b.split("/", 1)[-1] for b in self.bootstrap) + ")"

    def components_sentence(self) -> str:
        """One sentence on Flux's own components ("" when the revision declares none)."""
        if self.components == COMPONENTS_SKIP:
            return (f"Flux's own components ({self.component_objects} objects of gotk-components) are not applied: "
                    "this reconciler does their work (run --flux-components apply applies them)")
        if self.components == COMPONENTS_APPLY:
            return f"Flux's own components ({self.component_objects} objects) are applied (--flux-components apply)"
        return ""

    def sentence(self) -> str:
        """The describe line: what the source is to Flux ("" for a plain source)."""
        parts = []
        if self.parent:
            parts.append(f"child of source {self.parent} (Flux Kustomization {self.flux_name or '?'})")
        if self.bootstrap:
            parts.append(f"bootstrap: {', '.join(self.bootstrap)} (gotk-sync) is this source itself")
        if self.components:
            parts.append(self.components_sentence())
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The ``-o json`` form."""
        return {"parent": self.parent, "fluxName": self.flux_name, "bootstrap": list(self.bootstrap),
                "components": self.components, "componentObjects": self.component_objects}


def components_from_env() -> str:
    """The operator's choice from $GITOPS_TUI_FLUX_COMPONENTS (``skip`` unless it says ``apply``)."""
    import os

    return COMPONENTS_APPLY if os.environ.get(COMPONENTS_ENV, "").strip() == COMPONENTS_APPLY else COMPONENTS_SKIP


def render_mode(kustomization: dict[str, Any] | None, default: str) -> str:
    """How a surface renders the source's Flux components: as the reconciler last did (status.flux), else ``default``."""
    return flux_role(kustomization).components or default


def status_block(bootstrap: tuple[str, ...], components: str, objects: int) -> dict[str, Any]:
    """``status.flux`` as the reconciler writes it ({} when the revision declares neither)."""
    block: dict[str, Any] = {}
    if bootstrap:
        block["bootstrap"] = list(bootstrap)
    if components:
        block["components"] = {"mode": components, "objects": objects}
    return block


def flux_role(kustomization: dict[str, Any] | None) -> FluxRole:
    """The FluxRole of a FederatedKustomization (its labels, annotations and ``status.flux``)."""
    meta = (kustomization or {}).get("metadata") or {}
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    flux = ((kustomization or {}).get("status") or {}).get("flux") or {}
    found_components, found_bootstrap = flux.get("components"), flux.get("bootstrap")
    components: dict[str, Any] = found_components if isinstance(found_components, dict) else {}
    bootstrap: list[Any] = found_bootstrap if isinstance(found_bootstrap, list) else []
    try:
        objects = int(components.get("objects") or 0)
    except (TypeError, ValueError):
        objects = 0
    mode = str(components.get("mode") or "")
    return FluxRole(parent=str(labels.get(names.LABEL_PARENT_SOURCE) or ""),
                    flux_name=str(annotations.get(ANNOTATION_FLUX_NAME) or ""),
                    bootstrap=tuple(str(b) for b in bootstrap),
                    components=mode if mode in COMPONENT_MODES else "", component_objects=objects)
