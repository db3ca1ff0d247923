"""Bad input never reaches a traceback: a corpus of broken scenario files through the real CLI.

Every file must give exit 2 (bad input, README), a message naming the file, no "Traceback", and no
run or replay directory left in $TMPDIR. The corpus: the classes the issue lists, values of every
wrong type for every top-level key and every 'expect' rule key (generated from one valid scenario
that uses every key), truncated copies of the shipped scenarios, garbage bytes, empty files, YAML
that is not a mapping, duplicate keys, values YAML cannot construct, deep nesting and alias bombs.

Each file runs as `run FILE` and `show FILE`. Hundreds of CLI runs stay fast because
tests/cli_driver.py forks `python -m harness.cli` from one warm interpreter; the issue's own list
also runs as plain `python -m harness.cli` subprocesses.
"""

from __future__ import annotations

import bz2
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import scenario, scenariobuild

HERE = Path(__file__).parent
REPO = HERE.parent

BASE = """\
name: corpus
title: every key a scenario can have
source: {list: users@clusterlabs.org, date: 2024-03-01}
nodes: 2
resources: [vm1]
configuration: |
  primitive vm1 ocf:pacemaker:Dummy meta allow-migrate=true
  primitive lv ocf:pacemaker:Dummy
  clone lv-clone lv meta interleave=true
topology: {vm: vm1, storage: lv-clone}
styles: [order-only]
triggers: [move]
options: {no-quorum-policy: ignore}
notes: a note
guest: {type: pv, memory: 128, period: 0.1, dirty: 0}
nested: {styles: [order-only], triggers: [move]}
expect:
  - {style: order-only, trigger: move, resource: vm1, tier: simulate, pacemaker: ">=2.0", xen: ">=4", guest: pv, why: because, verdict: migrate}
  - verdict: migrate
measured:
  simulate pacemaker-2.1.5:
    order-only: {move: migrate}
"""

WRONG: dict[str, Any] = {
    "int": 7,
    "float": 2.5,
    "str": "not valid here",
    "list": ["not valid here"],
    "mapping": {"not": "valid"},
    "null": None,
    "bool": True,
    "nested-list": [["nested"]],
}
# Every key a scenario takes, from the checker itself: a key added there is fed wrong types here too.
TOP_KEYS = sorted(scenariobuild._TOP_KEYS)
RULE_KEYS = sorted(scenariobuild._RULE_KEYS)
# The values of these types are right for the key (null: the key's default), so not in the corpus.
ACCEPTED = {
    "title": {"str"},
    "source": {"mapping", "null"},
    "configuration": {"str"},
    "cib": {"null"},
    "styles": {"null"},
    "options": {"mapping", "null"},
    "measured": {"null"},
    "notes": {"str", "list", "null"},
    "guest": {"null"},
    "nested": {"null"},
    "attributes": {"null"},
    "status-attributes": {"null"},
    "nodes": {"int"},
    "rule.pacemaker": {"null"},
    "rule.xen": {"null"},
    "rule.why": {"str", "null"},
}


@dataclass(frozen=True)
class Bad:
    cls: str  # the class of input, for reports ("top-level key nodes: float")
    name: str
    content: bytes


def _dump(data: dict[str, Any]) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=200).encode()


def wrong_types() -> list[Bad]:
    base = yaml.safe_load(BASE)
    found = []
    for key in TOP_KEYS:
        for kind, value in WRONG.items():
            if kind not in ACCEPTED.get(key, set()):
                found.append(Bad(f"top-level {key}: {kind}", f"top-{key}-{kind}.yaml", _dump({**base, key: value})))
    for key in RULE_KEYS:
        for kind, value in WRONG.items():
            if kind not in ACCEPTED.get(f"rule.{key}", set()):
                rules = [{**base["expect"][0], key: value}, *base["expect"][1:]]
                found.append(
                    Bad(f"expect rule {key}: {kind}", f"rule-{key}-{kind}.yaml", _dump({**base, "expect": rules}))
                )
    return found


def truncated() -> list[Bad]:
    """Each shipped scenario cut at several offsets before its 'expect:' key (after it, a cut can
    leave a valid scenario with fewer rules)."""
    found = []
    for path in scenario.shipped():
        data = path.read_bytes()
        end = data.index(b"\nexpect:")
        for fraction in (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0):
            offset = max(1, int(end * fraction))
            found.append(
                Bad(
                    f"truncated shipped file at {fraction:.0%} of its head",
                    f"cut-{path.stem}-{offset}.yaml",
                    data[:offset],
                )
            )
    return found


def garbage() -> list[Bad]:
    rng = random.Random(20240301)
    found = [Bad("garbage bytes", f"garbage-{i}.yaml", bytes(rng.randrange(256) for _ in range(300))) for i in range(4)]
    found += [
        Bad("non-UTF-8 bytes", f"latin1-{i}.yaml", bytes(rng.randrange(128, 256) for _ in range(64))) for i in range(2)
    ]
    compressed = bz2.compress(BASE.encode())
    found += [
        Bad("binary file (bzip2)", "scenario.yaml.bz2.yaml", compressed),
        Bad("binary file (executable)", "python.yaml", Path(sys.executable).resolve().read_bytes()[:4096]),
        Bad("empty file", "empty.yaml", b""),
        Bad("whitespace only", "blank.yaml", b"  \n\n\t\n"),
        Bad("comments only", "comments.yaml", b"# nothing here\n"),
        Bad("control character", "bell.yaml", BASE.replace("a note", "a \x07 note").encode()),
        Bad("byte order mark and a list", "bom.yaml", "\ufeff- a\n- b\n".encode()),
    ]
    return found


def not_mappings() -> list[Bad]:
    docs = {
        "list": "- a\n- b\n",
        "text": "just some text\n",
        "number": "42\n",
        "null": "null\n",
        "flow-list": "[1, 2]\n",
        "two-documents": "name: a\n---\nname: b\n",
        "empty-document": "---\n...\n",
    }
    return [Bad(f"YAML that is not one mapping: {k}", f"doc-{k}.yaml", v.encode()) for k, v in docs.items()]


def alias_bomb() -> str:
    """Nine levels of five aliases each (about two million strings if expanded), used as 'styles'."""
    lines = ["l0: &l0 [x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}, *l{i - 1}]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


_NESTED = "nested: {styles: [order-only], triggers: [move]}"


def odd_yaml() -> list[Bad]:
    edits = {
        "duplicate top-level key": ("nodes: 2\n", "nodes: 2\nnodes: 3\n"),
        "duplicate key in a rule": ("verdict: migrate}", "verdict: migrate, verdict: move}"),
        "duplicate key in topology": ("storage: lv-clone}", "storage: lv-clone, vm: lv}"),
        "value YAML cannot construct (!!int)": ("nodes: 2\n", "nodes: !!int two\n"),
        "value YAML cannot construct (a date)": ("date: 2024-03-01", "date: 2024-13-45"),
        "value YAML cannot construct (!!timestamp)": ("date: 2024-03-01", "date: !!timestamp yesterday"),
        "python tag": ("notes: a note", "notes: !!python/object/apply:os.system [true]"),
        "unhashable key": ("notes: a note", "? [a, b]\n: c"),
        "tab indentation": ("  primitive lv", "\tprimitive lv"),
        "unclosed flow mapping": ("topology: {vm: vm1, storage: lv-clone}", "topology: {vm: vm1, storage: lv-clone"),
        "deep nesting": ("notes: a note", "notes: " + "[" * 5000 + "]" * 5000),
        "alias bomb in styles": ("styles: [order-only]\n", alias_bomb() + "styles: *l8\n"),
        "unknown keys beside the bomb": ("notes: a note\n", alias_bomb()),
        "non-string key at the top": ("notes: a note", "notes: a note\n1: one"),
        "name with a path": ("name: corpus", "name: ../../etc"),
        "resource id with a space": ("resources: [vm1]", "resources: [vm 1]"),
        "trigger resource as a list": ("triggers: [move]", "triggers: [{move: {resource: [vm1]}}]"),
        "trigger node as a number": ("triggers: [move]", "triggers: [{crash: {node: 2}}]"),
        "trigger rc (unsupported)": ("triggers: [move]", "triggers: [{dependency-failure: {rc: seven}}]"),
        "guest memory as text": ("memory: 128", "memory: lots"),
        "guest period negative": ("period: 0.1", "period: -1"),
        "pacemaker range as a number": ('pacemaker: ">=2.0"', "pacemaker: 2.1"),
        "topology naming a primitive as storage": ("storage: lv-clone}", "storage: lv}"),
        "topology naming no vm": ("{vm: vm1,", "{vm: vm9,"),
        "clone without child": ("  clone lv-clone lv meta interleave=true", "  clone lv-clone"),
        "cloned group without members": ("  clone lv-clone lv meta", "  group g\n  clone lv-clone g meta"),
        "empty styles list": ("styles: [order-only]", "styles: []"),
        "empty expect list": (BASE[BASE.index("expect:") :], "expect: []\n"),
        "raw XML configuration with a topology": ("configuration: |\n", "configuration: |\n  <configuration/>\n"),
        "nested dom0s naming an unknown node": (_NESTED, _NESTED[:-1] + ", dom0s: {node9: trixie}}"),
        "nested dom0s with an unknown release": (_NESTED, _NESTED[:-1] + ", dom0s: {node1: sid}}"),
        "nested dom0s release as a number": (_NESTED, _NESTED[:-1] + ", dom0s: {node2: 13}}"),
        "nested dom0s as a list": (_NESTED, _NESTED[:-1] + ", dom0s: [node1, trixie]}"),
        "nested dom0s empty": (_NESTED, _NESTED[:-1] + ", dom0s: {}}"),
        "nested dom0s node as a number": (_NESTED, _NESTED[:-1] + ", dom0s: {1: trixie}}"),
    }
    found = []
    for cls, (old, new) in edits.items():
        assert old in BASE, cls
        name = "odd-" + "".join(c if c.isalnum() else "-" for c in cls) + ".yaml"
        found.append(Bad(cls, name, BASE.replace(old, new, 1).encode()))
    return found


LISTED = {  # the issue's list, each through a plain `python -m harness.cli` subprocess
    "nodes: 2.0": ("nodes: 2\n", "nodes: 2.0\n"),
    "resources: 5": ("resources: [vm1]", "resources: 5"),
    "resources as a mapping": ("resources: [vm1]", "resources: {vm1: yes}"),
    "nested list in styles": ("styles: [order-only]", "styles: [[order-only]]"),
    "rc: seven in a trigger": ("triggers: [move]", "triggers: [{dependency-failure: {rc: seven}}]"),
    "options as a list": ("options: {no-quorum-policy: ignore}", "options: [no-quorum-policy]"),
}


def corpus() -> list[Bad]:
    return wrong_types() + truncated() + garbage() + not_mappings() + odd_yaml()


def drive(argvs: list[list[str]], tmpdir: Path) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "TMPDIR": str(tmpdir),
        "MIGRATION_HARNESS_CACHE": str(tmpdir / "cache"),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, str(HERE / "cli_driver.py")],
        input=json.dumps(argvs),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def leftovers(tmpdir: Path) -> list[str]:
    return sorted(p.name for p in tmpdir.iterdir() if p.name.startswith(("mh-run-", "mh-replay-")))


def problems(result: dict[str, Any], named: str) -> list[str]:
    found = []
    if result["rc"] != 2:
        found.append(f"exit {result['rc']}")
    if "Traceback" in result["stderr"]:
        found.append("traceback: " + result["stderr"].strip().splitlines()[-1])
    elif named not in result["stderr"]:
        found.append("message does not name the file: " + result["stderr"].strip()[:200])
    return found


@pytest.fixture
def tmpdir_env(tmp_path: Path) -> Path:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    return scratch


def test_the_base_of_the_corpus_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "base.yaml"
    path.write_text(BASE)
    loaded = scenario.load(path)
    assert (loaded.name, [c.full_id for c in loaded.cases()]) == ("corpus", ["corpus[order-only-move]"])


def test_corpus_exits_2_with_the_file_named_and_no_traceback(tmp_path: Path, tmpdir_env: Path) -> None:
    bad = corpus()
    files = tmp_path / "corpus"
    files.mkdir()
    argvs, expected = [], []
    for item in bad:
        path = files / item.name
        path.write_bytes(item.content)
        for command in ("run", "show"):
            argvs.append([command, str(path)])
            expected.append((item, command, str(path)))
    results = drive(argvs, tmpdir_env)
    failures = [
        f"{cmd} {item.name} ({item.cls}): {'; '.join(p)}"
        for (item, cmd, named), result in zip(expected, results, strict=True)
        if (p := problems(result, named))
    ]
    assert not failures, f"{len(failures)} of {len(results)} runs:\n" + "\n".join(failures)
    assert len(bad) >= 200
    assert leftovers(tmpdir_env) == []


@pytest.mark.parametrize("case", sorted(LISTED))
def test_the_issues_list_through_python_m(case: str, tmp_path: Path, tmpdir_env: Path) -> None:
    old, new = LISTED[case]
    path = tmp_path / "bad.yaml"
    path.write_text(BASE.replace(old, new, 1))
    proc = _python_m(["run", str(path)], tmpdir_env)
    assert not problems({"rc": proc.returncode, "stderr": proc.stderr}, str(path)), proc.stderr
    assert leftovers(tmpdir_env) == []


def test_a_binary_file_and_bad_options_through_python_m(tmp_path: Path, tmpdir_env: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(bz2.compress(BASE.encode()))
    proc = _python_m(["run", str(binary)], tmpdir_env)
    assert not problems({"rc": proc.returncode, "stderr": proc.stderr}, str(binary)), proc.stderr
    good = tmp_path / "good.yaml"
    good.write_text(BASE)
    proc = _python_m(["run", str(good), "--jobs", "-1"], tmpdir_env)
    assert (proc.returncode, "Traceback" in proc.stderr) == (2, False) and "--jobs: -1: give at least 1" in proc.stderr
    proc = _python_m(["run", str(good), "--keep", str(binary)], tmpdir_env)
    assert not problems({"rc": proc.returncode, "stderr": proc.stderr}, str(binary)), proc.stderr
    assert "--keep: exists and is not a directory" in proc.stderr
    assert leftovers(tmpdir_env) == []


def _python_m(argv: list[str], tmpdir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TMPDIR": str(tmpdir),
        "MIGRATION_HARNESS_CACHE": str(tmpdir / "cache"),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *argv], env=env, capture_output=True, text=True, timeout=120
    )


def test_other_commands_refuse_bad_input_by_name(tmp_path: Path, tmpdir_env: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(BASE)
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    notrun = tmp_path / "not-a-run"
    notrun.mkdir()
    (notrun / "state.json").write_text("[]")
    jsons = {
        "list.json": "[1, 2]",
        "cases-int.json": '{"cases": 5}',
        "case-str.json": '{"cases": ["x"]}',
        "verdicts-str.json": '{"cases": [{"scenario": "corpus", "tier": "simulate", "pacemaker": "2.1.5", '
        '"style": "order-only", "trigger": "move", "verdicts": "migrate"}]}',
    }
    checks: list[tuple[list[str], str]] = []
    for name, text in jsons.items():
        (tmp_path / name).write_text(text)
        checks.append((["record", str(tmp_path / name), str(good)], str(tmp_path / name)))
    checks += [
        (["run", str(empty)], str(empty)),
        (["show", str(empty)], str(empty)),
        (["show", str(scenario.shipped_dir())], str(scenario.shipped_dir())),
        (["show", str(good), "--style", "group"], str(good)),
        (["replay", "--keep", str(good), str(good)], str(good)),
        (["replay", str(good)], str(good)),
        (["status", "--run", str(notrun)], str(notrun)),
    ]
    results = drive([argv for argv, _ in checks], tmpdir_env)
    failures = [
        f"{' '.join(argv)}: {'; '.join(p)}"
        for (argv, named), r in zip(checks, results, strict=True)
        if (p := problems(r, named))
    ]
    assert not failures, "\n".join(failures)
    assert leftovers(tmpdir_env) == []


def test_run_of_several_files_reports_the_bad_one_and_runs_the_others(tmp_path: Path, tmpdir_env: Path) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(BASE)
    bad.write_text(BASE.replace("nodes: 2\n", "nodes: 2.0\n"))
    proc = _python_m(["run", str(good), str(bad)], tmpdir_env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{bad}:4: nodes must be 2 to 16 or a list of host names, not 2.0" in proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert ["corpus", "order-only", "move", "migrate", "node1", "->", "node2", "migrate", "PASS"] in rows
    assert any(row[:1] == ["bad.yaml"] and row[-1] == "ERROR" for row in rows), proc.stdout
    assert "1 passed, 0 failed, 0 skipped, 1 file(s) with errors" in proc.stdout
    assert leftovers(tmpdir_env) == []


def test_replay_of_a_directory_with_one_truncated_input(tmp_path: Path, tmpdir_env: Path) -> None:
    pengine = tmp_path / "pengine"
    pengine.mkdir()
    data = (HERE / "data" / "replay" / "standby.xml.bz2").read_bytes()
    for number in range(1, 8):
        (pengine / f"pe-input-{number}.bz2").write_bytes(data[:200] if number == 4 else data)
    proc = _python_m(["replay", str(pengine)], tmpdir_env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "7 scheduler inputs replayed, 1 of them could not be" in proc.stdout
    assert [line.split()[0] for line in proc.stdout.splitlines() if "migrate node1 -> node2" in line] == [
        f"pe-input-{n}.bz2:" for n in (1, 2, 3, 5, 6, 7)
    ]
    assert any(line.startswith("pe-input-4.bz2") and "ERROR" in line for line in proc.stdout.splitlines())
    assert f"{pengine}/pe-input-4.bz2: corrupt compressed file" in proc.stderr
    assert leftovers(tmpdir_env) == []


def test_a_schema_invalid_cib_keeps_its_root_cause_and_names_the_users_file(tmp_path: Path, tmpdir_env: Path) -> None:
    text = bz2.decompress((HERE / "data" / "replay" / "standby.xml.bz2").read_bytes()).decode()
    broken = tmp_path / "broken.xml"
    broken.write_text(text.replace('<primitive id="vm-webdev"', '<primitive idx="vm-webdev"', 1))
    proc = _python_m(["replay", str(broken)], tmpdir_env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = text[: text.index('<primitive id="vm-webdev"')].count("\n") + 1
    assert f"{broken}:{line}: element primitive: Relax-NG validity error" in proc.stderr, proc.stderr
    assert str(tmpdir_env) not in proc.stderr  # no path into the deleted temporary copy
