"""crmsh 4's ``ms`` (the classic DRBD master/slave form) on Debian 13's Pacemaker 3.0.0 and crmsh 5.0.

crmsh 5.0 writes ``ms`` as ``<master>``, which Pacemaker 3.0's newest schema (pacemaker-4.0) has
no more: the harness applies it under a Debian 12 CIB's schema and upgrades the CIB with the
release's own ``cibadmin --upgrade``, as an upgraded cluster's would be. The verdicts are checked
against crm_simulate's own Transition Summary on each case's CIB (the release's, in its root).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness import crmsh, release, releaseroot
from harness.cli import main
from harness.runner import run

CONFIGURATION = """\
primitive res_drbd ocf:linbit:drbd \\
\tparams drbd_resource="vm1" \\
\top monitor interval="15s" role="Master" \\
\top monitor interval="30s" role="Slave"
ms ms_drbd res_drbd \\
\tmeta master-max="2" notify="true" interleave="true"
primitive vm1 ocf:heartbeat:VirtualDomain \\
\tparams config="/etc/libvirt/qemu/vm1.xml" hypervisor="qemu:///system" migration_transport="ssh" \\
\tmeta allow-migrate="true" \\
\top monitor interval="10s" timeout="30s"
colocation vm1_on_drbd inf: vm1 ms_drbd:Master
order drbd_before_vm1 inf: ms_drbd:promote vm1:start
"""
SCENARIO = "name: drbd-ms\nnodes: [alice, bob]\nresources: [vm1]\nconfiguration: |\n" + "".join(
    f"  {line}\n" for line in CONFIGURATION.splitlines()
)
SCENARIO += "triggers: [move, standby, crash]\nexpect:\n  - trigger: crash\n    verdict: start\n  - verdict: migrate\n"
# crm_simulate's summary line for vm1, and the verdict it is.
_SUMMARY = re.compile(r"\* (Migrate|Move|Start|Stop)\s+vm1\s")
_VERDICT = {"Migrate": "migrate", "Move": "move", "Start": "start", "Stop": "stop"}


@pytest.mark.network
def test_ms_on_trixie_is_the_upgraded_clusters_promotable_clone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "drbd-ms.yaml"
    path.write_text(SCENARIO)
    keep = tmp_path / "keep"
    previous = release.active()
    try:
        code = main(["run", str(path), "--release", "trixie", "--json", "--keep", str(keep)])
        data = json.loads(capsys.readouterr().out)
        releaseroot.activate("trixie", progress=lambda _: None)
        summaries = {}
        for case in data["cases"]:
            cib = Path(case["evidence"]) / "cib-trigger.xml"
            fail = ["--node-fail", "alice"] if case["trigger"] == "crash" else []
            out = run(["crm_simulate", "--simulate", "--xml-file", str(cib), *fail], what="crm_simulate").stdout
            summary = out.split("Transition Summary:", 1)[1].split("Executing", 1)[0]
            found = _SUMMARY.search(summary)
            summaries[case["trigger"]] = _VERDICT[found.group(1)] if found else "stay"
            # The CIB is the upgraded cluster's: a promotable clone under the release's newest schema.
            text = cib.read_text()
            assert "<master" not in text and 'validate-with="pacemaker-4.0"' in text
            assert re.search(r'<clone id="ms_drbd">\s*<meta_attributes[^>]*>\s*<nvpair[^>]*name="promotable"', text)
    finally:
        release.activate(previous)
    seen = {c["trigger"]: c["verdicts"][0]["verdict"] for c in data["cases"]}
    assert code == 1  # the standby case: DRBD leaves alice, so the guest is moved (as on bookworm)
    assert {c["pacemaker"] for c in data["cases"]} == {"3.0.0"}
    assert seen == {"move": "migrate", "standby": "move", "crash": "start"}
    assert seen == summaries
    for case in data["cases"]:
        assert any(
            note.startswith("`ms ms_drbd` is `clone ms_drbd ... meta promotable=true` on Pacemaker 3.0.0")
            and "cibadmin --upgrade" in note
            for note in case["notes"]
        ), case["notes"]
        assert any(note.startswith("meta master-max kept as written") for note in case["notes"])


@pytest.mark.network
def test_schema_refusal_names_the_element_not_a_misspelling(tmp_path: Path) -> None:
    """crmsh 5's own refusal on a pacemaker-4.0 CIB (what the harness saw before): the message
    says the schema does not accept <master>, at the ms line, never the paramz hint."""
    previous = release.active()
    try:
        releaseroot.activate("trixie", progress=lambda _: None)
        cib = tmp_path / "cib.xml"
        cib.write_text(run(["cibadmin", "--empty"], what="empty CIB").stdout)
        crm = tmp_path / "c.crm"
        crm.write_text(CONFIGURATION)
        result = run(["crm", "configure", "load", "update", str(crm)], env={"CIB_file": str(cib)}, check=False)
        error = crmsh.rejection(
            result.stderr + result.stdout,
            CONFIGURATION,
            crmsh.Source(path="s.yaml", first_line=10),
            schema="pacemaker-4.0",
        )
    finally:
        release.activate(previous)
    assert not result.ok
    text = str(error)
    assert "schema pacemaker-4.0 does not accept <master>" in text and "Did not expect element master there" in text
    assert error.line == 14  # the ms statement: line 5 of the configuration
    assert "paramz" not in text


# What `cibadmin -Q` shows on a Debian 12 cluster for the configuration above (crmsh 4.4, pacemaker-3.9).
DEBIAN_12_CIB = """\
<cib validate-with="pacemaker-3.9" epoch="2" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config/>
    <nodes/>
    <resources>
      <master id="ms_drbd">
        <meta_attributes id="ms_drbd-meta_attributes">
          <nvpair name="master-max" value="2" id="ms_drbd-meta_attributes-master-max"/>
          <nvpair name="notify" value="true" id="ms_drbd-meta_attributes-notify"/>
        </meta_attributes>
        <primitive id="res_drbd" class="ocf" provider="linbit" type="drbd">
          <operations>
            <op name="monitor" interval="15s" role="Master" id="res_drbd-monitor-15s"/>
            <op name="monitor" interval="30s" role="Slave" id="res_drbd-monitor-30s"/>
          </operations>
        </primitive>
      </master>
      <primitive id="vm1" class="ocf" provider="heartbeat" type="VirtualDomain">
        <instance_attributes id="vm1-instance_attributes">
          <nvpair name="config" value="/etc/libvirt/qemu/vm1.xml" id="vm1-instance_attributes-config"/>
        </instance_attributes>
        <meta_attributes id="vm1-meta_attributes">
          <nvpair name="allow-migrate" value="true" id="vm1-meta_attributes-allow-migrate"/>
        </meta_attributes>
      </primitive>
    </resources>
    <constraints>
      <rsc_colocation id="vm1_on_drbd" score="INFINITY" rsc="vm1" with-rsc="ms_drbd" with-rsc-role="Master"/>
      <rsc_order id="drbd_before_vm1" kind="Mandatory" first="ms_drbd" first-action="promote" then="vm1"/>
    </constraints>
  </configuration>
</cib>
"""


@pytest.mark.network
def test_debian_12_cib_xml_with_master_is_upgraded_on_trixie(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "drbd-xml.yaml"
    body = "".join(f"  {line}\n" for line in DEBIAN_12_CIB.splitlines())
    path.write_text(
        f"name: drbd-xml\nnodes: [alice, bob]\nresources: [vm1]\ntriggers: [move]\nexpect: migrate\ncib: |\n{body}"
    )
    previous = release.active()
    try:
        code = main(["run", str(path), "--release", "trixie", "--json"])
    finally:
        release.activate(previous)
    (case,) = json.loads(capsys.readouterr().out)["cases"]
    assert code == 0 and case["verdicts"][0]["verdict"] == "migrate"
    assert any(
        n.startswith("`ms ms_drbd` is `clone ms_drbd ... meta promotable=true` on Pacemaker 3.0.0: the CIB XML holds")
        for n in case["notes"]
    ), case["notes"]
