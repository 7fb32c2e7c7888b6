"""sops's value and scalar rules, checked against sops's own definitions (Go's number formats, yaml.v3 scalars)."""

from __future__ import annotations

import pytest

from gitops_tui.flux import sops_format


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
