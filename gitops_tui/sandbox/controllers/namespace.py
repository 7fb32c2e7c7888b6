"""Namespace defaults: the `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap in every namespace."""

from __future__ import annotations

from typing import Any

from gitops_tui.sandbox.controllers.base import Controller
from gitops_tui.sandbox.controllers.kinds import CONFIGMAPS, NAMESPACES, SERVICEACCOUNTS
from gitops_tui.sandbox.controllers.objects import deleting, meta
from gitops_tui.sandbox.controllers.rest import ApiException, status_of

ROOT_CA = "kube-root-ca.crt"
DEFAULT_SA = "default"
ROOT_CA_DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
                       "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
                       "guaranteed across distributions of Kubernetes clusters.")


def keep_root_ca(obj: dict[str, Any]) -> dict[str, Any]:
    """What the ConfigMap cache keeps: metadata only, plus the data of the root CA ConfigMaps it checks."""
    kept: dict[str, Any] = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
                            "metadata": {k: v for k, v in (obj.get("metadata") or {}).items()
                                         if k not in ("managedFields", "annotations")}}
    if meta(obj).get("name") == ROOT_CA:
        kept["data"] = obj.get("data")
    return kept


class NamespaceController(Controller):
    """Puts the service-account and root-CA defaults into each active namespace, and puts them back if removed."""

    name = "namespace"

    def setup(self) -> None:
        """Reconcile a namespace when it appears or when one of its defaults changes or goes."""
        self.on(NAMESPACES, lambda kind, old, new: self.enqueue("", meta(new).get("name", "")) if new else None)

        def default_changed(wanted: str) -> Any:
            def handler(kind: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
                obj = new or old
                if meta(obj).get("name") == wanted:
                    self.enqueue("", meta(obj).get("namespace", ""))
            return handler

        self.on(CONFIGMAPS, default_changed(ROOT_CA))
        self.on(SERVICEACCOUNTS, default_changed(DEFAULT_SA))

    def start(self) -> None:
        """Look at every namespace once."""
        for ns in self.ctx.items(NAMESPACES):
            self.enqueue("", meta(ns).get("name", ""))

    def reconcile(self, namespace: str, name: str) -> float | None:
        """Create what is missing; restore the CA bundle if it was edited."""
        ns = self.ctx.cache(NAMESPACES, "", name)
        if ns is None or deleting(ns):
            return None
        if self.ctx.cache(SERVICEACCOUNTS, name, DEFAULT_SA) is None:
            self._create(SERVICEACCOUNTS, {"apiVersion": "v1", "kind": "ServiceAccount",
                                           "metadata": {"name": DEFAULT_SA, "namespace": name}})
        data = {"ca.crt": self.ctx.ca_pem}
        current = self.ctx.cache(CONFIGMAPS, name, ROOT_CA)
        if current is None:
            self._create(CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap",
                                      "metadata": {"name": ROOT_CA, "namespace": name,
                                                   "annotations": {"kubernetes.io/description": ROOT_CA_DESCRIPTION}},
                                      "data": data})
        elif current.get("data") != data and not deleting(current):
            self.ctx.patch(CONFIGMAPS, current, {"data": {**{k: None for k in current.get("data") or {}}, **data}})
        return None

    def _create(self, res: Any, obj: dict[str, Any]) -> None:
        try:
            self.ctx.create(res, obj)
        except ApiException as exc:
            if status_of(exc) not in (403, 404):  # the namespace is going or gone
                raise
