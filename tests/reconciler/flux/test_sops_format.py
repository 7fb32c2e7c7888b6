"""sops's value and scalar rules, checked against sops's own definitions (Go's number formats, yaml.v3 scalars)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_tui.reconciler.errors import ValidationFailed
from gitops_tui.reconciler.flux import decryption, sops_format


@pytest.mark.parametrize(("value", "text"), [(1.5, "1.5"), (5432.0, "5432"), (1e21, "1000000000000000000000"),
                                             (0.1, "0.1"), (-0.0, "-0"), (float("inf"), "+Inf")])
def test_floats_enter_the_mac_as_go_formats_them(value: float, text: str) -> None:
    assert sops_format.go_float(value) == text


def test_yaml_scalars_are_read_as_yaml_v3_reads_them() -> None:
    document = sops_format.load("a: yes\nb: on\nc: 0777\nd: 0x1F\ne: 1_000\nf: 2024-01-02\ng: .5\nh: ~\ni: True\n"
                                "j: '12'\nsops:\n  mac: x\n", "f.yaml", json_format=False)
    assert document.branches == [{"a": "yes", "b": "on", "c": 511, "d": 31, "e": 1000, "f": "2024-01-02", "g": 0.5,
                                  "h": None, "i": True, "j": "12"}]


def test_an_alias_bomb_is_counted() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(7)) + "sops: {mac: x}\n"
    with pytest.raises(sops_format.SopsError, match="expands to more than"):
        sops_format.load(bomb, "bomb.yaml", json_format=False)


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "sops"


def test_fluxs_own_age_fixture_decrypts_with_its_key_and_mac() -> None:
    keys = decryption.keys_from("sops-age", {"age.agekey": (FIXTURES / "flux-age.agekey").read_bytes()})
    document = sops_format.load((FIXTURES / "flux-age.yaml").read_text(), "flux-age.yaml", json_format=False)
    assert sops_format.decrypt(document, list(keys.identities), "flux-age.yaml") == [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "age"}, "stringData": {"key": "value"}}]
    altered = (FIXTURES / "flux-age.yaml").read_text().replace("name: age", "name: agf")
    with pytest.raises(sops_format.SopsError, match="MAC mismatch"):
        sops_format.decrypt(sops_format.load(altered, "f", json_format=False), list(keys.identities), "f")


def test_a_pgp_only_file_from_sops_is_refused_by_name() -> None:
    keys = decryption.keys_from("sops-age", {"age.agekey": (FIXTURES / "flux-age.agekey").read_bytes()})
    document = sops_format.load((FIXTURES / "sops-pgp-only.enc.yaml").read_text(), "x.yaml", json_format=False)
    with pytest.raises(sops_format.SopsError) as refused:
        sops_format.decrypt(document, list(keys.identities), "x.yaml")
    assert refused.value.message == "x.yaml is encrypted for pgp keys only; only age keys are read"


def test_a_secret_without_age_keys_is_refused_without_quoting_it() -> None:
    with pytest.raises(ValidationFailed) as refused:
        decryption.keys_from("sops-keys", {"key.asc": b"-----BEGIN PGP PRIVATE KEY BLOCK-----"})
    assert "holds no *.agekey entry" in refused.value.message
    with pytest.raises(ValidationFailed) as refused:
        decryption.keys_from("sops-keys", {"bad.agekey": b"AGE-SECRET-KEY-1NOTAKEY"})
    assert "NOTAKEY" not in refused.value.message and "'bad.agekey'" in refused.value.message
