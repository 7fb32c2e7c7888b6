"""Secret values never reach a picture: screenshots and snapshot SVGs hold no value of the secrets they show."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from gitops_tui.sandbox import seed

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "tui" / "fixtures" / "demo.yaml"


def _fixture_secret_values() -> set[str]:
    values = set()
    for doc in yaml.safe_load_all(FIXTURE.read_text()):
        if doc and doc.get("kind") == "FederatedSecret":
            for encoded in ((doc["spec"].get("template") or {}).get("data") or {}).values():
                values.update({encoded, base64.b64decode(encoded).decode()})
    return values


def _demo_secret_values() -> set[str]:
    text = Path(seed.__file__).read_text()
    return {"demo-not-a-secret", base64.b64encode(b"demo-not-a-secret").decode()} if "demo-not-a-secret" in text else set()


def test_pictures_hold_no_secret_value() -> None:
    values = _fixture_secret_values() | _demo_secret_values()
    assert values, "the fixture and the demo have secrets to look for"
    pictures = [*ROOT.joinpath("screenshots").glob("*.svg"), *ROOT.joinpath("tests", "tui").rglob("*.svg")]
    assert len(pictures) > 20
    leaks = [(p.name, v) for p in pictures for v in values if len(v) >= 6 and v in p.read_text()]
    assert leaks == []
