"""Rollouts and approvals are operator intents: a project member's write neither skips a wave nor approves one;
a member's own rollout only holds, so it is honoured, unverified and journaled."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui import journal
from gitops_tui.actions import rollout as actions
from gitops_tui.actions.state import read_source
from gitops_tui.api.effective import HOLD_ROLLOUT
from gitops_tui.reconciler.member_writes import REASON_IGNORED
from tests.clock import FakeClock
from tests.gitserver import commit
from tests.reconciler.test_member_writes import Member
from tests.world import CLUSTERS, World, configmap

#: The role docs/security.md tells operators to give members: the federated types, not their status.
DOCUMENTED_ROLE = """apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: gitops-tui-test-member-documented
rules:
- apiGroups: [types.kubefed.io]
  resources: [federatedgitrepositories, federatedkustomizations, federatedsecrets]
  verbs: [get, list, watch, create, update, patch, delete]
"""


@pytest.fixture
def member(world: World, sandbox: Any) -> Member:
    """The project's member (a ServiceAccount bound to admin in the project's namespace, plain kubectl)."""
    return Member(sandbox, world.namespace)


@pytest.fixture
def documented_member(world: World, sandbox: Any) -> Member:
    """A member with exactly the role docs/security.md documents (no */status; not ``admin``, which another test's
    aggregated role may widen in this shared sandbox)."""
    sandbox.kubectl("management", "apply", "-f", "-", input=DOCUMENTED_ROLE)
    found = Member.__new__(Member)
    found.sandbox, found.namespace = sandbox, world.namespace
    sandbox.kubectl("management", "-n", world.namespace, "create", "serviceaccount", "documented")
    sandbox.kubectl("management", "-n", world.namespace, "create", "rolebinding", "documented-member",
                    "--clusterrole=gitops-tui-test-member-documented", f"--serviceaccount={world.namespace}:documented")
    found.token = sandbox.kubectl("management", "-n", world.namespace, "create", "token", "documented").stdout.strip()
    return found


def _values(world: World) -> list[Any]:
    return [(world.get(c, "configmaps", "cfg") or {}).get("data", {}).get("value") for c in CLUSTERS]


def _start(world: World, name: str, clock: FakeClock) -> Any:
    world.ctx.now = clock
    repo = world.repo(name, {"cm.yaml": configmap("cfg", "v1")})
    world.create(name, f"file://{repo}", interval="1h")
    world.reconcile(name)
    return repo


def test_a_member_neither_skips_a_wave_nor_approves_one(world: World, documented_member: Member) -> None:
    member = documented_member
    clock = FakeClock()
    repo = _start(world, "web", clock)
    actions.set_rollout(world.api, world.project, "web",
                        actions.RolloutRequest("dev/staging/prod", "staged", soak="5m", approve="prod"),
                        actor="alice", now=clock())
    world.reconcile("web")
    skip = '{"spec":{"template":{"spec":{"rollout":{"waves":[{"clusters":["dev","staging","prod"]}]}}}}}'
    member.kubectl("patch", "federatedkustomization", "web", "--type", "merge", "-p", skip)
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.reconcile("web")
    assert _values(world) == ["v2", "v1", "v1"], "the member's one-wave rollout is ignored: waves as the operator set"
    world.reconcile("web")
    ignored = [e for e in world.events("web") if e["reason"] == REASON_IGNORED]
    assert len(ignored) == 1 and "only an operator changes or ends a rollout" in ignored[0]["message"]

    approve = ('{"spec":{"sourceHolds":{"web":{"rollout":{"approvals":[{"wave":"prod","revision":"x","by":"ops",'
               '"reason":"ok","at":"2026-01-01T00:00:00Z"}]}}}}}')
    refused = member.kubectl("patch", "project", world.project, "--type", "merge", "-p", approve, check=False)
    assert refused.returncode != 0 and "forbidden" in refused.stderr.lower(), "approvals live where members cannot write"
    forged = ('{"status":{"rollout":{"released":3}}}')
    refused = member.kubectl("patch", "federatedkustomization", "web", "--subresource", "status", "--type", "merge",
                             "-p", forged, check=False)
    assert refused.returncode != 0 and "forbidden" in refused.stderr.lower(), "nor the reconciler's progress"
    member.kubectl("patch", "federatedkustomization", "web", "--type", "json", "-p",
                   '[{"op":"remove","path":"/spec/template/spec/rollout"}]')
    for _ in range(3):
        world.reconcile("web")
        clock.advance(minutes=5, seconds=1)
        world.reconcile("web")
    assert _values(world) == ["v2", "v2", "v1"], "removing the rollout skips nothing: prod awaits its approval"
    state = read_source(world.api, world.project, "web", clock()).state
    assert state.rollout is not None and state.rollout.state == "awaiting approval" and state.rollout.spec.verified


def test_a_members_own_rollout_holds_unverified_and_is_journaled(world: World, member: Member) -> None:
    clock = FakeClock()
    repo = _start(world, "own", clock)
    mine = ('{"spec":{"template":{"spec":{"rollout":{"waves":[{"clusters":["dev"]},{"clusters":["staging","prod"]}],'
            '"soak":"5m","by":"mallory","reason":"careful","at":"2026-01-01T00:00:00Z"}}}}}')
    member.kubectl("patch", "federatedkustomization", "own", "--type", "merge", "-p", mine)
    commit(repo, {"cm.yaml": configmap("cfg", "v2")})
    world.reconcile("own")
    assert _values(world) == ["v2", "v1", "v1"], "holding is safe: a member's rollout is honoured"
    state = read_source(world.api, world.project, "own", clock()).state
    prod = state.cluster("prod")
    assert prod.hold.kind == HOLD_ROLLOUT and not prod.hold.verified and "(unverified)" in prod.hold.who
    entries = [e for e in journal.list_entries(world.api, project=world.project) if e.source == "own"]
    found = next(e for e in entries if e.action == "rollout")
    assert found.actor == "mallory" and found.identity.get("verified") is False
