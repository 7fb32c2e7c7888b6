"""What the REST mixins (write, delete, watch, scale, pods) may use of the Api they are parts of, for the type checker."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitops_tui.sandbox.schema.catalog import Catalog, ResourceType
    from gitops_tui.sandbox.serving.common import ApiRequest, Response
    from gitops_tui.sandbox.serving.routing import ResourceRoute
    from gitops_tui.sandbox.storage.store import Store


class ApiParts:
    """The Api's state and the methods one part calls on another (declared here; defined by rest.api.Api)."""

    store: Store
    catalog: Catalog
    bookmark_interval: float
    stopping: threading.Event
    custom: set[tuple[str, str]]

    if TYPE_CHECKING:
        def read(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any] | None: ...
        def present(self, rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]: ...
        def select(self, req: ApiRequest, route: ResourceRoute, rt: ResourceType) -> Any: ...
        def after_delete(self, rt: ResourceType, gone: dict[str, Any]) -> None: ...
        def _serve_crd(self, crd: dict[str, Any]) -> None: ...
        def _live(self, rt: ResourceType, route: ResourceRoute) -> dict[str, Any]: ...
        def _finalize(self, rt: ResourceType, live: dict[str, Any], new: dict[str, Any],
                      subresource: str) -> dict[str, Any]: ...
        def _persist_update(self, rt: ResourceType, live: dict[str, Any], new: dict[str, Any],
                            req: ApiRequest) -> Response: ...
