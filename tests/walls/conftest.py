"""Set-ups shared by the walls' tests (hostile tenant input)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.world import World


@pytest.fixture
def beta(world: World, sandbox: Any) -> Iterator[World]:
    """A second project, beta, on the same clusters (its sources reconciled through the first world's connections)."""
    other = World(sandbox, world.tmp / "beta", world.ctx.clusters)
    try:
        yield other
    finally:
        other.close()
