"""What a HelmRelease says about failing: Flux's install/upgrade strategy, remediation, wait and timeout. Pure.

- ``wait`` (Helm's, on by default; ``install.disableWait`` / ``upgrade.disableWait`` turn it off): after its objects
  are applied, a release is deployed only once they are ready (kstatus), within ``install.timeout`` /
  ``upgrade.timeout``, else ``spec.timeout`` (default 5m); otherwise the attempt fails.
- ``RemediateOnFailure`` (the default strategy): a failed attempt counts (``status.installFailures`` /
  ``upgradeFailures``); while ``remediation.retries`` remain (default 0; negative: no end) it is remediated (an
  install uninstalled; an upgrade rolled back, or uninstalled with ``upgrade.remediation.strategy: uninstall``) and
  tried again; once they are exhausted it is not tried again for the same chart and values, and remediated only with
  ``remediateLastFailure`` (default false for installs; for upgrades, true when retries > 0).
- ``RetryOnFailure``: a failed attempt is never remediated (no rollback, no uninstall) and is tried again every
  ``strategy.retryInterval`` (default 5m), however often it failed.

docs/helm.md#when-a-release-fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_tui.api.formats import parse_duration

REMEDIATE = "RemediateOnFailure"
RETRY = "RetryOnFailure"
STRATEGIES = (REMEDIATE, RETRY)
DEFAULT_TIMEOUT = 300.0
DEFAULT_RETRY_INTERVAL = 300.0
UNINSTALL = "uninstall"
ROLLBACK = "rollback"
INSTALL = "install"
UPGRADE = "upgrade"
#: status fields counting failed attempts (Flux's names).
FAILURE_FIELDS = {INSTALL: "installFailures", UPGRADE: "upgradeFailures"}


class StrategyInvalid(ValueError):
    """A strategy or remediation field with a value Flux does not accept (one sentence)."""


@dataclass(frozen=True)
class Strategy:
    """How one Helm action (install or upgrade) of a release behaves when it fails."""

    action: str
    name: str = REMEDIATE
    retry_interval: float = DEFAULT_RETRY_INTERVAL
    retries: int = 0
    remediate_last: bool = False
    remediation: str = UNINSTALL
    wait: bool = True
    timeout: float = DEFAULT_TIMEOUT

    @property
    def retrying(self) -> bool:
        """RetryOnFailure: never remediated, tried again every retryInterval."""
        return self.name == RETRY

    def exhausted(self, failures: int) -> bool:
        """Whether no attempt is left after ``failures`` failed ones (RemediateOnFailure only)."""
        return not self.retrying and self.retries >= 0 and failures > self.retries

    def remediates(self, failures: int) -> bool:
        """Whether a failure that brought the count to ``failures`` is remediated now."""
        if self.retrying:
            return False
        return not self.exhausted(failures) or self.remediate_last

    def describe(self, failures: int) -> str:
        """``(1 failed attempt; install.remediation.retries 0)``-like words for a refusal."""
        if self.retrying:
            return f"{failures} failed attempt(s); retried every {self.retry_interval:g}s ({RETRY})"
        return f"{failures} failed attempt(s); {self.action}.remediation.retries {self.retries}"


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise StrategyInvalid(f"{where}: Invalid value: a mapping is expected")
    return value


def _seconds(value: Any, default: float, where: str) -> float:
    if value in (None, ""):
        return default
    try:
        seconds = parse_duration(value)
    except (TypeError, ValueError):
        raise StrategyInvalid(f"{where}: Invalid value: {value!r} is not a duration such as 5m") from None
    if seconds <= 0:
        raise StrategyInvalid(f"{where}: Invalid value: {value!r} must be positive")
    return seconds


def strategy_of(helm_release: dict[str, Any], action: str) -> Strategy:
    """The Strategy of ``action`` (install or upgrade) written in a HelmRelease; StrategyInvalid for a bad field."""
    spec = helm_release.get("spec") or {}
    section = _mapping(spec.get(action), f"spec.{action}")
    chosen = _mapping(section.get("strategy"), f"spec.{action}.strategy")
    name = chosen.get("name") or REMEDIATE
    if name not in STRATEGIES:
        raise StrategyInvalid(f"spec.{action}.strategy.name: Unsupported value: {name!r}: supported values: "
                              f"{', '.join(repr(s) for s in STRATEGIES)}")
    remediation = _mapping(section.get("remediation"), f"spec.{action}.remediation")
    retries = remediation.get("retries", 0)
    if not isinstance(retries, int) or isinstance(retries, bool):
        raise StrategyInvalid(f"spec.{action}.remediation.retries: Invalid value: {retries!r}: an integer")
    how = UNINSTALL if action == INSTALL else str(remediation.get("strategy") or ROLLBACK)
    if how not in (ROLLBACK, UNINSTALL):
        raise StrategyInvalid(f"spec.{action}.remediation.strategy: Unsupported value: {how!r}: supported values: "
                              "'rollback', 'uninstall'")
    last = remediation.get("remediateLastFailure")
    default_last = action == UPGRADE and retries > 0
    return Strategy(
        action=action, name=name,
        retry_interval=_seconds(chosen.get("retryInterval"), DEFAULT_RETRY_INTERVAL,
                                f"spec.{action}.strategy.retryInterval"),
        retries=retries, remediate_last=default_last if last is None else bool(last), remediation=how,
        wait=not bool(section.get("disableWait")),
        timeout=_seconds(section.get("timeout"), _seconds(spec.get("timeout"), DEFAULT_TIMEOUT, "spec.timeout"),
                         f"spec.{action}.timeout"))


def failures(status: dict[str, Any] | None, action: str, digest: str) -> int:
    """Failed attempts of ``action`` recorded for this chart and values (a new digest starts again at 0)."""
    status = status or {}
    if status.get("lastAttemptedConfigDigest") != digest:
        return 0
    try:
        return max(0, int(status.get(FAILURE_FIELDS[action]) or 0))
    except (TypeError, ValueError):
        return 0


def counters(status: dict[str, Any] | None, digest: str, action: str, failed: bool) -> dict[str, Any]:
    """The status fields after an attempt of ``action`` at ``digest`` (failed or not)."""
    out = {field: (failures(status, act, digest)) for act, field in FAILURE_FIELDS.items()}
    if failed:
        out[FAILURE_FIELDS[action]] += 1
    return {**out, "lastAttemptedConfigDigest": digest, "lastAttemptedReleaseAction": action,
            "failures": out["installFailures"] + out["upgradeFailures"]}


def action_of(previous: dict[str, Any] | None, status: dict[str, Any] | None, digest: str) -> str:
    """The action an attempt counts as: install when nothing is stored, or when the only thing stored is the failed
    install of these same chart and values (Flux keeps counting it against install.remediation); else upgrade."""
    if previous is None:
        return INSTALL
    status = status or {}
    failed_install = ((previous.get("info") or {}).get("status") == "failed"
                      and status.get("lastAttemptedReleaseAction") == INSTALL
                      and status.get("lastAttemptedConfigDigest") == digest)
    return INSTALL if failed_install else UPGRADE
