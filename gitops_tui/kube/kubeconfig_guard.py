"""The one guarded way to a client from a kubeconfig stored in the management cluster: no command, no file.

Whoever can write a KubeFedCluster's kubeconfig Secret must not be able to run code or read files on the
machine of an operator (Flux's rule: kustomize-controller's ``--insecure-kubeconfig-exec`` is off by
default). A stored kubeconfig may hold a server, inline certificates and keys, a token or a user name and
password; it may not name a file or a credential plugin. Nothing of a refused kubeconfig is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

#: Reason on a KubeFedCluster whose stored kubeconfig is refused.
REASON_KUBECONFIG_REFUSED = "KubeconfigRefused"

#: A kubeconfig of one or a few clusters with inline certificates is a few KiB.
MAX_KUBECONFIG_BYTES = 256 * 1024
#: User fields that name a file (refused whatever the policy).
_USER_FILE_FIELDS = ("tokenFile", "client-certificate", "client-key")
#: Cluster fields that name a file.
_CLUSTER_FILE_FIELDS = ("certificate-authority",)


@dataclass(frozen=True)
class KubeconfigPolicy:
    """What a kubeconfig read from the management cluster may use."""

    #: Run ``user.exec`` credential plugins (the operator's explicit ``--insecure-kubeconfig-exec``).
    allow_exec: bool = False


#: The default: no plugin, no file.
STRICT = KubeconfigPolicy()


class KubeconfigRefused(Exception):
    """A stored kubeconfig uses a field it may not; ``field`` names it, the message is safe to show."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CheckedKubeconfig:
    """A stored kubeconfig that passed the guard, with what the operator should be warned of."""

    config: dict[str, Any]
    warnings: tuple[str, ...] = ()


class _NoAliasLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses aliases: no kubeconfig needs them, an alias bomb uses them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node, refusing ``*alias`` references."""
        if self.check_event(yaml.AliasEvent):
            raise KubeconfigRefused("kubeconfig", "stored kubeconfig refused: it uses YAML aliases")
        return super().compose_node(parent, index)


def parse_stored_kubeconfig(text: str | bytes) -> dict[str, Any]:
    """Return the kubeconfig mapping of Secret content; raise KubeconfigRefused when it is not one."""
    if len(text) > MAX_KUBECONFIG_BYTES:
        raise KubeconfigRefused("kubeconfig", f"stored kubeconfig refused: it is over {MAX_KUBECONFIG_BYTES} bytes")
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        raise KubeconfigRefused("kubeconfig", "stored kubeconfig refused: it is not valid YAML") from None
    if not isinstance(data, dict):
        raise KubeconfigRefused("kubeconfig", "stored kubeconfig refused: it is not a YAML mapping")
    return data


def _entries(config: dict[str, Any], section: str, inner: str) -> list[tuple[str, dict[str, Any]]]:
    """Return (name, body) of every entry of ``clusters`` or ``users``; a malformed section is refused."""
    items = config.get(section) or []
    if not isinstance(items, list):
        raise KubeconfigRefused(section, f"stored kubeconfig refused: its {section} is not a list")
    out = []
    for index, item in enumerate(items):
        body = item.get(inner) if isinstance(item, dict) else None
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise KubeconfigRefused(section, f"stored kubeconfig refused: its {section}[{index}] is malformed")
        name = item.get("name") if isinstance(item, dict) else None
        out.append((str(name) if name else str(index), body))
    return out


def _refuse(section: str, name: str, field: str, why: str) -> KubeconfigRefused:
    return KubeconfigRefused(field, f"stored kubeconfig refused: it uses {field} ({section} {name[:63]!r}) "
                                    f"and {why}; attach the cluster again with `gitops-tui attach cluster`, "
                                    f"which stores only a ServiceAccount token")


def check_stored_kubeconfig(config: dict[str, Any], policy: KubeconfigPolicy = STRICT) -> CheckedKubeconfig:
    """Refuse (KubeconfigRefused) a stored kubeconfig that would run a command or read a file.

    Every user and cluster entry is checked, not only the current context's: nothing in the Secret
    may point outside it. Returns the warnings to show on the cluster (TLS verification off, a plugin
    allowed by the operator's flag).
    """
    warnings: list[str] = []
    for name, user in _entries(config, "users", "user"):
        if user.get("auth-provider"):
            raise _refuse("user", name, "auth-provider",
                          "a stored kubeconfig may not use auth-provider plugins (they run commands and read files)")
        for field in _USER_FILE_FIELDS:
            if user.get(field):
                raise _refuse("user", name, field, "a stored kubeconfig may not name a local file")
        if user.get("exec"):
            if not policy.allow_exec:
                raise _refuse("user", name, "exec",
                              "a stored kubeconfig may not run a credential plugin "
                              "unless the reconciler runs with --insecure-kubeconfig-exec")
            warnings.append("its kubeconfig runs an exec credential plugin (allowed by --insecure-kubeconfig-exec)")
    for name, cluster in _entries(config, "clusters", "cluster"):
        for field in _CLUSTER_FILE_FIELDS:
            if cluster.get(field):
                raise _refuse("cluster", name, field, "a stored kubeconfig may not name a local file")
        if cluster.get("insecure-skip-tls-verify"):
            warnings.append("TLS certificate verification is off for this cluster (insecure-skip-tls-verify)")
    return CheckedKubeconfig(config, tuple(warnings))
