"""crmsh errors are mapped back to the scenario file's line (real crmsh against a file CIB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import cib, crmsh
from harness.errors import InputError


def test_statement_lines_join_continuations_and_skip_blanks() -> None:
    text = "primitive a ocf:pacemaker:Dummy\n\nprimitive b ocf:pacemaker:Dummy \\\n  op monitor interval=10\n# c\norder o inf: a b\n"
    assert crmsh.statement_lines(text) == [1, 3, 6]


def test_syntax_error_names_scenario_file_and_line(tmp_path: Path) -> None:
    target = tmp_path / "cib.xml"
    cib.empty_cib(target, ["node1", "node2"])
    text = "primitive a ocf:pacemaker:Dummy\n\nprimitive b ocf:pacemaker:Dummy \\\n  op monitor interval=10\ncolocation c inf a b\n"
    with pytest.raises(InputError) as info:
        crmsh.apply(target, text, crmsh.Source("my.yaml", first_line=10, original=text))
    message = str(info.value)
    assert message.startswith("my.yaml:14: crmsh rejects the configuration")
    assert "colocation c inf a b" in message


def test_unknown_agents_are_reported_not_fatal(tmp_path: Path) -> None:
    target = tmp_path / "cib.xml"
    cib.empty_cib(target, ["node1", "node2"])
    loaded = crmsh.apply(
        target, "primitive clvm ocf:lvm2:clvmd\nprimitive d ocf:pacemaker:Dummy\n", crmsh.Source("x.yaml")
    )
    assert loaded.unknown_agents == ["ocf:lvm2:clvmd"]
    assert {p.id for p in cib.primitives(cib.read(target))} == {"clvm", "d"}


def test_reference_to_missing_resource(tmp_path: Path) -> None:
    target = tmp_path / "cib.xml"
    cib.empty_cib(target, ["node1", "node2"])
    with pytest.raises(InputError) as info:
        crmsh.apply(target, "primitive a ocf:pacemaker:Dummy\norder o inf: a ghost\n", crmsh.Source("x.yaml"))
    assert "x.yaml" in str(info.value) and "ghost" in str(info.value)


def test_a_misspelt_constraint_operand_names_its_line_and_the_closest_id(tmp_path: Path) -> None:
    target = tmp_path / "cib.xml"
    cib.empty_cib(target, ["node1", "node2"])
    text = (
        "primitive drbd ocf:pacemaker:Stateful\n"
        "ms ms_drbd_VirtDom1 drbd meta master-max=2\n"
        "primitive vm ocf:pacemaker:Dummy\n"
        "colocation c inf: \\\n  vm ms_drbd_VirtDomI:Master\n"
    )
    with pytest.raises(InputError) as info:
        crmsh.apply(target, text, crmsh.Source("my.yaml", first_line=10, original=text))
    assert info.value.line == 14
    assert "constraint c references a resource ms_drbd_VirtDomI which doesn't exist" in str(info.value)
    assert info.value.hint and info.value.hint.startswith("did you mean ms_drbd_VirtDom1?")
    assert "paramz" not in info.value.hint


TYPO = "primitive a ocf:pacemaker:Dummy\nprimitive vm1 ocf:pacemaker:Dummy \\\n  paramz fake=1 \\\n  meta allow-migrate=true\n"


def test_a_typo_is_refused_with_its_line_not_applied_as_parameters(tmp_path: Path) -> None:
    target = tmp_path / "cib.xml"
    cib.empty_cib(target, ["node1", "node2"])
    before = target.read_text()
    with pytest.raises(InputError) as info:
        crmsh.apply(target, TYPO, crmsh.Source("my.yaml", first_line=5, original=TYPO))
    message = str(info.value)
    assert message.startswith("my.yaml:7: crmsh rejects the configuration"), message
    assert 'vm1: parameter "paramz" is not known' in message and "paramz for params" in message
    assert target.read_text() == before  # nothing applied


def test_a_typo_beside_an_unknown_agent_is_still_refused(tmp_path: Path) -> None:
    target = tmp_path / "cib.xml"
    cib.empty_cib(target, ["node1", "node2"])
    text = "primitive clvm ocf:lvm2:clvmd\n" + TYPO
    with pytest.raises(InputError, match='parameter "paramz" is not known') as info:
        crmsh.apply(target, text, crmsh.Source("my.yaml", original=text))
    assert info.value.line == 4
    assert "clvmd" not in str(info.value)  # the missing agent is not what to fix


def test_unknown_agent_alone_is_applied_forced_and_named(tmp_path: Path) -> None:
    target = tmp_path / "cib.xml"
    cib.empty_cib(target, ["node1", "node2"])
    text = "primitive clvm ocf:lvm2:clvmd params daemon_timeout=30\nprimitive vm1 ocf:pacemaker:Dummy meta allow-migrate=true\n"
    assert crmsh.apply(target, text, crmsh.Source("x.yaml")).unknown_agents == ["ocf:lvm2:clvmd"]
    assert {p.id: p.agent for p in cib.primitives(cib.read(target))} == {
        "clvm": "ocf:lvm2:clvmd",
        "vm1": "ocf:pacemaker:Dummy",
    }


def test_an_unknown_cluster_property_is_a_warning_at_its_line_and_applied(tmp_path: Path) -> None:
    target = tmp_path / "cib.xml"
    cib.empty_cib(target, ["node1", "node2"])
    text = "primitive a ocf:pacemaker:Dummy\nproperty stonith-enabled=false \\\n  no-quorum-polcy=ignore\n"
    loaded = crmsh.apply(target, text, crmsh.Source("my.yaml", first_line=10, original=text))
    assert loaded.warnings == [
        "line 12: crmsh: cib-bootstrap-options: unknown attribute 'no-quorum-polcy' (Pacemaker ignores it: "
        "check the spelling; `crm ra info pacemaker-schedulerd` lists the cluster options)"
    ]
    assert cib.read(target).find(".//nvpair[@name='no-quorum-polcy']") is not None  # legal in the CIB


def test_a_quoted_value_glued_to_the_next_word_is_named_at_its_line(tmp_path: Path) -> None:
    target = tmp_path / "cib.xml"
    cib.empty_cib(target, ["node1", "node2"])
    text = 'primitive vm ocf:heartbeat:VirtualDomain params \\\n  config="/etc/vm1.cfg"op \\\n  start interval=0 timeout=60\n'
    with pytest.raises(InputError) as info:
        crmsh.apply(target, text, crmsh.Source("my.yaml", first_line=5, original=text))
    assert info.value.line == 6
    assert (
        info.value.hint
        == 'a quoted value runs into the next word ("/etc/vm1.cfg"op): put a blank after the closing quote'
    )


def test_first_loads_at_once_in_a_fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """crmsh makes ~/.config/crm and ~/.cache/crm at every start without exist_ok: two first starts
    at once (xdist workers in a new CI container) raced, and one load failed with crmsh's
    FileExistsError traceback as its 'rejection'. The harness makes them first."""
    from concurrent.futures import ThreadPoolExecutor

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    crmsh.user_dirs()  # what every crm start is preceded by
    for made in (home / ".config" / "crm", home / ".cache" / "crm"):
        assert made.is_dir() and made.stat().st_mode & 0o777 == 0o700

    def load(n: int) -> list[str]:
        target = tmp_path / f"cib-{n}.xml"
        cib.empty_cib(target, ["node1", "node2"])
        return crmsh.apply(target, f"primitive d{n} ocf:pacemaker:Dummy\n", crmsh.Source("x.yaml")).unknown_agents

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(load, range(4))) == [[], [], [], []]


def test_crmsh_crashing_is_no_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A home where crmsh cannot make its directory (a file stands there): crmsh dies with a
    Python traceback. That is said as crmsh's failure, not as the configuration's error."""
    from harness.errors import HarnessError

    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    (home / ".config" / "crm").write_text("")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    target = tmp_path / "cib.xml"
    cib.empty_cib(target, ["node1", "node2"])
    with pytest.raises(HarnessError) as info:
        crmsh.apply(target, "primitive d ocf:pacemaker:Dummy\n", crmsh.Source("x.yaml"))
    assert not isinstance(info.value, InputError)
    assert "crmsh crashed while loading the configuration of x.yaml" in str(info.value)
    assert "paramz" not in str(info.value) and "not an error of the configuration" in str(info.value.hint)
