"""Constraint styles rendered from one topology: text checks here, crmsh acceptance in the tier runs."""

from __future__ import annotations

import pytest

from harness import crmtext, scenario, styles
from harness.errors import InputError

SEED = scenario.load(scenario.find(["seed-xen"])[0])


def rendered(style: str) -> str:
    assert SEED.topology is not None
    return styles.render(SEED.configuration or "", SEED.topology, style)


def constraints(style: str) -> list[str]:
    return [s.text for s in crmtext.parse(rendered(style)) if crmtext.is_constraint(s) and "vm-webdev" in s.text]


def test_poster_style_colocates_and_orders_with_the_clone() -> None:
    assert constraints("colocation-order") == [
        "colocation col-vm-webdev-with-c-xen-vg-fs inf: vm-webdev c-xen-vg-fs",
        "order ord-c-xen-vg-fs-then-vm-webdev Mandatory: c-xen-vg-fs vm-webdev",
    ]


def test_recommended_style_orders_only() -> None:
    assert constraints("order-only") == ["order ord-c-xen-vg-fs-then-vm-webdev Mandatory: c-xen-vg-fs vm-webdev"]


def test_no_interleave_rewrites_every_clone() -> None:
    clones = [s for s in crmtext.parse(rendered("colocation-order-no-interleave")) if s.kind == "clone"]
    assert len(clones) == 2
    assert all('interleave="false"' in s.text and 'ordered="true"' in s.text for s in clones)


def test_group_style_unclones_the_storage_and_puts_the_vm_last() -> None:
    statements = crmtext.parse(rendered("group"))
    assert crmtext.find(statements, "c-xen-vg-fs") is None
    group = crmtext.find(statements, "xen-vg-fs")
    assert group is not None and crmtext.group_members(group) == ["clvm-xenvg", "fs-xen", "vm-webdev"]
    text = rendered("group")
    assert "colocation colo-clvmglue-xenvgfs inf: xen-vg-fs c-clvm-glue" in text
    assert "order o-clvmglue-xenvgfs inf: c-clvm-glue xen-vg-fs" in text


def test_asymmetric_and_no_influence() -> None:
    assert constraints("order-asymmetric")[0].endswith("symmetrical=false")
    assert 'influence="false"' in constraints("colocation-no-influence")[0]


def test_everything_else_is_kept_as_written() -> None:
    for style in ("colocation-order", "order-only", "colocation-only"):
        assert rendered(style).startswith(SEED.configuration or "")


def test_set_meta_adds_a_meta_clause_when_missing() -> None:
    (statement,) = crmtext.parse("clone c d")
    assert crmtext.set_meta(statement, "interleave", "true").text == 'clone c d \\\n\tmeta interleave="true"'


def test_unknown_style() -> None:
    with pytest.raises(InputError, match="unknown style"):
        rendered("sideways")
