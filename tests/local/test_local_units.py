"""Unit tests of the local tier's pure parts: names, configuration text, journal, verdicts, stand-in."""

from __future__ import annotations

import os
import subprocess
from importlib import resources
from pathlib import Path

import pytest

from harness import cib as cibmod
from harness import promotion
from harness.errors import InputError
from harness.scenariotypes import NodeAttribute
from harness.tiers import live
from harness.tiers.local import observe, standin
from harness.tiers.local.netns import Plan
from harness.tiers.local.node import corosync_conf

STANDIN = Path(str(resources.files("harness") / "agents" / "standin"))


def test_plan_names_and_addresses_derive_from_the_run_id() -> None:
    a, b = Plan("0a0b0c", 3), Plan("ff0001", 3)
    assert a.node_names == ["node1", "node2", "node3"]
    assert a.address("node2") == "10.10.11.2"
    assert b.address("node3") == "10.255.0.3"
    assert a.cluster_name != b.cluster_name
    assert all(len(a.hub_link(n)) <= 15 for n in a.node_names)


def test_corosync_conf_two_node_only_for_two_nodes() -> None:
    two, three = corosync_conf(Plan("0a0b0c", 2)), corosync_conf(Plan("0a0b0c", 3))
    assert "two_node: 1" in two and "two_node" not in three
    assert "ring0_addr: 10.10.11.3" in three and "cluster_name: mh-0a0b0c" in three
    assert "crypto_cipher: aes256" in two


JOURNAL = (
    "node1\tvm\tmonitor\t1.0\t1.1\t0\theartbeat:Xen\n"
    "node1\tvm\tmigrate_to\t10.0\t10.1\t0\theartbeat:Xen\n"
    "node2\tvm\tmigrate_from\t10.2\t10.3\t0\theartbeat:Xen\n"
    "node1\tvm\tstop\t10.4\t10.5\t0\theartbeat:Xen\n"
    "node1\tvm\tstop\tbroken line\n"
)


def test_journal_window_and_migrate_verdict() -> None:
    entries = observe.parse_journal(JOURNAL)
    assert len(entries) == 4
    window = observe.window(entries, 5.0)
    assert [e.action for e in window] == ["migrate_to", "migrate_from", "stop"]
    verdict = live.observed_outcome(window, {"vm": ["node1"]})["vm"]
    assert (verdict.verdict, verdict.from_node, verdict.to_node) == ("migrate", "node1", "node2")


def test_failed_migrate_to_then_stop_start_is_a_recover() -> None:
    """Pacemaker's word for it, on every tier: the transition after the failure says Recover."""
    entries = observe.parse_journal(
        "node1\tvm\tmigrate_to\t10.0\t10.1\t1\theartbeat:Xen\n"
        "node1\tvm\tstop\t10.4\t10.5\t0\theartbeat:Xen\n"
        "node2\tvm\tstart\t10.6\t10.7\t0\theartbeat:Xen\n"
    )
    verdict = live.observed_outcome(entries, {"vm": ["node1"]})["vm"]
    assert (verdict.verdict, verdict.from_node, verdict.to_node) == ("recover", "node1", "node2")
    assert verdict.reason == "migrate_to failed on node1 (rc 1)"
    assert [e.action for e in live.failed(entries)] == ["migrate_to"]


def test_crash_is_a_start_elsewhere() -> None:
    entries = observe.parse_journal("node2\tvm\tstart\t10.6\t10.7\t0\theartbeat:Xen\n")
    verdict = live.observed_outcome(entries, {"vm": ["node1"]})["vm"]
    assert (verdict.verdict, verdict.from_node, verdict.to_node) == ("start", "node1", "node2")


def test_double_active_ignores_clone_instances() -> None:
    running = {"vm": ["node1", "node2"], "dlm": ["node1", "node2"], "solo": ["node1"]}
    assert observe.double_active(running, {"dlm"}) == {"vm": ["node1", "node2"]}


def test_migration_support_follows_the_original() -> None:
    assert standin.describe("ocf:lvm2:clvmd")[0].migrate is False  # absent here: the table
    assert standin.describe("ocf:ocfs2:o2cb")[0].migrate is False
    if Path("/usr/lib/ocf/resource.d/heartbeat/Xen").exists():
        agent, metadata = standin.describe("ocf:heartbeat:Xen")
        assert agent.migrate and agent.installed and metadata and "migrate_to" in metadata
    if Path("/usr/lib/ocf/resource.d/heartbeat/Filesystem").exists():
        assert standin.describe("ocf:heartbeat:Filesystem")[0].migrate is False


def test_control_rule_refuses_spaces() -> None:
    assert standin.Rule("fail", "vm", "migrate_to", "*", "1").line() == "fail vm migrate_to * 1\n"
    with pytest.raises(InputError):
        standin.Rule("fail", "vm x", "migrate_to", "*", "1").line()


def _agent(tmp_path: Path, action: str, agent: str = "heartbeat:Xen", **extra: str) -> subprocess.CompletedProcess[str]:
    provider, type_ = agent.split(":")
    env = dict(
        os.environ,
        HARNESS_STANDIN_SHARED=str(tmp_path / "shared"),
        HARNESS_STANDIN_STATE=str(tmp_path / "state"),
        OCF_RESOURCE_INSTANCE="vm",
        OCF_RESOURCE_PROVIDER=provider,
        OCF_RESOURCE_TYPE=type_,
    )
    env.update(extra)
    return subprocess.run(["sh", str(STANDIN), action], env=env, capture_output=True, text=True)


def test_standin_agent_runs_migrates_and_journals(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "agents").write_text("heartbeat:Xen migrate\nlvm2:clvmd nomigrate\n")
    assert _agent(tmp_path, "monitor").returncode == 7
    assert _agent(tmp_path, "start").returncode == 0
    assert _agent(tmp_path, "monitor").returncode == 0
    assert _agent(tmp_path, "migrate_to").returncode == 0
    assert _agent(tmp_path, "migrate_to", "lvm2:clvmd").returncode == 3  # unimplemented, as the original
    assert "migrate_to" in _agent(tmp_path, "meta-data").stdout
    assert "migrate_to" not in _agent(tmp_path, "meta-data", "lvm2:clvmd").stdout
    lines = (shared / "journal").read_text().splitlines()
    assert [line.split("\t")[2] for line in lines] == ["monitor", "start", "monitor", "migrate_to", "migrate_to"]
    assert lines[-1].split("\t")[5] == "3"


def test_standin_control_fails_an_action(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "agents").write_text("heartbeat:Xen migrate\n")
    standin.set_control(shared, [standin.Rule("fail", "vm", "migrate_to", "*", "1")])
    assert _agent(tmp_path, "start").returncode == 0
    assert _agent(tmp_path, "migrate_to").returncode == 1
    standin.set_control(shared, [])
    assert _agent(tmp_path, "migrate_to").returncode == 0


def test_standin_promotes_and_sets_its_promotion_score_with_crm_attribute(tmp_path: Path) -> None:
    # The real crm_attribute, on a file CIB instead of attrd; the node is the one the executor names.
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "agents").write_text("linbit:drbd nomigrate\n")
    cib = tmp_path / "cib.xml"
    cibmod.empty_cib(cib, ["node1", "node2"])
    cibmod.set_attributes(cib, [NodeAttribute("node1", "pingd", "1", transient=True)])  # node_state entries
    clone = {"OCF_RESKEY_CRM_meta_promotable": "true", "OCF_RESKEY_CRM_meta_on_node": "node1", "CIB_file": str(cib)}

    def act(action: str) -> int:
        return _agent(tmp_path, action, "linbit:drbd", OCF_RESOURCE_INSTANCE="drbd", **clone).returncode

    def score() -> str | None:
        return promotion.transient(cibmod.read(cib), "node1", "master-drbd")

    assert [act("start"), act("monitor")] == [0, 0]
    assert score() == str(promotion.DEFAULT_SCORE)
    assert [act("promote"), act("monitor"), act("notify")] == [0, 8, 0]  # OCF_RUNNING_PROMOTED
    assert [act("demote"), act("monitor")] == [0, 0]
    assert act("stop") == 0 and score() is None  # a stopped instance has no score, as with the real agent
    (shared / "given-scores").write_text("master-drbd\n")  # the scenario sets it: left alone
    assert act("start") == 0 and score() is None
    assert "promote" in _agent(tmp_path, "meta-data", "linbit:drbd").stdout


def test_clean_refuses_another_tiers_run(tmp_path: Path) -> None:
    from harness.errors import HarnessError
    from harness.rundir import RunDir
    from harness.tiers.local.cluster import LocalLab

    run = RunDir.create("nested", tmp_path)
    run.update(nodes=2, pids=[1])
    with pytest.raises(HarnessError, match="not a local-tier run"):
        LocalLab.clean(run)
    assert run.path.exists()


def test_non_ocf_agents_become_ocf_stand_ins() -> None:
    agent, _ = standin.describe("systemd:libvirtd")
    assert (agent.provider, agent.type, agent.migrate, agent.name) == ("harness", "libvirtd", False, "systemd:libvirtd")


def test_an_unknown_absent_agent_migrates_when_the_configuration_allows_it() -> None:
    agent, _ = standin.describe("ocf:acme:KVMGuest", frozenset({"ocf:acme:KVMGuest"}))
    assert agent.migrate and agent.assumed and not agent.installed
    agent, _ = standin.describe("ocf:acme:KVMGuest")
    assert not agent.migrate and not agent.assumed


def test_cib_status_operations_are_checked_against_the_journal() -> None:
    import xml.etree.ElementTree as ET

    cib = ET.fromstring(
        '<cib><status><node_state uname="node2"><lrm><lrm_resources><lrm_resource id="vm">'
        '<lrm_rsc_op operation="migrate_from" last-rc-change="100" rc-code="0"/>'
        '<lrm_rsc_op operation="monitor" last-rc-change="100" rc-code="0"/>'
        '<lrm_rsc_op operation="start" last-rc-change="50" rc-code="0"/>'
        "</lrm_resource></lrm_resources></lrm></node_state></status></cib>"
    )
    assert observe.cib_operations(cib, 99.5) == {("vm", "migrate_from", "node2")}
    journal = observe.parse_journal("node2\tvm\tmigrate_from\t99.8\t99.9\t0\theartbeat:Xen\n")
    assert observe.unjournaled(cib, journal, 99.5) == []
    assert observe.unjournaled(cib, [], 99.5) == ["vm migrate_from on node2"]
