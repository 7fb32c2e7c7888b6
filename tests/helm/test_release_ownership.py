"""An object a HelmRelease renders that another source owns: the refusal names OwnershipConflict and the other
owner, not the API server's "field is immutable" (issue 19 item 8)."""

from __future__ import annotations

from gitops_tui.api import names
from tests.gitserver import commit
from tests.helm.test_helm_reconcile import _chart_repo, helm_release
from tests.world import World, deployment


def test_a_release_colliding_with_another_sources_deployment_names_the_owner(world: World) -> None:
    plain = world.repo("plain", {"web.yaml": deployment("storefront-web")})  # selector app: storefront-web too...
    text = (plain / "web.yaml").read_text().replace("{app: storefront-web}", "{app: hand-made}")
    commit(plain, {"web.yaml": text})  # ...but another one: the chart's Deployment cannot change it (immutable)
    world.create("plain", str(plain))
    world.reconcile("plain")
    assert world.get("dev", "deployments", "storefront-web") is not None

    repo = _chart_repo(world)
    commit(repo, {"deploy/shop.yaml": helm_release("shop", releaseName="storefront")})
    world.create("apps", f"file://{repo}", path="./deploy")
    world.reconcile("apps")
    ready = world.condition("apps", names.READY)
    assert ready["status"] == "False" and ready["reason"] == names.REASON_OWNERSHIP_CONFLICT, ready
    assert f"source {world.project}/plain" in ready["message"], ready["message"]
    assert "storefront-web" in ready["message"] and "immutable" not in ready["message"]
    deployed = world.get("dev", "deployments", "storefront-web")
    assert deployed["spec"]["selector"]["matchLabels"] == {"app": "hand-made"}, "nothing of the release was written"
